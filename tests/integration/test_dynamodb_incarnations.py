"""Identity across re-creation: a job is project, name and CreationTimestamp (moto over HTTP).

A job deleted and started again under its old name starts its own history: the old incarnation,
if it was in progress, is REMOVED once; the new one is DISCOVERED; the old records are never
rewritten; the audit queries and the CLI show the incarnations apart.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from lfv_monitor.adapters.dynamodb import DynamoDBSnapshotStore
from lfv_monitor.audit import AuditQueries
from lfv_monitor.cli import main
from lfv_monitor.domain.cycle import PollCycle
from lfv_monitor.domain.models import ChangeType, JobKey
from lfv_monitor.table.codec import to_item
from tests.fakes import FakeClock, FakeJobSource, FakePublisher
from tests.support.table import create_monitor_table

T0 = datetime(2026, 11, 1, tzinfo=UTC)
FIRST, SECOND = T0 - timedelta(hours=2), T0 + timedelta(minutes=30)
KEY = JobKey("widgets", "cam-7")


class Stack:
    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.client = boto3.client("dynamodb", endpoint_url=endpoint)
        self.table = create_monitor_table(self.client)
        self.store = DynamoDBSnapshotStore(self.table, client=self.client)
        self.source = FakeJobSource()
        self.clock = FakeClock(T0)
        self.events = FakePublisher("events")
        self.cycle = PollCycle(self.source, self.store, [self.events], clock=self.clock)

    def run(self) -> list[tuple[ChangeType, str | None, datetime | None]]:
        self.clock.advance(60)
        return [(c.change_type, c.status, c.created) for c in self.cycle.run().recorded]


@pytest.fixture
def stack(aws_endpoint: str) -> Stack:
    stack = Stack(aws_endpoint)
    stack.source.set("widgets", "other", "SUCCEEDED")
    stack.cycle.run()  # the baseline
    return stack


def test_a_job_recreated_while_in_progress_is_removed_once_then_discovered(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a job in progress, recorded
    stack.source.set("widgets", "cam-7", "RUNNING", "compiling", created=FIRST)
    assert stack.run() == [(ChangeType.DISCOVERED, "RUNNING", FIRST)]
    before = stack.store.history(KEY)
    # When it is deleted and started again under the same name before the next cycle
    stack.source.set("widgets", "cam-7", "RUNNING", "compiling", created=SECOND)
    # Then the old incarnation is REMOVED and the new one DISCOVERED, each announced once
    assert stack.run() == [
        (ChangeType.REMOVED, "REMOVED", FIRST),
        (ChangeType.DISCOVERED, "RUNNING", SECOND),
    ]
    assert stack.run() == []
    assert [c.change_type for c in stack.events.published[-2:]] == [
        ChangeType.REMOVED,
        ChangeType.DISCOVERED,
    ]
    # And the old history is as it was, the new incarnation's starts with no previous status
    history = stack.store.history(KEY)
    assert history[: len(before)] == before
    assert history[-1].previous_status is None and history[-1].skipped_states == ("CREATED",)
    # And the audit and the CLI show the incarnations apart
    records = AuditQueries(stack.table, client=stack.client).job_history("widgets", "cam-7").items
    assert [(r.change_type, r.created_at) for r in records] == [
        ("DISCOVERED", FIRST),
        ("REMOVED", FIRST),
        ("DISCOVERED", SECOND),
    ]
    argv = ["history", "--project", "widgets", "--job", "cam-7", "--table", stack.table]
    assert main([*argv, "--endpoint-url", stack.endpoint, "-o", "json"]) == 0
    created = [i["createdAt"] for i in json.loads(capsys.readouterr().out)["items"]]
    assert created == [FIRST.isoformat().replace("+00:00", "Z")] * 2 + [
        SECOND.isoformat().replace("+00:00", "Z")
    ]
    assert main([*argv, "--endpoint-url", stack.endpoint]) == 0
    table = capsys.readouterr().out
    assert "job created (UTC)" in table
    assert f"{FIRST:%Y-%m-%d %H:%M:%S}" in table and f"{SECOND:%Y-%m-%d %H:%M:%S}" in table


def test_a_finished_job_recreated_and_finished_the_same_way_is_not_missed(stack: Stack) -> None:
    # Given a job that SUCCEEDED
    stack.source.set("widgets", "cam-7", "SUCCEEDED", "done", created=FIRST)
    stack.run()
    # When it is re-created and finishes the same way between two cycles
    stack.source.set("widgets", "cam-7", "SUCCEEDED", "done", at=SECOND, created=SECOND)
    # Then its run is recorded and announced (the old one finished: nothing to remove)
    assert stack.run() == [(ChangeType.DISCOVERED, "SUCCEEDED", SECOND)]
    assert stack.run() == []


def test_a_table_written_before_incarnations_were_kept_reads_on_and_learns_them(
    stack: Stack,
) -> None:
    # Given a job recorded by the previous version (no created_at, no removed attribute)
    stack.source.set("widgets", "cam-7", "RUNNING", "compiling", created=FIRST)
    stack.run()
    stack.client.update_item(
        TableName=stack.table,
        Key=to_item({"pk": "JOB#widgets#cam-7", "sk": "STATE"}),
        UpdateExpression="REMOVE created_at, removed",
    )
    # When cycles run, Then nothing is announced again: the unknown incarnation is this one
    assert stack.run() == []
    assert stack.store.take_poisoned() == 0
    # And its next change records the incarnation
    stack.source.set("widgets", "cam-7", "SUCCEEDED", "done", created=FIRST)
    assert stack.run() == [(ChangeType.STATUS, "SUCCEEDED", FIRST)]
    assert stack.store.get_jobs([KEY])[KEY].created == FIRST


def _jobs_json(stack: Stack, capsys: pytest.CaptureFixture[str], status: str) -> Any:
    argv = ["jobs", "--status", status, "--table", stack.table, "--endpoint-url", stack.endpoint]
    assert main([*argv, "-o", "json"]) == 0
    return json.loads(capsys.readouterr().out)["items"]


def test_the_jobs_command_shows_the_incarnation_and_the_removed_marker(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    stack.source.set("widgets", "cam-7", "RUNNING", created=FIRST)
    stack.source.set("widgets", "odd", "REMOVED", "the service's own status", created=FIRST)
    stack.run()
    del stack.source.projects["widgets"]["cam-7"]
    stack.run()
    rows = {
        (r["job"], r["removed"], r["createdAt"] is not None)
        for r in _jobs_json(stack, capsys, "REMOVED")
    }
    assert rows == {("cam-7", True, True), ("odd", False, True)}
