"""The Lambda handler is thin: it routes the event, runs the monitor, emits a metric per outcome."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lfv_monitor.bootstrap import Monitor
from lfv_monitor.config import Settings
from lfv_monitor.domain.cycle import PollCycle
from lfv_monitor.domain.errors import ConfigurationError
from lfv_monitor.domain.models import JobKey
from lfv_monitor.domain.targets import TargetMessage
from lfv_monitor.handlers.models import started_job
from lfv_monitor.handlers.poll import lambda_handler
from lfv_monitor.lambda_context import LocalContext, scheduled_event
from lfv_monitor.observability import metrics
from tests.fakes import FakeClock, FakeJobSource, FakePublisher, InMemorySnapshotStore

SETTINGS = Settings.from_env(
    {"TABLE_NAME": "t-1", "EVENT_BUS_NAME": "bus", "TOPIC_ARN": "arn:aws:sns:us-east-1:1:t"}
)


def cloudtrail_event(project: str = "widgets", job: str = "cam-9", **detail: Any) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "7e1a1f6e-0000-4000-8000-000000000001",
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.lookoutvision",
        "account": "123456789012",
        "time": "2026-11-26T12:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": {
            "eventSource": "lookoutvision.amazonaws.com",
            "eventName": "StartModelPackagingJob",
            "requestParameters": {"projectName": project, "modelVersion": "1"},
            "responseElements": {"jobName": job},
            **detail,
        },
    }


@pytest.fixture
def world() -> tuple[Monitor, FakeJobSource, FakePublisher]:
    source = FakeJobSource()
    events = FakePublisher("events")
    cycle = PollCycle(
        source, InMemorySnapshotStore(), [events, FakePublisher("sns")], clock=FakeClock()
    )
    return Monitor(cycle=cycle, settings=SETTINGS), source, events


def emf(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    for line in capsys.readouterr().out.splitlines():
        if '"_aws"' in line and '"CycleSucceeded"' in line:
            blob: dict[str, Any] = json.loads(line)
            return blob
    raise AssertionError("no metrics were emitted")


def test_a_scheduled_event_runs_a_cycle_and_emits_metrics(
    world: tuple[Monitor, FakeJobSource, FakePublisher],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    # Given no metric left over by an earlier test's invocation (with metrics disabled,
    # Powertools keeps what was added on its process-wide Metrics object)
    metrics.clear_metrics()
    monitor, source, _ = world
    source.set("widgets", "cam", "RUNNING")
    summary = lambda_handler(scheduled_event("exec-1"), LocalContext(), service=monitor)  # type: ignore[arg-type]
    assert summary["baseline"] is True and summary["jobsSeen"] == 1
    blob = emf(capsys)
    assert blob["CycleSucceeded"] in (1.0, [1.0])
    names = {m["Name"] for m in blob["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert {
        "JobsSeen",
        "JobsDescribed",
        "Changes",
        "EventsPublished",
        "PublishFailures",
        "Throttles",
        "CycleDuration",
        "CycleSucceeded",
        "ServiceUnreachable",
    } <= names


def test_the_cycle_carries_the_schedule_execution_id_as_correlation_id(
    world: tuple[Monitor, FakeJobSource, FakePublisher],
) -> None:
    monitor, source, events = world
    lambda_handler(scheduled_event("exec-1"), LocalContext(), service=monitor)  # type: ignore[arg-type]
    source.set("widgets", "cam", "FAILED", "boom")
    lambda_handler(scheduled_event("exec-2"), LocalContext(), service=monitor)  # type: ignore[arg-type]
    (change,) = events.published
    assert change.correlation_id == "exec-2"


def test_a_cloudtrail_start_event_checks_that_job_at_once(
    world: tuple[Monitor, FakeJobSource, FakePublisher],
) -> None:
    monitor, source, events = world
    source.set("widgets", "old", "SUCCEEDED")
    lambda_handler(scheduled_event(), LocalContext(), service=monitor)  # type: ignore[arg-type]
    source.set("widgets", "cam-9", "CREATED", "queued")
    source.calls.clear()
    summary = lambda_handler(cloudtrail_event(), LocalContext(), service=monitor)  # type: ignore[arg-type]
    assert source.calls == ["DescribeModelPackagingJob widgets/cam-9"]  # no scan
    assert summary["announced"] == 1
    assert [(c.key, c.change_type.value) for c in events.published] == [
        (JobKey("widgets", "cam-9"), "DISCOVERED")
    ]


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (cloudtrail_event(), JobKey("widgets", "cam-9")),
        (cloudtrail_event(responseElements={"JobName": "x1"}), JobKey("widgets", "x1")),
        (cloudtrail_event(errorCode="AccessDeniedException"), None),  # the call failed
        (cloudtrail_event(eventName="DeleteProject"), None),
        (cloudtrail_event(requestParameters=None), None),  # malformed: ignored, not a crash
        (scheduled_event(), None),
        ({}, None),
    ],
)
def test_started_job_reads_only_successful_start_calls(
    event: dict[str, Any], expected: JobKey | None
) -> None:
    assert started_job(event) == expected


# -- issue 15: the target queue's SQS event -----------------------------------------------------


def target_event(body: object, message_id: str = "m-1") -> dict[str, Any]:
    text = body if isinstance(body, str) else json.dumps(body)
    return {"Records": [{"messageId": message_id, "body": text, "eventSource": "aws:sqs"}]}


class OneMonitor:
    """Stands in for the per-target monitors: every target gets ``monitor``."""

    def __init__(self, monitor: Monitor) -> None:
        self.monitor_of = monitor
        self.asked: list[TargetMessage] = []

    def monitor(self, message: TargetMessage) -> Monitor:
        self.asked.append(message)
        return self.monitor_of


def test_a_target_message_runs_one_cycle_of_that_target_with_its_target_dimension(
    world: tuple[Monitor, FakeJobSource, FakePublisher],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    metrics.clear_metrics()
    monitor, source, _ = world
    source.set("widgets", "cam", "RUNNING")
    fleet = OneMonitor(monitor)
    body = {
        "target": {"account": "111111111111", "region": "eu-west-1"},
        "period": 29_000_000,
        "roleArn": "arn:aws:iam::111111111111:role/lfv-monitor-reader",
    }
    # When the queue's event source mapping invokes the poller with one target message
    summary = lambda_handler(target_event(body), LocalContext(), targets=fleet)  # type: ignore[arg-type]
    # Then one cycle ran for that target, and its metrics carry the target dimension
    assert [m.target.id for m in fleet.asked] == ["111111111111:eu-west-1"]
    assert fleet.asked[0].role_arn == body["roleArn"]
    assert summary["target"] == "111111111111:eu-west-1" and summary["jobsSeen"] == 1
    blob = emf(capsys)
    assert blob["target"] == "111111111111:eu-west-1"
    assert sorted(blob["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0]) == ["service", "target"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("not json", "the body is not JSON"),
        ({"target": {"account": "1", "region": "eu-west-1"}, "period": 1}, "'1:eu-west-1'"),
        ({"target": {"account": "111111111111", "region": "eu-west-1"}}, "period must be"),
        (
            {
                "target": {"account": "111111111111", "region": "eu-west-1"},
                "period": 1,
                "roleArn": "lfv-monitor-reader",
            },
            "roleArn must be an IAM role ARN",
        ),
    ],
)
def test_a_message_that_is_no_target_message_fails_naming_it_and_why(
    world: tuple[Monitor, FakeJobSource, FakePublisher], body: object, reason: str
) -> None:
    # Given a message the dispatcher never wrote (it can never succeed: the DLQ keeps it)
    fleet = OneMonitor(world[0])
    # When the poller gets it, Then it raises naming the message and what is wrong
    with pytest.raises(ConfigurationError, match="target message m-7") as raised:
        lambda_handler(target_event(body, "m-7"), LocalContext(), targets=fleet)  # type: ignore[arg-type]
    assert reason in str(raised.value)
    assert fleet.asked == []
