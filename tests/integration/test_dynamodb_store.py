"""The DynamoDB snapshot store against moto server over HTTP."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from lfv_monitor.adapters.dynamodb import DynamoDBSnapshotStore
from lfv_monitor.domain.changes import detect_change
from lfv_monitor.domain.models import Change, JobDescription, JobKey
from tests.support.table import create_monitor_table

T0 = datetime(2026, 11, 1, tzinfo=UTC)
LATER = T0 + timedelta(days=1)  # every writer's outbox lease is over


@pytest.fixture
def ddb(aws_endpoint: str):  # type: ignore[no-untyped-def]
    return boto3.client("dynamodb", endpoint_url=aws_endpoint)


@pytest.fixture
def store(ddb) -> DynamoDBSnapshotStore:  # type: ignore[no-untyped-def]
    return DynamoDBSnapshotStore(create_monitor_table(ddb), client=ddb)


def describe(key: JobKey, status: str, message: str | None = None, at: int = 0) -> JobDescription:
    doc = {
        "JobName": key.job,
        "ProjectName": key.project,
        "ModelVersion": "1",
        "Status": status,
        "CreationTimestamp": 1793491200,
        "LastUpdatedTimestamp": 1793491200 + at,
        "ModelPackagingConfiguration": {
            "Greengrass": {
                "ComponentName": "c",
                "TargetDevice": "jetson_xavier",
                "Tags": [{"Key": "k", "Value": "v"}],
            }
        },
    }
    if message is not None:
        doc["StatusMessage"] = message
    return JobDescription(key, status, message, "1", T0, T0 + timedelta(seconds=at), doc)


def change(
    store: DynamoDBSnapshotStore,
    key: JobKey,
    status: str,
    message: str | None = None,
    *,
    baseline: bool = False,
    at: int = 0,
) -> Change:
    stored = store.get_jobs([key]).get(key)
    result = detect_change(
        stored,
        describe(key, status, message, at),
        observed_at=T0 + timedelta(seconds=at),
        baseline=baseline,
    )
    assert result is not None
    return result


def test_record_writes_history_state_and_outbox(store: DynamoDBSnapshotStore) -> None:
    key = JobKey("widgets", "cam-7")
    first = change(store, key, "RUNNING", "compiling")
    assert store.record(first, None)
    second = change(store, key, "SUCCEEDED", "done", at=60)
    assert store.record(second, 1)
    state = store.get_jobs([key])[key]
    assert (state.status, state.status_message, state.version) == ("SUCCEEDED", "done", 2)
    history = store.history(key)
    assert [(c.status, c.previous_status) for c in history] == [
        ("RUNNING", None),
        ("SUCCEEDED", "RUNNING"),
    ]
    assert history[1].description is not None
    assert history[1].description.document["ModelPackagingConfiguration"]["Greengrass"]["Tags"] == [
        {"Key": "k", "Value": "v"}
    ]
    assert {c.event_id for c, ch in store.pending(LATER)} == {first.event_id, second.event_id}


def test_a_stale_version_loses_and_writes_nothing(store: DynamoDBSnapshotStore) -> None:
    key = JobKey("widgets", "cam")
    store.record(change(store, key, "RUNNING"), None)
    winner = change(store, key, "FAILED", "boom", at=5)
    loser = replace(winner, observed_at=winner.observed_at + timedelta(seconds=1))
    assert store.record(winner, 1)
    assert not store.record(loser, 1)
    assert not store.record(change(store, JobKey("widgets", "cam"), "RUNNING"), None)
    assert len(store.history(key)) == 2


def test_baseline_is_recorded_without_an_outbox_entry(store: DynamoDBSnapshotStore) -> None:
    assert not store.is_initialized()
    store.record(change(store, JobKey("p", "j"), "SUCCEEDED", baseline=True), None)
    assert store.pending(LATER) == []
    store.mark_initialized(T0)
    assert store.is_initialized()


def test_outbox_is_cleared_per_channel(store: DynamoDBSnapshotStore) -> None:
    c = change(store, JobKey("p", "j"), "RUNNING")
    store.record(c, None)
    store.mark_delivered([c.event_id], "sns")
    ((pending, channels),) = store.pending(LATER)
    assert pending.event_id == c.event_id and channels == {"events"}
    assert pending.description is not None and pending.status == "RUNNING"
    store.mark_delivered([c.event_id], "events")
    assert store.pending(LATER) == []


def test_get_jobs_reads_more_than_one_batch_and_active_jobs_follow_status(
    store: DynamoDBSnapshotStore,
) -> None:
    keys = [JobKey("p", f"job-{i:03d}") for i in range(130)]
    for i, key in enumerate(keys):
        store.record(change(store, key, "RUNNING" if i % 10 == 0 else "SUCCEEDED"), None)
    assert set(store.get_jobs(keys)) == set(keys)
    assert len(store.active_jobs()) == 13
    store.record(change(store, keys[0], "FAILED", at=9), 1)
    assert keys[0] not in {j.key for j in store.active_jobs()}


def test_a_one_megabyte_message_is_kept_in_full_in_the_history(
    store: DynamoDBSnapshotStore,
) -> None:
    key = JobKey("p", "big")
    huge = "compiler said: " + "x" * (1024 * 1024)
    c = change(store, key, "FAILED", huge)
    assert store.record(c, None)
    (history,) = store.history(key)
    assert history.status_message == huge
    assert history.description is not None and history.description.status_message == huge
    # comparing against the stored (shortened) state still knows it is the same text
    assert store.get_jobs([key])[key].same_message(huge)
    assert not store.get_jobs([key])[key].same_message(huge + "!")


def test_outbox_entries_are_the_writers_until_the_lease_ends_then_claimed_once(
    store: DynamoDBSnapshotStore,
) -> None:
    c = change(store, JobKey("p", "j"), "RUNNING")
    store.record(c, None)
    assert store.pending(T0 + timedelta(seconds=59)) == []  # the writer publishes it itself
    (pending, channels) = store.pending(T0 + timedelta(seconds=60))[0]
    assert pending.event_id == c.event_id and channels == {"events", "sns"}
    now = T0 + timedelta(seconds=60)
    assert store.claim([c.event_id], "events", now) == {c.event_id}
    assert store.claim([c.event_id], "events", now) == set()  # held by the first claim
    assert [ch for _, ch in store.pending(now)] == [frozenset({"sns"})]
    store.release([c.event_id], "events")
    assert store.claim([c.event_id], "events", now) == {c.event_id}
    store.mark_delivered([c.event_id], "events")
    assert store.claim([c.event_id], "events", LATER) == set()  # delivered: gone
