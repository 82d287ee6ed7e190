"""Issue 15: a table written by the single-account version keeps working after the upgrade to
multi-target mode (over real HTTP on 127.0.0.1: moto server and the simulator).

The single-account code path writes it (no account or region anywhere); then the audit queries,
the CLI and the upgraded poller (a target queue message for the stack's own account and region)
read it as the home target's and continue its histories.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from lfv_monitor.audit import AuditQueries, NoHistoryError
from lfv_monitor.bootstrap import build_monitor
from lfv_monitor.config import Settings
from lfv_monitor.domain.events import event_id_for
from lfv_monitor.domain.models import JobKey
from lfv_monitor.domain.targets import Target
from lfv_monitor.fleet import build_fleet
from lfv_monitor.handlers.poll import lambda_handler
from lfv_monitor.lambda_context import LocalContext, scheduled_event
from lfv_workbench.local.up import LOCAL_CREDENTIALS, LocalStack, drain

#: Its own stack name: moto keeps every stack of the process (other modules deploy theirs).
STACK = "lfv-monitor-upgrade"
HOME = Target("123456789012", "us-east-1")
KEY = JobKey("widgets", "cam-7")
SCENARIO: dict[str, Any] = {
    "start_time": "2026-11-30T12:00:00Z",
    "account_id": HOME.account,
    "region": HOME.region,
    "projects": [
        {
            "name": KEY.project,
            "jobs": [
                {
                    "name": KEY.job,
                    "timeline": [
                        {"at": 0, "status": "RUNNING", "message": "compiling"},
                        {"at": 60, "status": "RUNNING", "message": "step 2/2"},
                        {"at": 150, "status": "FAILED", "message": "out of memory"},
                    ],
                }
            ],
        }
    ],
}


def _settings(stack: LocalStack, **extra: str) -> Settings:
    info = stack.info
    return Settings.from_env(
        {
            "TABLE_NAME": info.table_name,
            "EVENT_BUS_NAME": info.event_bus_name,
            "TOPIC_ARN": info.topic_arn,
            "ACTIVE_POLL_INTERVAL": "0",
            "AWS_ENDPOINT_URL_LOOKOUTVISION": info.simulator_url,
            "LFV_RATE_PER_SECOND": "50",
            **extra,
        }
    )


def _session(stack: LocalStack) -> boto3.Session:
    return boto3.Session(
        region_name=stack.info.region,
        aws_access_key_id=LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


@pytest.fixture(scope="module")
def old_table() -> Iterator[LocalStack]:
    """The single-account version's table: a baseline and one announced change of cam-7."""
    with (
        pytest.MonkeyPatch.context() as patch,
        LocalStack(speed=0, scenario=SCENARIO, stack_name=STACK) as stack,
    ):
        for name, value in stack.info.env().items():
            patch.setenv(name, value)
        monitor = build_monitor(_settings(stack), session=_session(stack))
        for offset in (10, 70):
            stack.control.set_time(offset)
            lambda_handler(scheduled_event(), LocalContext(), service=monitor)  # type: ignore[arg-type]
        drain(stack.client("sqs"), stack.info.events_queue_url)
        drain(stack.client("sqs"), stack.info.notifications_queue_url)
        yield stack


def _items(stack: LocalStack) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = stack.client("dynamodb").scan(TableName=stack.info.table_name)[
        "Items"
    ]
    return items


def test_the_old_table_names_no_account_or_region(old_table: LocalStack) -> None:
    # Given the table the single-account code path wrote
    items = _items(old_table)
    # Then no item names an account or a region, and the job's keys are the unqualified ones
    assert items and not any({"account", "region"} & item.keys() for item in items)
    assert {"JOB#widgets#cam-7", "META"} <= {item["pk"]["S"] for item in items}


def test_audit_queries_read_the_old_records_as_the_home_targets(old_table: LocalStack) -> None:
    # Given the upgraded audit API (it knows the stack's own account and region)
    queries = AuditQueries(
        old_table.info.table_name, client=old_table.client("dynamodb"), home=HOME
    )
    # When one job's history is asked for, with and without the home target named
    default = queries.job_history(KEY.project, KEY.job)
    named = queries.job_history(KEY.project, KEY.job, account=HOME.account, region=HOME.region)
    # Then the old records are there, read as the home account's and region's
    assert [r.change_type for r in default.items] == ["BASELINE", "STATUS_MESSAGE"]
    assert named.items == default.items
    assert {(r.account, r.region) for r in named.items} == {(HOME.account, HOME.region)}
    running = queries.jobs("RUNNING", account=HOME.account, region=HOME.region)
    assert [(r.job, r.account) for r in running.items] == [(KEY.job, HOME.account)]
    # and another target has no such job
    with pytest.raises(NoHistoryError, match="in account 111111111111, region us-east-1"):
        queries.job_history(KEY.project, KEY.job, account="111111111111", region="us-east-1")


def test_the_cli_reads_the_old_history_filtered_by_the_home_account_and_region(
    old_table: LocalStack,
) -> None:
    # Given the CLI pointed at the local stack (the stack's account told by STS, as in AWS)
    env = {k: v for k, v in os.environ.items() if k != "MONITOR_ACCOUNT_ID"}
    env |= old_table.info.env()
    command = [sys.executable, "-m", "lfv_monitor.cli", "history"]
    command += ["--project", KEY.project, "--job", KEY.job, "--output", "json"]
    # When the history is asked for in the home account and region
    done = subprocess.run(
        [*command, "--job-account", HOME.account, "--job-region", HOME.region],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # Then the old records are printed, naming the home account and region
    assert done.returncode == 0, done.stderr
    items = json.loads(done.stdout)["items"]
    assert [(i["changeType"], i["account"], i["region"]) for i in items] == [
        ("BASELINE", HOME.account, HOME.region),
        ("STATUS_MESSAGE", HOME.account, HOME.region),
    ]
    # and another account's is empty: exit 1, saying so
    other = subprocess.run(
        [*command, "--job-account", "111111111111", "--job-region", HOME.region],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert other.returncode == 1 and "in account 111111111111" in other.stderr


def test_the_upgraded_poller_continues_the_home_targets_history(
    old_table: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the upgraded poller in multi-target mode (its account configured)
    for name, value in old_table.info.env().items():
        monkeypatch.setenv(name, value)
    settings = _settings(old_table, MONITOR_ACCOUNT_ID=HOME.account)
    fleet = build_fleet(settings, session=_session(old_table))
    body = {
        "target": {"account": HOME.account, "region": HOME.region},
        "period": 1,
        "roleArn": None,
    }
    event = {"Records": [{"messageId": "m-1", "body": json.dumps(body), "eventSource": "aws:sqs"}]}
    # When the home target's next change happens and its message is polled
    old_table.control.set_time(160)
    summary = lambda_handler(event, LocalContext(), targets=fleet)  # type: ignore[arg-type]
    # Then it is no new baseline: the change is recorded on the same history, version 3
    assert summary["health"] == "healthy" and summary["baseline"] is False
    queries = AuditQueries(
        old_table.info.table_name, client=old_table.client("dynamodb"), home=HOME
    )
    history = queries.job_history(KEY.project, KEY.job).items
    assert [(r.version, r.change_type, r.status) for r in history] == [
        (1, "BASELINE", "RUNNING"),
        (2, "STATUS_MESSAGE", "RUNNING"),
        (3, "STATUS", "FAILED"),
    ]
    # and announced with the home account and region, its event id the single-account one
    (event_detail,) = [
        e["detail"] for e in drain(old_table.client("sqs"), old_table.info.events_queue_url)
    ]
    assert (event_detail["account"], event_detail["region"]) == (HOME.account, HOME.region)
    assert event_detail["eventId"] == event_id_for(KEY, 3, "FAILED", "out of memory")
