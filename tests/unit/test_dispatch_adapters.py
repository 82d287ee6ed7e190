"""The dispatcher's adapters on botocore's Stubber: every page read, only ACTIVE accounts, ten
messages a call, each entry's failure counted."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from lfv_monitor.adapters.organizations import OrganizationsDirectory
from lfv_monitor.adapters.sqs import SqsTargetQueue
from lfv_monitor.domain.errors import AccessDeniedError
from lfv_monitor.domain.targets import Target, TargetMessage

OU = "ou-ab12-11111111"
QUEUE = "https://sqs.us-east-1.amazonaws.com/123456789012/lfv-monitor-targets.fifo"


def _client(service: str) -> Any:
    return boto3.Session(region_name="us-east-1").client(service)


def _account(number: int, **state: str) -> dict[str, Any]:
    account = f"{number:012d}"
    return {"Id": account, "Arn": f"arn:aws:organizations::1:account/o-x/{account}", **state}


def test_accounts_are_read_over_every_page_and_only_active_ones_kept() -> None:
    client = _client("organizations")
    with Stubber(client) as stub:
        stub.add_response(
            "list_accounts_for_parent",
            {
                "Accounts": [_account(1, Status="ACTIVE"), _account(2, Status="SUSPENDED")],
                "NextToken": "page-2",
            },
            {"ParentId": OU},
        )
        stub.add_response(
            "list_accounts_for_parent",
            {"Accounts": [_account(3, State="ACTIVE"), _account(4, State="PENDING_CLOSURE")]},
            {"ParentId": OU, "NextToken": "page-2"},
        )
        assert OrganizationsDirectory(client).active_accounts(OU) == [
            "000000000001",
            "000000000003",
        ]


def test_child_units_are_read_over_every_page() -> None:
    client = _client("organizations")
    with Stubber(client) as stub:
        stub.add_response(
            "list_organizational_units_for_parent",
            {"OrganizationalUnits": [{"Id": "ou-ab12-22222222"}], "NextToken": "n"},
            {"ParentId": OU},
        )
        stub.add_response(
            "list_organizational_units_for_parent",
            {"OrganizationalUnits": [{"Id": "ou-ab12-33333333"}]},
            {"ParentId": OU, "NextToken": "n"},
        )
        assert OrganizationsDirectory(client).child_units(OU) == [
            "ou-ab12-22222222",
            "ou-ab12-33333333",
        ]


def test_a_member_account_that_may_not_list_the_organization_is_access_denied() -> None:
    client = _client("organizations")
    with Stubber(client) as stub:
        stub.add_client_error("list_accounts_for_parent", "AccessDeniedException")
        with pytest.raises(AccessDeniedError, match=OU):
            OrganizationsDirectory(client).active_accounts(OU)


def _messages(count: int) -> list[TargetMessage]:
    return [TargetMessage(Target(f"{n:012d}", "eu-west-1"), 7, None) for n in range(count)]


def test_messages_go_ten_a_call_and_a_failed_entry_is_not_reported_sent() -> None:
    client = _client("sqs")
    messages = _messages(12)
    with Stubber(client) as stub:
        stub.add_response(
            "send_message_batch",
            {
                "Successful": [
                    {"Id": str(i), "MessageId": f"m{i}", "MD5OfMessageBody": "x"}
                    for i in range(10)
                    if i != 3
                ],
                "Failed": [{"Id": "3", "SenderFault": False, "Code": "InternalError"}],
            },
        )
        stub.add_response(
            "send_message_batch",
            {
                "Successful": [
                    {"Id": str(i), "MessageId": f"n{i}", "MD5OfMessageBody": "x"} for i in range(2)
                ],
                "Failed": [],
            },
        )
        sent = SqsTargetQueue(QUEUE, client).send(messages)
    assert len(sent) == 11
    assert messages[3].deduplication_id not in sent


def test_an_sdk_error_fails_only_its_batch() -> None:
    client = _client("sqs")
    messages = _messages(11)
    with Stubber(client) as stub:
        stub.add_client_error("send_message_batch", "AWS.SimpleQueueService.ThrottledException")
        stub.add_response(
            "send_message_batch",
            {"Successful": [{"Id": "0", "MessageId": "m", "MD5OfMessageBody": "x"}], "Failed": []},
        )
        sent = SqsTargetQueue(QUEUE, client).send(messages)
    assert sent == {messages[10].deduplication_id}


def test_each_entry_carries_the_group_the_deduplication_id_and_the_body() -> None:
    client = _client("sqs")
    (message,) = _messages(1)
    expected = {
        "QueueUrl": QUEUE,
        "Entries": [
            {
                "Id": "0",
                "MessageBody": json.dumps(message.body(), sort_keys=True),
                "MessageGroupId": "000000000000:eu-west-1",
                "MessageDeduplicationId": "000000000000:eu-west-1#7",
            }
        ],
    }
    with Stubber(client) as stub:
        stub.add_response(
            "send_message_batch",
            {"Successful": [{"Id": "0", "MessageId": "m", "MD5OfMessageBody": "x"}], "Failed": []},
            expected,
        )
        assert SqsTargetQueue(QUEUE, client).send([message]) == {message.deduplication_id}
