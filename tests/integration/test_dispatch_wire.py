"""The dispatcher over real HTTP (moto server on 127.0.0.1): an organization with nested units,
a FIFO queue; what the poller's event source mapping would receive."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import boto3

from lfv_monitor.bootstrap import build_dispatcher
from lfv_monitor.dispatch_config import DispatchSettings
from lfv_monitor.domain.dispatch import period_number

AT = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def _session(aws_endpoint: str, monkeypatch: Any) -> boto3.Session:
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws_endpoint)
    return boto3.Session(region_name="us-east-1")


def _organization(session: boto3.Session) -> tuple[str, str, list[str]]:
    """A root-level unit `plants` with one account and a nested unit `line-2` with another."""
    org = session.client("organizations")
    org.create_organization(FeatureSet="ALL")
    root = org.list_roots()["Roots"][0]["Id"]
    plants = org.create_organizational_unit(ParentId=root, Name="plants")["OrganizationalUnit"]
    line2 = org.create_organizational_unit(ParentId=plants["Id"], Name="line-2")[
        "OrganizationalUnit"
    ]
    accounts = []
    for name, unit in (("plant-1", plants["Id"]), ("line-2", line2["Id"])):
        status = org.create_account(AccountName=name, Email=f"{name}@example.com")
        account = status["CreateAccountStatus"]["AccountId"]
        org.move_account(AccountId=account, SourceParentId=root, DestinationParentId=unit)
        accounts.append(account)
    monitor = org.describe_organization()["Organization"]["MasterAccountId"]
    return monitor, plants["Id"], accounts


def _received(session: boto3.Session, queue_url: str) -> list[dict[str, Any]]:
    sqs = session.client("sqs")
    out: list[dict[str, Any]] = []
    while True:
        answer = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]
        )
        batch = answer.get("Messages", [])
        if not batch:
            return out
        for message in batch:
            out.append(
                {**json.loads(message["Body"]), "group": message["Attributes"]["MessageGroupId"]}
            )
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def test_every_active_account_of_the_unit_tree_and_each_static_target_gets_one_message(
    aws_endpoint: str, monkeypatch: Any
) -> None:
    # Given an organization with a nested unit, and the monitor's FIFO queue
    session = _session(aws_endpoint, monkeypatch)
    monitor, plants, accounts = _organization(session)
    queue_url = session.client("sqs").create_queue(
        QueueName="targets.fifo", Attributes={"FifoQueue": "true"}
    )["QueueUrl"]
    settings = DispatchSettings.from_env(
        {
            "TARGET_QUEUE_URL": queue_url,
            "MONITOR_ACCOUNT_ID": monitor,
            "TARGETS": f"{monitor}:us-east-1",
            "ORGANIZATIONAL_UNIT_IDS": plants,
            "TARGET_REGIONS": "eu-west-1,us-east-1",
        }
    )
    dispatcher = build_dispatcher(settings, session=session)
    # When one period is dispatched twice (a retried schedule invocation)
    first = dispatcher.dispatch(AT)
    dispatcher.dispatch(AT)
    # Then each target got exactly one message, grouped by its id
    messages = _received(session, queue_url)
    period = period_number(AT, 60)
    expected = [(monitor, "us-east-1", None)] + [
        (account, region, f"arn:aws:iam::{account}:role/lfv-monitor-reader")
        for account in accounts
        for region in ("eu-west-1", "us-east-1")
    ]
    assert sorted(
        (m["target"]["account"], m["target"]["region"], m["roleArn"]) for m in messages
    ) == sorted(expected, key=lambda t: (t[0], t[1]))
    assert all(m["period"] == period for m in messages)
    assert all(m["group"] == f"{m['target']['account']}:{m['target']['region']}" for m in messages)
    assert (first.dispatched, first.dispatch_failures) == (5, 0)


def test_a_unit_moto_does_not_know_is_a_failure_and_the_static_target_is_still_queued(
    aws_endpoint: str, monkeypatch: Any
) -> None:
    session = _session(aws_endpoint, monkeypatch)
    monitor, _, _ = _organization(session)
    queue_url = session.client("sqs").create_queue(
        QueueName="targets.fifo", Attributes={"FifoQueue": "true"}
    )["QueueUrl"]
    settings = DispatchSettings.from_env(
        {
            "TARGET_QUEUE_URL": queue_url,
            "MONITOR_ACCOUNT_ID": monitor,
            "TARGETS": "111111111111:eu-west-1",
            "ORGANIZATIONAL_UNIT_IDS": "ou-zz99-99999999",
            "AWS_REGION": "eu-west-1",
        }
    )
    report = build_dispatcher(settings, session=session).dispatch(AT)
    assert report.dispatched == 1
    assert report.dispatch_failures == 1
    assert "ou-zz99-99999999" in report.failures[0]
    assert [m["target"]["account"] for m in _received(session, queue_url)] == ["111111111111"]
