"""Both publishers over real HTTP against moto server: rules, filter policies, batching."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lfv_monitor.adapters.eventbridge import EventBridgePublisher
from lfv_monitor.adapters.sns import SnsNotifier
from lfv_monitor.clients import aws_client
from lfv_monitor.domain.events import build_detail
from tests.support.changes import many_changes

DOCS = (Path(__file__).resolve().parents[2] / "docs/events.md").read_text(encoding="utf-8")


def documented(kind: str, name: str) -> str:
    match = re.search(rf"<!-- {kind}: {name} -->\s*```json\n(.*?)```", DOCS, re.S)
    assert match, f"docs/events.md has no {kind} named {name}"
    return match.group(1)


@pytest.fixture
def client(aws_endpoint: str) -> Iterator[Any]:
    def make(service: str) -> Any:
        return aws_client(service, endpoint_url=aws_endpoint, region_name="us-east-1")

    yield make


def new_queue(sqs: Any, name: str) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return url, arn


def drain(sqs: Any, url: str) -> list[str]:
    bodies: list[str] = []
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return bodies
        for message in messages:
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def test_failures_rule_on_a_custom_bus_delivers_exactly_the_failed_events(client: Any) -> None:
    # Given a custom bus whose rule is the documented "all failures" pattern, targeting a queue
    events, sqs = client("events"), client("sqs")
    events.create_event_bus(Name="lfv-bus")
    url, arn = new_queue(sqs, "failures")
    events.put_rule(
        Name="failures", EventBusName="lfv-bus", EventPattern=documented("pattern", "all-failures")
    )
    events.put_targets(Rule="failures", EventBusName="lfv-bus", Targets=[{"Id": "q", "Arn": arn}])
    calls: list[int] = []
    events.meta.events.register(
        "before-parameter-build.events.PutEvents",
        lambda params, **_: calls.append(len(params["Entries"])),
    )
    # When 23 changes are published, 8 of them failures
    failed = many_changes(8, status="FAILED")
    succeeded = [
        c
        for c in many_changes(23, status="SUCCEEDED")
        if c.key.job not in {f.key.job for f in failed}
    ][:15]
    changes = [*failed[:4], *succeeded, *failed[4:]]
    delivered = EventBridgePublisher("lfv-bus", client=events).publish(changes)
    # Then every change was accepted, in PutEvents calls of 10, 10 and 3
    assert delivered == {c.event_id for c in changes}
    assert calls == [10, 10, 3]
    # And the queue holds exactly the failed events, as documented
    received = [json.loads(body) for body in drain(sqs, url)]
    assert sorted(e["detail"]["eventId"] for e in received) == sorted(c.event_id for c in failed)
    by_id = {c.event_id: c for c in failed}
    for event in received:
        assert event["detail-type"] == "Lookout for Vision Model Packaging Job State Change"
        assert event["source"] == "lfv-monitor"
        assert event["resources"] == [by_id[event["detail"]["eventId"]].project_arn]
        assert event["detail"] == build_detail(by_id[event["detail"]["eventId"]])


def test_unknown_bus_marks_every_change_undelivered(client: Any) -> None:
    # Given a bus that does not exist
    publisher = EventBridgePublisher("no-such-bus", client=client("events"))
    # When publishing, nothing is raised and nothing is reported delivered
    assert publisher.publish(many_changes(3)) == set()


def test_failed_filter_policy_on_an_sqs_subscription_gets_only_failures(client: Any) -> None:
    # Given a topic with two queue subscriptions: raw delivery filtered on status FAILED,
    # and an unfiltered one with the SNS envelope
    sns, sqs = client("sns"), client("sqs")
    topic = sns.create_topic(Name="lfv-changes")["TopicArn"]
    failures_url, failures_arn = new_queue(sqs, "sns-failures")
    all_url, all_arn = new_queue(sqs, "sns-all")
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=failures_arn,
        Attributes={
            "RawMessageDelivery": "true",
            "FilterPolicy": documented("filter-policy", "only-failed"),
        },
    )
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=all_arn)
    calls: list[int] = []
    sns.meta.events.register(
        "before-parameter-build.sns.PublishBatch",
        lambda params, **_: calls.append(len(params["PublishBatchRequestEntries"])),
    )
    # When 13 changes are published, 5 of them failures
    failed = many_changes(5, status="FAILED", project="widgets")
    running = many_changes(8, status="RUNNING", project="gadgets")
    changes = [*running[:3], *failed, *running[3:]]
    delivered = SnsNotifier(topic, client=sns).publish(changes)
    # Then all are accepted in two batches
    assert delivered == {c.event_id for c in changes}
    assert calls == [10, 3]
    # And the filtered queue got exactly the failures, each body the event detail JSON
    bodies = [json.loads(b) for b in drain(sqs, failures_url)]
    assert sorted(b["eventId"] for b in bodies) == sorted(c.event_id for c in failed)
    by_id = {c.event_id: c for c in failed}
    for body in bodies:
        assert body == build_detail(by_id[body["eventId"]])
    # And the unfiltered queue got all 13, in the SNS envelope with subject and attributes
    envelopes = [json.loads(b) for b in drain(sqs, all_url)]
    assert len(envelopes) == 13
    example = next(e for e in envelopes if json.loads(e["Message"])["status"] == "FAILED")
    assert example["Subject"].startswith("FAILED: packaging job job-")
    assert example["MessageAttributes"]["status"]["Value"] == "FAILED"
    assert example["MessageAttributes"]["previous_status"]["Value"] == "RUNNING"


def test_unknown_topic_marks_every_change_undelivered(client: Any) -> None:
    notifier = SnsNotifier("arn:aws:sns:us-east-1:123456789012:missing", client=client("sns"))
    assert notifier.publish(many_changes(2)) == set()
