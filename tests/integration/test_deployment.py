"""template.yaml, deployed to moto's CloudFormation, runs the packaged poller end to end.

The stack is made by ``deploy_stack`` (SAM transform, then moto); the poll cycle runs the
package ``sam build`` makes (``scripts/package_function.py``), extracted, in a separate Python
holding only what the Lambda runtime and the Powertools layer provide, with the environment
variables the transformed template gives the function, against the Lookout for Vision simulator.
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from lfv_monitor.bootstrap import build_monitor
from lfv_monitor.handlers.poll import lambda_handler
from lfv_monitor.lambda_context import LocalContext, scheduled_event
from lfv_workbench.local.stack import StackOutputs, deploy_stack
from lfv_workbench.simulator import SimulatorControl, SimulatorServer
from tests.support.lambda_package import BuiltPackage, invoke_packaged

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
ARCHITECTURE = ROOT / "docs" / "architecture.md"
SOURCE = "lfv-monitor"


def job(name: str, *steps: tuple[int, str, str], **extra: Any) -> dict[str, Any]:
    timeline = [{"at": at, "status": s, "message": m} for at, s, m in steps]
    return {"name": name, "model_version": "1", "timeline": timeline, **extra}


# Every job has finished by the packaged cycle at t=300, so the cycle's sub-minute watch (the
# template's ActivePollIntervalSeconds, on the wall clock) has nothing to wait for.
SCENARIO = {
    "projects": [
        {
            "name": "widgets",
            "jobs": [
                job(
                    "ok-1",
                    (0, "CREATED", "queued"),
                    (60, "RUNNING", "compiling"),
                    (180, "SUCCEEDED", "done"),
                ),
                job("fail-1", (0, "RUNNING", "compiling"), (200, "FAILED", "out of memory")),
                job("gone", (0, "RUNNING", "compiling"), deleted_at=250),
            ],
        },
        {
            "name": "gadgets",
            "appears_at": 100,
            "jobs": [job("g-1", (100, "CREATED", "queued"), (230, "SUCCEEDED", "done"))],
        },
    ]
}
EXPECTED = {
    ("widgets", "ok-1", "STATUS", "SUCCEEDED", "CREATED"),
    ("widgets", "fail-1", "STATUS", "FAILED", "RUNNING"),
    ("widgets", "gone", "REMOVED", "REMOVED", "RUNNING"),
    ("gadgets", "g-1", "DISCOVERED", "SUCCEEDED", None),
}


class Subscribers:
    """An SQS queue subscribed to the stack's topic and one behind a rule on the stack's bus."""

    def __init__(self, endpoint: str, stack: StackOutputs) -> None:
        self.sqs = boto3.client("sqs", endpoint_url=endpoint)
        sns = boto3.client("sns", endpoint_url=endpoint)
        events = boto3.client("events", endpoint_url=endpoint)
        self.topic_queue = self.sqs.create_queue(QueueName="from-topic")["QueueUrl"]
        self.rule_queue = self.sqs.create_queue(QueueName="from-bus")["QueueUrl"]
        sns.subscribe(
            TopicArn=stack.topic_arn, Protocol="sqs", Endpoint=self._arn(self.topic_queue)
        )
        events.put_rule(
            Name="job-changes",
            EventBusName=stack.event_bus_name,
            EventPattern=json.dumps({"source": [SOURCE]}),
        )
        events.put_targets(
            Rule="job-changes",
            EventBusName=stack.event_bus_name,
            Targets=[{"Id": "queue", "Arn": self._arn(self.rule_queue)}],
        )

    def _arn(self, url: str) -> str:
        attributes = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        arn: str = attributes["Attributes"]["QueueArn"]
        return arn

    def drain(self, url: str) -> list[dict[str, Any]]:
        bodies: list[dict[str, Any]] = []
        while messages := self.sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0
        ).get("Messages", []):
            for message in messages:
                bodies.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return bodies


@pytest.fixture
def xray_daemon() -> Iterator[socket.socket]:
    """A UDP socket on 127.0.0.1 where the function's X-Ray SDK sends its segments."""
    daemon = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    daemon.bind(("127.0.0.1", 0))
    daemon.setblocking(False)
    try:
        yield daemon
    finally:
        daemon.close()


def received_segments(daemon: socket.socket) -> list[dict[str, Any]]:
    segments = []
    while True:
        try:
            datagram = daemon.recv(65536).decode()
        except BlockingIOError:
            return segments
        _header, _, body = datagram.partition("\n")
        segments.append(json.loads(body))


def subsegment_names(segment: dict[str, Any]) -> Iterator[str]:
    yield segment.get("name", "")
    for child in segment.get("subsegments", []):
        yield from subsegment_names(child)


def lambda_environment(
    stack: StackOutputs, package: BuiltPackage, simulator: SimulatorServer, daemon: socket.socket
) -> dict[str, str]:
    """What Lambda would set for the function: the template's variables, the runtime's own."""
    function = stack.template["Resources"]["PollerFunction"]["Properties"]
    host, port = daemon.getsockname()
    return {
        **stack.function_environment("PollerFunction"),
        "_HANDLER": function["Handler"],
        "LAMBDA_TASK_ROOT": str(package.task_root),
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{function['Runtime']}",
        "AWS_LAMBDA_FUNCTION_NAME": stack.function_name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function["MemorySize"]),
        "AWS_LAMBDA_FUNCTION_TIMEOUT": str(function["Timeout"]),
        "AWS_LAMBDA_LOG_GROUP_NAME": stack.as_dict()["LogGroupName"],
        "AWS_XRAY_DAEMON_ADDRESS": f"{host}:{port}",
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        "AWS_REGION": stack.region,
        "AWS_DEFAULT_REGION": stack.region,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        # The emulators instead of AWS: moto for everything, the simulator for Lookout for Vision.
        "AWS_ENDPOINT_URL": stack.endpoint,
        "AWS_ENDPOINT_URL_LOOKOUTVISION": simulator.url,
    }


def baseline(environment: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The stack's first scheduled cycle: records every job silently (in-process)."""
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_LOOKOUTVISION"):
        monkeypatch.setenv(name, environment[name])
    settings = {**environment, "ACTIVE_POLL_INTERVAL": "0", "POWERTOOLS_METRICS_DISABLED": "true"}
    monitor = build_monitor(environ=settings)
    report = lambda_handler(scheduled_event(), LocalContext(), service=monitor)  # type: ignore[arg-type]
    assert report["baseline"] and report["announced"] == 0


def test_the_packaged_poller_announces_changes_through_the_deployed_stack(
    *,
    aws_endpoint: str,
    simulator: SimulatorServer,
    simulator_control: SimulatorControl,
    lambda_runtime_python: Path,
    poller_package: BuiltPackage,
    xray_daemon: socket.socket,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given the template deployed with its defaults (but every project listed every period, so
    # the new jobs are found by this cycle whatever the minute: the default spreads the scan over
    # 10 periods and leaves new jobs to CloudTrail), a queue on its topic and a rule on its bus
    stack = deploy_stack(aws_endpoint, TEMPLATE, {"FullScanPeriods": "1"})
    subscribers = Subscribers(aws_endpoint, stack)
    environment = lambda_environment(stack, poller_package, simulator, xray_daemon)
    # and an account whose jobs the stack's first cycle has already recorded
    simulator_control.load_scenario(SCENARIO)
    simulator_control.advance(30)
    baseline(environment, monkeypatch)

    # When, later, the schedule invokes the packaged function once
    simulator_control.advance(270)
    invocation = invoke_packaged(
        lambda_runtime_python, poller_package.task_root, environment, scheduled_event()
    )

    # Then the cycle succeeded and announced the four changes
    report = invocation.result
    assert (report["baseline"], report["unreachable"], report["announced"]) == (False, False, 4)
    # and each reached the rule on the stack's bus exactly once
    events = subscribers.drain(subscribers.rule_queue)
    seen = {
        (
            e["detail"]["projectName"],
            e["detail"]["jobName"],
            e["detail"]["changeType"],
            e["detail"]["status"],
            e["detail"]["previousStatus"],
        )
        for e in events
    }
    assert len(events) == 4 and seen == EXPECTED
    assert {e["source"] for e in events} == {SOURCE}
    # and the stack's topic delivered one notification per change, with the status attribute
    notifications = subscribers.drain(subscribers.topic_queue)
    statuses = sorted(n["MessageAttributes"]["status"]["Value"] for n in notifications)
    assert statuses == ["FAILED", "REMOVED", "SUCCEEDED", "SUCCEEDED"]
    assert {n["TopicArn"] for n in notifications} == {stack.topic_arn}

    # and the metric the NoHealthyCycle alarm watches was emitted as the alarm expects it
    (emf,) = [line for line in invocation.json_lines() if "CycleSucceeded" in line]
    (directive,) = emf["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "LfvMonitor"
    assert emf["service"] == stack.stack_name and emf["CycleSucceeded"] in (1, [1], [1.0])
    # and the handler was traced through the layer's X-Ray SDK, with the AWS calls inside
    segments = received_segments(xray_daemon)
    names = {name for segment in segments for name in subsegment_names(segment)}
    assert "## lambda_handler" in names
    assert {"lookoutvision", "dynamodb", "events", "sns"} <= names, sorted(names)
    assert {segment["trace_id"] for segment in segments} == {invocation.outcome["traceId"]}
    # and nothing was logged as an error
    assert not [line for line in invocation.json_lines() if line.get("level") == "ERROR"]
    assert "Traceback" not in invocation.stderr


def test_every_resource_the_local_stack_cannot_create_is_named_and_documented(
    aws_endpoint: str, record_property: Any
) -> None:
    # Given the template deployed to moto with its defaults
    stack = deploy_stack(aws_endpoint, TEMPLATE, {})
    # When the gaps are listed (shown in the test run's summary)
    gaps = {gap.resource_type: gap for gap in stack.gaps if gap.handling in ("not-emulated", "api")}
    record_property(
        "local_stack_gaps",
        [f"{gap.logical_id} ({gap.resource_type}): {gap.note}" for gap in stack.gaps],
    )
    # Then they are the resource types moto's CloudFormation lacks or the poll cycle replaces
    assert set(gaps) == {
        "AWS::Lambda::Function",
        "AWS::Lambda::EventInvokeConfig",
        "AWS::Lambda::Permission",
        "AWS::SQS::QueuePolicy",
        "AWS::ApiGateway::RestApi",
        "AWS::ApiGateway::Deployment",
        "AWS::ApiGateway::Stage",
        "AWS::Scheduler::Schedule",
        "AWS::CloudFormation::Stack",
        # only with CreateApiGatewayAccountRole=true (moto has no model; not created either way)
        "AWS::ApiGateway::Account",
        # only in multi-target mode (Targets or OrganizationalUnitIds): the poller's mapping
        "AWS::Lambda::EventSourceMapping",
        "AWS::Chatbot::SlackChannelConfiguration",
        "AWS::SNS::TopicPolicy",
        "AWS::CloudWatch::Alarm",
    }
    # and docs/architecture.md's gap table names every one of them
    text = ARCHITECTURE.read_text()
    section = text[text.index("## The local stack (moto) and its gaps") :]
    documented = set(re.findall(r"`(AWS::[A-Za-z0-9]+::[A-Za-z0-9]+)`", section))
    assert set(gaps) <= documented, sorted(set(gaps) - documented)
