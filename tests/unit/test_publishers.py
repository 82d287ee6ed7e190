"""The publishers against in-memory fake clients: batching, partial failures, what is returned."""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Sequence
from dataclasses import replace
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from lfv_monitor.adapters.eventbridge import EventBridgePublisher
from lfv_monitor.adapters.sns import SnsNotifier
from lfv_monitor.domain.events import DETAIL_TYPE
from lfv_monitor.domain.models import ChangeType
from tests.support.changes import OBSERVED, make_change, many_changes

TOPIC = "arn:aws:sns:us-east-1:123456789012:lfv"


class FakeEvents:
    """PutEvents: rejects entries whose detail names a job in ``reject``; raises per call."""

    def __init__(
        self, reject: Collection[str] = (), errors: Sequence[Exception | None] = ()
    ) -> None:
        self.reject = reject
        self.errors = list(errors)
        self.calls: list[list[dict[str, Any]]] = []

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.calls.append(Entries)
        if self.errors:
            error = self.errors.pop(0)
            if error is not None:
                raise error
        results: list[dict[str, str]] = []
        for n, entry in enumerate(Entries):
            if json.loads(entry["Detail"])["jobName"] in self.reject:
                results.append({"ErrorCode": "InternalFailure", "ErrorMessage": "try again"})
            else:
                results.append({"EventId": f"eb-{len(self.calls)}-{n}"})
        failed = sum(1 for r in results if "ErrorCode" in r)
        return {"FailedEntryCount": failed, "Entries": results}


class FakeSns:
    """PublishBatch: fails entries whose job attribute is in ``reject``; raises per call."""

    def __init__(
        self, reject: Collection[str] = (), errors: Sequence[Exception | None] = ()
    ) -> None:
        self.reject = reject
        self.errors = list(errors)
        self.calls: list[dict[str, Any]] = []

    def publish_batch(
        self,
        TopicArn: str,
        PublishBatchRequestEntries: list[dict[str, Any]],
    ) -> dict[str, Any]:
        self.calls.append({"TopicArn": TopicArn, "Entries": PublishBatchRequestEntries})
        if self.errors:
            error = self.errors.pop(0)
            if error is not None:
                raise error
        ok, failed = [], []
        for entry in PublishBatchRequestEntries:
            if entry["MessageAttributes"]["job"]["StringValue"] in self.reject:
                failed.append({"Id": entry["Id"], "Code": "InternalError", "SenderFault": False})
            else:
                ok.append({"Id": entry["Id"], "MessageId": "m-" + entry["Id"][:8]})
        return {"Successful": ok, "Failed": failed}


def throttled(operation: str) -> ClientError:
    return ClientError(
        {"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, operation
    )


# --- EventBridge -----------------------------------------------------------------------------


def test_eventbridge_puts_23_changes_in_three_calls_of_at_most_ten() -> None:
    # Given 23 changes
    client = FakeEvents()
    changes = many_changes(23)
    # When they are published
    delivered = EventBridgePublisher("lfv-bus", client=client).publish(changes)
    # Then three PutEvents calls carry them all, and every id is reported delivered
    assert [len(call) for call in client.calls] == [10, 10, 3]
    assert delivered == {c.event_id for c in changes}


def test_eventbridge_entry_is_the_documented_event() -> None:
    client = FakeEvents()
    change = make_change()
    EventBridgePublisher("lfv-bus", source="acme.lfv", client=client).publish([change])
    (entry,) = client.calls[0]
    assert entry["EventBusName"] == "lfv-bus"
    assert entry["Source"] == "acme.lfv"
    assert entry["DetailType"] == DETAIL_TYPE
    assert entry["Resources"] == [change.project_arn]
    assert entry["Time"] == OBSERVED
    assert json.loads(entry["Detail"])["eventId"] == change.event_id


def test_eventbridge_without_project_arn_sends_no_resources() -> None:
    client = FakeEvents()
    EventBridgePublisher("lfv-bus", client=client).publish([make_change(project_arn=None)])
    assert "Resources" not in client.calls[0][0]


def test_eventbridge_rejected_entries_are_not_reported_delivered() -> None:
    # Given EventBridge rejects two of five entries
    client = FakeEvents(reject={"job-1", "job-3"})
    changes = many_changes(5)
    # When published
    delivered = EventBridgePublisher("lfv-bus", client=client).publish(changes)
    # Then only the three accepted ids come back
    assert delivered == {changes[i].event_id for i in (0, 2, 4)}


def test_eventbridge_error_on_one_chunk_keeps_the_other_chunks(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given the second of three calls is throttled and the third cannot connect
    client = FakeEvents(
        errors=[None, throttled("PutEvents"), EndpointConnectionError(endpoint_url="http://x")]
    )
    changes = many_changes(23)
    # When published
    delivered = EventBridgePublisher("lfv-bus", client=client).publish(changes)
    # Then only the first ten are delivered, nothing is raised, and the failures are logged
    assert delivered == {c.event_id for c in changes[:10]}
    failures = [r for r in caplog.records if r.getMessage() == "PutEvents failed"]
    assert [getattr(r, "error_code", None) for r in failures] == ["ThrottlingException", None]
    assert failures[1].error == "EndpointConnectionError"
    assert failures[0].event_ids == [c.event_id for c in changes[10:20]]


def test_eventbridge_publishes_a_duplicate_change_once() -> None:
    client = FakeEvents()
    change = make_change()
    assert EventBridgePublisher("b", client=client).publish([change, change]) == {change.event_id}
    assert len(client.calls[0]) == 1


def test_eventbridge_refuses_an_aws_source() -> None:
    with pytest.raises(
        ValueError, match=re.escape("source 'aws.lookoutvision' must not start with 'aws.'")
    ):
        EventBridgePublisher("bus", source="aws.lookoutvision", client=FakeEvents())


# --- SNS -------------------------------------------------------------------------------------


def test_sns_publishes_23_changes_in_three_batches_of_at_most_ten() -> None:
    client = FakeSns()
    changes = many_changes(23)
    delivered = SnsNotifier(TOPIC, client=client).publish(changes)
    assert [len(call["Entries"]) for call in client.calls] == [10, 10, 3]
    assert {call["TopicArn"] for call in client.calls} == {TOPIC}
    assert delivered == {c.event_id for c in changes}


def test_sns_entry_has_subject_attributes_and_per_protocol_bodies() -> None:
    client = FakeSns()
    change = make_change(previous_status=None, change_type=ChangeType.DISCOVERED, status="RUNNING")
    change = replace(change, account="111111111111", region="eu-west-1")
    SnsNotifier(TOPIC, client=client).publish([change])
    (entry,) = client.calls[0]["Entries"]
    assert entry["Id"] == change.event_id
    assert entry["MessageStructure"] == "json"
    assert entry["Subject"] == "RUNNING: new packaging job cam-7 in project widgets"
    assert {k: v["StringValue"] for k, v in entry["MessageAttributes"].items()} == {
        "account": "111111111111",
        "region": "eu-west-1",
        "project": "widgets",
        "job": "cam-7",
        "status": "RUNNING",
        "previous_status": "NONE",
        "change_type": "DISCOVERED",
    }
    assert {v["DataType"] for v in entry["MessageAttributes"].values()} == {"String"}
    bodies = json.loads(entry["Message"])
    assert json.loads(bodies["sqs"])["eventId"] == change.event_id
    assert bodies["sqs"] == bodies["lambda"]
    chat = json.loads(bodies["default"])
    assert chat["version"] == "1.0" and chat["source"] == "custom"
    assert chat["content"]["textType"] == "client-markdown"
    assert chat["metadata"]["threadId"] == "111111111111/eu-west-1/widgets/cam-7"
    assert "RUNNING" in chat["content"]["title"]
    assert "Compilation failed" in chat["content"]["description"]
    assert "*Account:* `111111111111`  *region:* `eu-west-1`" in chat["content"]["description"]
    assert "cam-7" in bodies["email"] and "Previous status:" in bodies["email"]
    assert "Account:" in bodies["email"] and "111111111111" in bodies["email"]
    assert "Region:" in bodies["email"] and "eu-west-1" in bodies["email"]
    assert (
        "lfv-monitor history --table <TABLE_NAME> --project widgets --job cam-7 "
        "--job-account 111111111111 --job-region eu-west-1"
    ) in bodies["email"]


def test_sns_failed_entries_are_not_reported_delivered(caplog: pytest.LogCaptureFixture) -> None:
    client = FakeSns(reject={"job-2"})
    changes = many_changes(4)
    delivered = SnsNotifier(TOPIC, client=client).publish(changes)
    assert delivered == {changes[i].event_id for i in (0, 1, 3)}
    (record,) = [r for r in caplog.records if r.getMessage() == "PublishBatch rejected an entry"]
    assert record.event_id == changes[2].event_id
    assert record.error_code == "InternalError"


def test_sns_error_on_one_batch_keeps_the_other_batches() -> None:
    client = FakeSns(errors=[throttled("PublishBatch"), None])
    changes = many_changes(12)
    delivered = SnsNotifier(TOPIC, client=client).publish(changes)
    assert delivered == {c.event_id for c in changes[10:]}


def test_sns_packs_batches_by_size_as_well_as_count() -> None:
    # Given messages made of quotes, the most expensive text to escape (about 70 KB an entry)
    client = FakeSns()
    changes = [
        make_change(
            job=f"job-{i}", status_message='"' * 100_000, previous_status_message="\\" * 100_000
        )
        for i in range(10)
    ]
    delivered = SnsNotifier(TOPIC, client=client).publish(changes)
    # Then no batch exceeds 256 KiB, and all are delivered
    assert len(client.calls) > 1
    for call in client.calls:
        assert sum(len(e["Message"].encode()) for e in call["Entries"]) <= 262_144
    assert delivered == {c.event_id for c in changes}


def test_sns_refuses_a_topic_that_is_not_an_arn() -> None:
    with pytest.raises(ValueError, match=re.escape("topic_arn 'lfv' is not an SNS topic ARN")):
        SnsNotifier("lfv", client=FakeSns())


def test_chat_and_email_bodies_of_a_huge_message_stay_readable() -> None:
    # Given a failure with a 1 MiB status message
    client = FakeSns()
    SnsNotifier(TOPIC, client=client).publish([make_change(status_message="é" * 1_048_576)])
    bodies = json.loads(client.calls[0]["Entries"][0]["Message"])
    # Then the chat shows a short excerpt and says it was shortened
    description = json.loads(bodies["default"])["content"]["description"]
    assert "[shortened here; the email, the event and the history have more]" in description
    assert len(description.encode()) < 2_000
    # And the email shows the event's text with the history's length and the query to read it all
    assert "[truncated, 1048576 chars in full; see the history]" in bodies["email"]
    assert "statusMessage" in bodies["email"] and "lfv-monitor history" in bodies["email"]
