"""Issue 15 end to end over real HTTP on 127.0.0.1: moto server (STS and the member roles,
DynamoDB, EventBridge, SNS, SQS FIFO) and the simulator serving several accounts and regions.

Each period the dispatcher's handler queues one message per target; the test reads the FIFO
queue from moto and invokes the poller's handler with each message as Lambda's event source
mapping would (batch size 1), one warm container's per-target monitors across periods.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from lfv_monitor.bootstrap import build_dispatcher
from lfv_monitor.config import Settings
from lfv_monitor.dispatch_config import DispatchSettings
from lfv_monitor.fleet import Fleet, build_fleet
from lfv_monitor.handlers.dispatch import lambda_handler as dispatch_handler
from lfv_monitor.handlers.poll import lambda_handler as poll_handler
from lfv_monitor.lambda_context import LocalContext
from lfv_monitor.observability import metrics
from lfv_workbench.demo.organization import sqs_event
from lfv_workbench.local.up import LOCAL_CREDENTIALS, LocalStack, drain

HOME = "123456789012:us-east-1"
MEMBER_US = "111111111111:us-east-1"
MEMBER_EU = "111111111111:eu-west-1"
DENIED = "222222222222:eu-west-1"  # its member role was never deployed
AT = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)

#: Its own stack name: moto keeps every stack of the process (other modules deploy theirs).
STACK = "lfv-monitor-targets"


def _job(name: str, *steps: tuple[int, str]) -> dict[str, Any]:
    return {"name": name, "timeline": [{"at": at, "status": s} for at, s in steps]}


SCENARIO: dict[str, Any] = {
    "start_time": "2026-11-30T12:00:00Z",
    "account_id": "123456789012",
    "region": "us-east-1",
    "projects": [{"name": "hq", "jobs": [_job("cam-1", (0, "RUNNING"), (100, "FAILED"))]}],
    "accounts": [
        {
            "account": "111111111111",
            "region": "us-east-1",
            "member_role": True,
            "projects": [
                {"name": "plant-us", "jobs": [_job("cam-u", (0, "RUNNING"), (100, "SUCCEEDED"))]}
            ],
        },
        {
            "account": "111111111111",
            "region": "eu-west-1",
            "member_role": True,
            "projects": [
                {
                    "name": "plant-eu",
                    "jobs": [_job("cam-e", (0, "CREATED"), (100, "RUNNING"), (200, "SUCCEEDED"))],
                }
            ],
        },
        {
            "account": "222222222222",
            "region": "eu-west-1",
            "member_role": False,
            "projects": [
                {"name": "plant-x", "jobs": [_job("cam-x", (0, "RUNNING"), (100, "FAILED"))]}
            ],
        },
    ],
}


@dataclass
class Run:
    """What the periods produced: per period and target, the poller's summaries; the events and
    notifications delivered; the EMF metric records the poller printed."""

    stack: LocalStack
    summaries: list[dict[str, dict[str, Any]]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    notifications: list[dict[str, Any]] = field(default_factory=list)
    emf: list[dict[str, Any]] = field(default_factory=list)


def _settings(stack: LocalStack) -> Settings:
    info = stack.info
    return Settings.from_env(
        {
            "TABLE_NAME": info.table_name,
            "EVENT_BUS_NAME": info.event_bus_name,
            "TOPIC_ARN": info.topic_arn,
            "ACTIVE_POLL_INTERVAL": "0",
            "LFV_RATE_PER_SECOND": "50",
            "AWS_ENDPOINT_URL_LOOKOUTVISION": info.simulator_url,
            "MONITOR_ACCOUNT_ID": "123456789012",
            "STACK_NAME": info.stack_name,
        }
    )


def _session(stack: LocalStack) -> boto3.Session:
    return boto3.Session(
        region_name=stack.info.region,
        aws_access_key_id=LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


def _queue(stack: LocalStack) -> tuple[str, str]:
    sqs = stack.client("sqs")
    url: str = sqs.get_queue_url(QueueName=f"{stack.info.stack_name}-targets.fifo")["QueueUrl"]
    arn: str = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return url, arn


def _period(
    stack: LocalStack, fleet: Fleet, targets: str, n: int, *, twice: bool = False
) -> dict[str, dict[str, Any]]:
    """Dispatch period ``n`` for ``targets``, then poll each queued message (``twice``: every
    message delivered again, as SQS may); the summaries by target id."""
    url, arn = _queue(stack)
    dispatcher = build_dispatcher(
        DispatchSettings.from_env(
            {"TARGET_QUEUE_URL": url, "MONITOR_ACCOUNT_ID": "123456789012", "TARGETS": targets}
        ),
        session=_session(stack),
    )
    when = (AT + timedelta(minutes=n)).isoformat().replace("+00:00", "Z")
    dispatched = dispatch_handler({"time": when}, LocalContext(), service=dispatcher)  # type: ignore[arg-type]
    assert dispatched["failures"] == []
    sqs = stack.client("sqs")
    summaries: dict[str, dict[str, Any]] = {}
    while True:
        batch = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=1, AttributeNames=["All"]
        ).get("Messages", [])
        if not batch:
            return summaries
        (message,) = batch
        event = sqs_event(message, queue_arn=arn, region=stack.info.region)
        summary = poll_handler(event, LocalContext(), targets=fleet)  # type: ignore[arg-type]
        if twice:
            poll_handler(event, LocalContext(), targets=fleet)  # type: ignore[arg-type]
        summaries[str(summary["target"])] = summary
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def _emf(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if '"CycleSucceeded"' in line]


@pytest.fixture(scope="module")
def run() -> Iterator[Run]:
    with (
        pytest.MonkeyPatch.context() as patch,
        LocalStack(speed=0, scenario=SCENARIO, stack_name=STACK) as stack,
    ):
        for name, value in stack.info.env().items():
            patch.setenv(name, value)
        patch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
        metrics.clear_metrics()
        capture = _Capture()
        fleet = build_fleet(_settings(stack), session=_session(stack))
        result = Run(stack)
        control = stack.control
        before = ",".join((HOME, MEMBER_US, DENIED))
        after = ",".join((HOME, MEMBER_US, MEMBER_EU, DENIED))
        with capture:
            control.set_time(10)
            result.summaries.append(_period(stack, fleet, before, 1))
            control.set_time(150)  # MEMBER_EU joins the configuration here
            result.summaries.append(_period(stack, fleet, after, 2, twice=True))
            control.set_time(250)
            result.summaries.append(_period(stack, fleet, after, 3))
        sqs = stack.client("sqs")
        result.events = drain(sqs, stack.info.events_queue_url)
        result.notifications = drain(sqs, stack.info.notifications_queue_url)
        result.emf = _emf(capture.text)
        yield result


class _Capture:
    """stdout while the periods run (Powertools prints each EMF metric record there)."""

    def __enter__(self) -> _Capture:
        import contextlib
        import io

        self._buffer = io.StringIO()
        self._redirect = contextlib.redirect_stdout(self._buffer)
        self._redirect.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._redirect.__exit__(None, None, None)
        self.text = self._buffer.getvalue()


def _details(run: Run) -> list[dict[str, Any]]:
    return [e["detail"] for e in run.events]


def test_every_targets_change_is_recorded_and_announced_once_with_its_account_and_region(
    run: Run,
) -> None:
    # Given four targets, the third added in period 2, the fourth without its member role
    # Then each watched target's change is announced once, naming its account and region
    announced = sorted(
        (d["account"], d["region"], d["projectName"], d["jobName"], d["status"])
        for d in _details(run)
    )
    assert announced == [
        ("111111111111", "eu-west-1", "plant-eu", "cam-e", "SUCCEEDED"),
        ("111111111111", "us-east-1", "plant-us", "cam-u", "SUCCEEDED"),
        ("123456789012", "us-east-1", "hq", "cam-1", "FAILED"),
    ]
    # and notified once each, with the account and region as filterable SNS attributes
    attributes = sorted(
        (
            n["MessageAttributes"]["account"]["Value"],
            n["MessageAttributes"]["region"]["Value"],
            n["MessageAttributes"]["job"]["Value"],
        )
        for n in run.notifications
    )
    assert attributes == [
        ("111111111111", "eu-west-1", "cam-e"),
        ("111111111111", "us-east-1", "cam-u"),
        ("123456789012", "us-east-1", "cam-1"),
    ]
    # and a message delivered twice (period 2) recorded nothing twice
    assert len({d["eventId"] for d in _details(run)}) == 3


def test_each_targets_history_is_its_own_in_the_one_table(run: Run) -> None:
    # Then the member's history is under its own keys, the home target's under the old ones
    table = run.stack.client("dynamodb")
    name = run.stack.info.table_name

    def history(pk: str) -> list[str]:
        items = table.query(
            TableName=name,
            KeyConditionExpression="pk = :p AND begins_with(sk, :v)",
            ExpressionAttributeValues={":p": {"S": pk}, ":v": {"S": "V#"}},
        )["Items"]
        return [i["change_type"]["S"] for i in items]

    assert history("JOB#hq#cam-1") == ["BASELINE", "STATUS"]
    assert history("JOB#111111111111#us-east-1#plant-us#cam-u") == ["BASELINE", "STATUS"]
    assert history("JOB#111111111111#eu-west-1#plant-eu#cam-e") == ["BASELINE", "STATUS"]
    assert history("JOB#222222222222#eu-west-1#plant-x#cam-x") == []


def test_a_denied_target_is_isolated_and_visible_in_its_health_and_its_metrics(run: Run) -> None:
    # Then the target without its member role is "denied" in every period, the others healthy
    for period in run.summaries:
        assert period[DENIED]["health"] == "denied"
        assert all(s["health"] == "healthy" for t, s in period.items() if t != DENIED)
    # and its CycleSucceeded is 0 under its own target dimension, the others' 1
    by_target: dict[str, list[float]] = {}
    for record in run.emf:
        dimensions = record["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0]
        assert sorted(dimensions) == ["service", "target"]
        value = record["CycleSucceeded"]
        by_target.setdefault(record["target"], []).extend(
            value if isinstance(value, list) else [value]
        )
    assert set(by_target[DENIED]) == {0.0}
    assert set(by_target[HOME]) == {1.0} and set(by_target[MEMBER_EU]) == {1.0}


def test_a_target_added_to_the_configuration_is_baselined_silently_then_watched(
    run: Run,
) -> None:
    # Given MEMBER_EU added in period 2, when its job was already RUNNING
    first, second, third = run.summaries
    assert MEMBER_EU not in first
    # Then its first poll is its silent baseline, and its next change is announced
    assert second[MEMBER_EU]["baseline"] is True
    assert third[MEMBER_EU]["baseline"] is False
    eu = [d for d in _details(run) if d["region"] == "eu-west-1"]
    assert [(d["changeType"], d["previousStatus"], d["status"]) for d in eu] == [
        ("STATUS", "RUNNING", "SUCCEEDED")
    ]
