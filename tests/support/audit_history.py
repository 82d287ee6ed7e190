"""An audit history written by real poll cycles (simulator + moto server over HTTP), built once
per test module: the scenario below, polled as the scheduled Lambda does.

After the cycles (virtual seconds 30, 90, 150, 210, 270) the table holds:
- widgets/ok-1: CREATED (baseline) → RUNNING → SUCCEEDED
- widgets/fail-1: CREATED (baseline) → RUNNING → FAILED
- widgets/msg-1: RUNNING "step 1/3" (baseline) → "step 2/3" → "step 3/3" (still RUNNING)
- gadgets/g-1: CREATED (baseline) → RUNNING → FAILED
- gadgets/g-2: RUNNING (baseline, still RUNNING)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from lfv_monitor.bootstrap import build_monitor
from lfv_monitor.handlers.poll import lambda_handler
from lfv_monitor.lambda_context import LocalContext, scheduled_event
from lfv_workbench.simulator import SimulatorControl, SimulatorServer
from tests.support.table import create_monitor_table

TABLE = "lfv-audit-test"
CYCLE_TIMES = (30, 90, 150, 210, 270)


def _job(name: str, *steps: tuple[int, str, str]) -> dict[str, Any]:
    return {
        "name": name,
        "model_version": "1",
        "timeline": [{"at": at, "status": s, "message": m} for at, s, m in steps],
    }


SCENARIO: dict[str, Any] = {
    "projects": [
        {
            "name": "widgets",
            "jobs": [
                _job(
                    "ok-1",
                    (0, "CREATED", "queued"),
                    (60, "RUNNING", "compiling"),
                    (180, "SUCCEEDED", "done"),
                ),
                _job(
                    "fail-1",
                    (0, "CREATED", "queued"),
                    (60, "RUNNING", "compiling"),
                    (200, "FAILED", "out of memory"),
                ),
                _job(
                    "msg-1",
                    (0, "RUNNING", "step 1/3"),
                    (90, "RUNNING", "step 2/3"),
                    (150, "RUNNING", "step 3/3"),
                ),
            ],
        },
        {
            "name": "gadgets",
            "jobs": [
                _job(
                    "g-1",
                    (0, "CREATED", "queued"),
                    (100, "RUNNING", "compiling"),
                    (230, "FAILED", "bad config"),
                ),
                _job("g-2", (0, "RUNNING", "compiling")),
            ],
        },
    ]
}

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_CONFIG_FILE": "/dev/null",
    "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
}


@dataclass(frozen=True)
class AuditedStack:
    endpoint: str
    table: str

    def client(self) -> Any:
        return boto3.client("dynamodb", endpoint_url=self.endpoint, region_name="us-east-1")


def write_history(endpoint: str) -> tuple[AuditedStack, str]:
    """Create the table, bus and topic on ``endpoint`` (moto): the stack and the topic ARN."""
    ddb = boto3.client("dynamodb", endpoint_url=endpoint)
    create_monitor_table(ddb, TABLE)
    boto3.client("events", endpoint_url=endpoint).create_event_bus(Name="lfv-audit-bus")
    topic = boto3.client("sns", endpoint_url=endpoint).create_topic(Name="lfv-audit")["TopicArn"]
    return AuditedStack(endpoint, TABLE), topic


@pytest.fixture(scope="module")
def audited_history(_moto_server: str) -> Iterator[AuditedStack]:
    """The history above, on a fresh moto account, shared by the tests of one module."""
    import urllib.request

    reset = urllib.request.Request(f"{_moto_server}/moto-api/reset", method="POST")
    with urllib.request.urlopen(reset, timeout=10):
        pass
    with (
        pytest.MonkeyPatch.context() as env,
        SimulatorServer(host="127.0.0.1", port=0, scenario=None, speed=0) as simulator,
    ):
        for name, value in CREDENTIALS.items():
            env.setenv(name, value)
        env.delenv("AWS_PROFILE", raising=False)
        stack, topic = write_history(_moto_server)
        env.setenv("AWS_ENDPOINT_URL", _moto_server)
        env.setenv("AWS_ENDPOINT_URL_LOOKOUTVISION", simulator.url)
        env.setenv("TABLE_NAME", stack.table)
        env.setenv("EVENT_BUS_NAME", "lfv-audit-bus")
        env.setenv("TOPIC_ARN", topic)
        env.setenv("LFV_RATE_PER_SECOND", "50")
        env.setenv("POWERTOOLS_METRICS_DISABLED", "true")
        # No sub-minute watch: it would sleep on the wall clock (the tests move virtual time).
        env.setenv("ACTIVE_POLL_INTERVAL", "0")
        control = SimulatorControl(simulator.url)
        control.load_scenario(SCENARIO)
        monitor = build_monitor()
        now = 0
        for t in CYCLE_TIMES:
            control.advance(t - now)
            now = t
            lambda_handler(scheduled_event(), LocalContext(), service=monitor)  # type: ignore[arg-type]
        yield stack
