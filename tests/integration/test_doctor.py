"""``lfv-monitor doctor`` over real HTTP: moto server (CloudFormation, CloudTrail, API Gateway,
SNS, Scheduler, CloudWatch, S3), the simulator (Lookout for Vision) and, for Lambda's account
settings (which moto 5.2.5 does not serve), a canned endpoint on 127.0.0.1."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest

from lfv_monitor.cli import main
from lfv_workbench.simulator import SimulatorServer

STACK = "lfv-doctor"
ROLE = "arn:aws:iam::123456789012:role/scheduler"
#: A stand-in for the deployed template: the parameters and outputs doctor reads.
TEMPLATE = {
    "Parameters": {
        "ScheduleExpression": {"Type": "String", "Default": "rate(5 minutes)"},
        "FullScanPeriods": {"Type": "Number", "Default": 6},
        "CloudTrailDiscovery": {"Type": "String", "Default": "ENABLED"},
    },
    "Resources": {
        "Topic": {
            "Type": "AWS::SNS::Topic",
            "Properties": {"Subscription": [{"Protocol": "email", "Endpoint": "ops@example.com"}]},
        },
    },
    "Outputs": {
        "TopicArn": {"Value": {"Ref": "Topic"}},
        "ScheduleName": {"Value": f"{STACK}-poll"},
    },
}


@pytest.fixture(autouse=True)
def _sdk_variables_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    """doctor's flags set the SDK's variables for the whole process, as the CLI means them to;
    each test gets them back as they were (a leaked AWS_PROFILE breaks later tests)."""
    for name in ("AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL"):
        original = os.environ.get(name)
        monkeypatch.setenv(name, original or "")
        if original is None:
            monkeypatch.delenv(name)


class AccountSettings:
    """Lambda's GetAccountSettings on 127.0.0.1, answering ``unreserved``."""

    def __init__(self) -> None:
        self.unreserved = 1000
        settings = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                body = json.dumps(
                    {
                        "AccountLimit": {
                            "ConcurrentExecutions": 1000,
                            "UnreservedConcurrentExecutions": settings.unreserved,
                        },
                        "AccountUsage": {"FunctionCount": 0},
                    }
                ).encode()
                found = self.path.startswith("/2016-08-19/account-settings")
                self.send_response(200 if found else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"


@pytest.fixture
def lambda_settings() -> Iterator[AccountSettings]:
    settings = AccountSettings()
    thread = threading.Thread(target=settings.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield settings
    finally:
        settings.server.shutdown()
        settings.server.server_close()


@pytest.fixture
def account(
    aws_endpoint: str,
    simulator: SimulatorServer,
    lambda_settings: AccountSettings,
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, Any]:
    """An emulated account (empty) with the SDK pointed at it; returns clients by service."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws_endpoint)
    monkeypatch.setenv("AWS_ENDPOINT_URL_LOOKOUTVISION", simulator.url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", lambda_settings.url)
    session = boto3.Session(region_name="us-east-1")
    make: Any = session.client
    names = ("cloudformation", "cloudtrail", "s3", "scheduler", "cloudwatch", "apigateway")
    return {name: make(name, endpoint_url=aws_endpoint) for name in names}


def healthy(account: dict[str, Any], cycle_age: timedelta = timedelta(minutes=2)) -> None:
    """A deployed stack with a logging trail, an enabled schedule and a healthy cycle
    ``cycle_age`` ago."""
    account["cloudformation"].create_stack(StackName=STACK, TemplateBody=json.dumps(TEMPLATE))
    account["s3"].create_bucket(Bucket="trail-bucket")
    account["cloudtrail"].create_trail(
        Name="org", S3BucketName="trail-bucket", IsMultiRegionTrail=True
    )
    account["cloudtrail"].start_logging(Name="org")
    account["cloudtrail"].put_event_selectors(
        TrailName="org",
        EventSelectors=[{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}],
    )
    account["scheduler"].create_schedule(
        Name=f"{STACK}-poll",
        ScheduleExpression="rate(5 minutes)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": "arn:aws:lambda:us-east-1:123456789012:function:poller", "RoleArn": ROLE},
        State="ENABLED",
    )
    account["cloudwatch"].put_metric_data(
        Namespace="LfvMonitor",
        MetricData=[
            {
                "MetricName": "CycleSucceeded",
                "Dimensions": [{"Name": "service", "Value": STACK}],
                "Timestamp": datetime.now(UTC) - cycle_age,
                "Value": 1.0,
            }
        ],
    )


def doctor(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code = main(["doctor", "--region", "us-east-1", "--json", *args])
    out = capsys.readouterr().out
    return code, json.loads(out)


def by_check(report: dict[str, Any]) -> dict[str, str]:
    return {f["check"]: f["status"] for f in report["findings"]}


def test_a_healthy_stack_passes_every_check(
    account: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a deployed stack, a logging trail, an enabled schedule and a recent healthy cycle
    healthy(account)
    account["apigateway"].update_account(
        patchOperations=[
            {"op": "replace", "path": "/cloudwatchRoleArn", "value": f"{ROLE}-apigw-logs"}
        ]
    )

    # When doctor checks the stack, access logging included
    code, report = doctor(capsys, "--stack", STACK, "--access-logging")

    # Then every check passes (email confirmed, as moto confirms at once) and it exits 0
    assert by_check(report) == {
        "lookout-for-vision": "ok",
        "cloudtrail": "ok",
        "lambda-concurrency": "ok",
        "apigateway-logs-role": "ok",
        "email-subscription": "ok",
        "schedule": "ok",
        "last-healthy-cycle": "ok",
    }
    assert (code, report["ok"]) == (0, True)


def test_each_problem_is_named_with_its_fix_and_exits_1(
    account: dict[str, Any],
    lambda_settings: AccountSettings,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given a stack whose trail stopped logging, whose schedule is disabled and whose last
    # healthy cycle is 3 hours old, in an account with 110 unreserved units and no API Gateway
    # logs role
    healthy(account, cycle_age=timedelta(hours=3))
    account["cloudtrail"].stop_logging(Name="org")
    account["scheduler"].update_schedule(
        Name=f"{STACK}-poll",
        ScheduleExpression="rate(5 minutes)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": "arn:aws:lambda:us-east-1:123456789012:function:poller", "RoleArn": ROLE},
        State="DISABLED",
    )
    lambda_settings.unreserved = 110

    # When doctor checks it before reserving 13 units, with access logging on
    code, report = doctor(
        capsys, "--stack", "other-stack", "--reserved-concurrency", "13", "--access-logging"
    )
    code_named, named = doctor(
        capsys, "--stack", STACK, "--reserved-concurrency", "13", "--access-logging"
    )

    # Then an unknown stack is a problem; for the real one each problem is named with its fix
    assert code == 1 and by_check(report)["stack"] == "problem"
    assert code_named == 1 and named["ok"] is False
    found = {f["check"]: f for f in named["findings"]}
    assert {k: v["status"] for k, v in found.items() if v["status"] == "problem"} == {
        "cloudtrail": "problem",
        "lambda-concurrency": "problem",
        "apigateway-logs-role": "problem",
        "schedule": "problem",
        "last-healthy-cycle": "problem",
    }
    # the rotation's delay follows the stack's parameters: 6 periods of 5 minutes
    assert "30 min (6 x rate(5 minutes))" in found["cloudtrail"]["detail"]
    assert "leaves 97" in found["lambda-concurrency"]["detail"]
    assert "CreateApiGatewayAccountRole=true" in found["apigateway-logs-role"]["fix"]
    assert "DISABLED" in found["schedule"]["detail"]
    assert "3.0 h ago (allowed 15 min)" in found["last-healthy-cycle"]["detail"]
    assert all(f["fix"] for f in found.values() if f["status"] == "problem")


def test_the_text_output_is_one_line_per_check_with_a_mark(
    account: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an account with no trail and no stack named
    # When doctor runs without --json
    code = main(["doctor", "--region", "us-east-1"])
    lines = capsys.readouterr().out.splitlines()

    # Then each check has one line, marked; the missing trail is a problem with its fix
    assert code == 1
    assert len(lines) == 7 and all(line[0] in "✔✘-" for line in lines)
    trail = next(line for line in lines if " cloudtrail:" in line)
    assert trail.startswith("✘") and "rotation" in trail and "create-trail" in trail
    assert next(line for line in lines if " schedule:" in line).startswith("- ")


def test_bad_arguments_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    # Given a negative reservation / an unknown profile
    # When doctor runs
    negative = main(["doctor", "--region", "us-east-1", "--reserved-concurrency", "-1"])
    unknown = main(["doctor", "--profile", "no-such-profile", "--region", "us-east-1"])

    # Then it exits 2 and names what was wrong
    err = capsys.readouterr().err
    assert (negative, unknown) == (2, 2)
    assert "--reserved-concurrency" in err and "no-such-profile" in err
