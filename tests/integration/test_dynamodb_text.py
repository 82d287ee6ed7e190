"""Any text the service returns is recordable (moto server over HTTP).

Statuses and messages of any length and any code points are stored losslessly where they fit,
shortened deterministically (with the full text's digest) where they do not; every item stays
under 400 KB after compression; index keys use a bounded form of the status; and a service
status that reads like the monitor's "removed" marker is just a status.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lfv_monitor.adapters.dynamodb import DynamoDBSnapshotStore
from lfv_monitor.domain.changes import detect_change
from lfv_monitor.domain.cycle import PollCycle
from lfv_monitor.domain.models import Change, ChangeType, JobDescription, JobKey, message_digest
from lfv_monitor.table.codec import plain, to_item
from lfv_monitor.table.documents import DYNAMODB_ITEM_BYTES, item_size
from tests.fakes import FakeClock, FakeJobSource, FakePublisher
from tests.support.table import create_monitor_table

T0 = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture
def ddb(aws_endpoint: str) -> Any:
    return boto3.client("dynamodb", endpoint_url=aws_endpoint)


@pytest.fixture
def store(ddb: Any) -> DynamoDBSnapshotStore:
    return DynamoDBSnapshotStore(create_monitor_table(ddb), client=ddb)


def describe(key: JobKey, status: str, message: str | None) -> JobDescription:
    doc: dict[str, Any] = {"JobName": key.job, "Status": status, "CreationTimestamp": 1793491200}
    if message is not None:
        doc["StatusMessage"] = message
    return JobDescription(key, status, message, document=doc)


def record(store: DynamoDBSnapshotStore, key: JobKey, status: str, message: str | None) -> Change:
    stored = store.get_jobs([key]).get(key)
    change = detect_change(stored, describe(key, status, message), observed_at=T0, baseline=False)
    assert change is not None
    assert store.record(change, stored.version if stored else None)
    return change


def unchanged(store: DynamoDBSnapshotStore, key: JobKey, status: str, message: str | None) -> bool:
    stored = store.get_jobs([key])[key]
    description = describe(key, status, message)
    return detect_change(stored, description, observed_at=T0, baseline=False) is None


def raw_items(store: DynamoDBSnapshotStore, pk: str) -> list[dict[str, Any]]:
    response = store.client.query(
        TableName=store.table,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues=to_item({":p": pk}),
    )
    return list(response["Items"])


def incompressible(n: int, seed: int = 7) -> str:
    rng = random.Random(seed)
    return "".join(chr(rng.randrange(0x4E00, 0x9FFF)) for _ in range(n))


def test_a_2100_character_status_is_recorded_with_a_bounded_index_key(
    store: DynamoDBSnapshotStore,
) -> None:
    # Given a job whose Status is 2,100 characters (over the GSI key limits)
    key, status = JobKey("p", "long"), "S" * 2100
    record(store, key, status, "m")
    # Then the history and the state keep it in full, and the index keys are bounded
    (history,) = store.history(key)
    assert history.status == status
    for item in raw_items(store, "JOB#p#long"):
        assert len(item["gsi2pk"]["S"].encode()) <= 2048 and len(item["gsi2sk"]["S"]) <= 1024
    # And it is the same status next cycle: not re-announced
    assert unchanged(store, key, status, "m")


@pytest.mark.parametrize(
    "text",
    [
        "lone \ud800 surrogate and \udfff another",
        "controls \x00\x01\x07\x1b[31m\r\n\t\x7f\u2028 end",
        "bidi \u202eevil\u202c and zero\u200bwidth and emoji \U0001f4a5",
    ],
    ids=["lone surrogates", "control characters", "bidi and astral"],
)
def test_odd_code_points_are_recorded_losslessly(store: DynamoDBSnapshotStore, text: str) -> None:
    key = JobKey("p", "odd")
    record(store, key, text, text)
    (history,) = store.history(key)
    assert (history.status, history.status_message) == (text, text)
    assert unchanged(store, key, text, text)
    assert store.pending(T0 + timedelta(days=1))[0][0].status_message == text


@pytest.mark.parametrize("size", [400_000, 1_500_000], ids=["400k chars", "1.5M chars"])
def test_an_incompressible_message_or_status_is_shortened_to_fit_with_its_digest(
    store: DynamoDBSnapshotStore, size: int
) -> None:
    # Given a StatusMessage (and a Status) that no compression brings under 400 KB
    key, huge = JobKey("p", "huge"), incompressible(size)
    record(store, key, "FAILED", huge)
    record(store, key, huge[:3000] + "!", huge + "?")
    # Then both changes are recorded, every item under DynamoDB's limit
    items = raw_items(store, "JOB#p#huge")
    assert len(items) == 3
    assert all(item_size(i) <= DYNAMODB_ITEM_BYTES for i in items)
    # And the state knows the full texts by their digests
    state = store.get_jobs([key])[key]
    assert state.same_message(huge + "?") and not state.same_message(huge)
    history = plain(next(i for i in items if i["sk"]["S"] == "V#0000000001"))
    assert history["status_message_digest"] == message_digest(huge)
    assert unchanged(store, key, huge[:3000] + "!", huge + "?")


def test_a_service_status_reading_removed_is_just_a_status(store: DynamoDBSnapshotStore) -> None:
    # Given a job whose service status is the text REMOVED, watched by a cycle
    source, clock = FakeJobSource(), FakeClock(T0)
    events = FakePublisher("events")
    cycle = PollCycle(source, store, [events], clock=clock)
    source.set("widgets", "seed", "SUCCEEDED")
    cycle.run()  # baseline
    source.set("widgets", "odd", "REMOVED", "the service's own word")
    # When cycles run
    reports = []
    for _ in range(3):
        clock.advance(60)
        reports.append(cycle.run())
    # Then it is announced once, as a discovered job, and never again
    assert [len(r.recorded) for r in reports] == [1, 0, 0]
    assert reports[0].recorded[0].change_type is ChangeType.DISCOVERED
    assert len(events.published) == 1
    assert not store.get_jobs([JobKey("widgets", "odd")])[JobKey("widgets", "odd")].removed


def test_a_state_item_written_before_the_removed_marker_still_reads_as_removed(
    store: DynamoDBSnapshotStore,
) -> None:
    legacy = {"pk": "JOB#p#j", "sk": "STATE", "project": "p", "job": "j", "version": 2}
    store.client.put_item(TableName=store.table, Item=to_item({**legacy, "status": "REMOVED"}))
    assert store.get_jobs([JobKey("p", "j")])[JobKey("p", "j")].removed


ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=60) | st.sampled_from(
    ["REMOVED", "", "S" * 2100, "\ud83d", "a\x00b"]
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(status=ANY_TEXT, message=st.none() | ANY_TEXT)
def test_any_unicode_status_and_message_is_recorded_once_and_read_back_exactly(
    store: DynamoDBSnapshotStore, status: str, message: str | None
) -> None:
    key = JobKey("p", f"job-{message_digest(repr((status, message)))[:12]}")
    if key in store.get_jobs([key]):
        return  # hypothesis repeated an example
    change = record(store, key, status, message)
    (history,) = store.history(key)
    assert (history.status, history.status_message, history.event_id) == (
        status,
        message,
        change.event_id,
    )
    assert unchanged(store, key, status, message)
