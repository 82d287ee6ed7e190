"""Poison items: a malformed stored item is set aside, counted once and never stops a cycle.

Against moto server over HTTP: each corruption the issue names is written straight into the
table, then the store (and a whole cycle over it) reads past it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lfv_monitor.adapters.dynamodb import DynamoDBSnapshotStore
from lfv_monitor.domain.changes import detect_change
from lfv_monitor.domain.cycle import PollCycle
from lfv_monitor.domain.models import Change, ChangeType, JobDescription, JobKey
from lfv_monitor.table.codec import plain, to_item
from tests.fakes import FakeClock, FakeJobSource, FakePublisher
from tests.support.table import create_monitor_table

T0 = datetime(2026, 11, 1, tzinfo=UTC)
LATER = T0 + timedelta(days=1)


@pytest.fixture
def ddb(aws_endpoint: str) -> Any:
    return boto3.client("dynamodb", endpoint_url=aws_endpoint)


@pytest.fixture
def store(ddb: Any) -> DynamoDBSnapshotStore:
    return DynamoDBSnapshotStore(create_monitor_table(ddb), client=ddb)


def record(store: DynamoDBSnapshotStore, key: JobKey, status: str, at: int = 0) -> Change:
    stored = store.get_jobs([key]).get(key)
    doc = {"Status": status, "CreationTimestamp": 1793491200, "LastUpdatedTimestamp": 1793491200}
    description = JobDescription(key, status, None, document=doc)
    change = detect_change(
        stored, description, observed_at=T0 + timedelta(seconds=at), baseline=False
    )
    assert change is not None
    assert store.record(change, stored.version if stored else None)
    return change


def raw(store: DynamoDBSnapshotStore, pk: str, sk: str) -> dict[str, Any]:
    response = store.client.get_item(TableName=store.table, Key=to_item({"pk": pk, "sk": sk}))
    return plain(response.get("Item") or {})


def put_raw(store: DynamoDBSnapshotStore, item: dict[str, Any]) -> None:
    store.client.put_item(TableName=store.table, Item=to_item(item))


def quarantined(store: DynamoDBSnapshotStore) -> list[dict[str, Any]]:
    response = store.client.query(
        TableName=store.table,
        KeyConditionExpression="pk = :q",
        ExpressionAttributeValues=to_item({":q": "QUARANTINE"}),
    )
    return [plain(i) for i in response["Items"]]


def corrupt(store: DynamoDBSnapshotStore, pk: str, sk: str, **changes: Any) -> None:
    item = raw(store, pk, sk)
    for name, value in changes.items():
        if value is None:
            item.pop(name, None)
        else:
            item[name] = value
    put_raw(store, item)


@pytest.mark.parametrize("version", ["three", None], ids=["text version", "missing version"])
def test_a_state_item_with_a_bad_version_is_rebuilt_from_history_and_the_job_goes_on(
    store: DynamoDBSnapshotStore, version: str | None
) -> None:
    # Given a job recorded twice, whose state item then gets a bad version
    key = JobKey("widgets", "cam-7")
    record(store, key, "CREATED")
    record(store, key, "RUNNING", at=10)
    corrupt(store, "JOB#widgets#cam-7", "STATE", version=version)
    # When the cycle reads it
    (job,) = store.active_jobs()
    # Then it reads the job as its history left it, counted once, with the original kept
    assert (job.status, job.version) == ("RUNNING", 2)
    assert store.take_poisoned() == 1
    (kept,) = quarantined(store)
    assert kept["original_pk"] == "JOB#widgets#cam-7" and "version" in kept["reason"]
    assert kept["action"] == "replaced"
    # And the next reads find a well-formed item: nothing more is counted
    assert store.get_jobs([key])[key].version == 2
    assert store.take_poisoned() == 0
    # And the job's next change is recorded after the history it already has
    record(store, key, "SUCCEEDED", at=20)
    assert [c.version for c in store.history(key)] == [1, 2, 3]


def test_a_state_item_without_history_is_moved_away_and_the_job_is_new_again(
    store: DynamoDBSnapshotStore,
) -> None:
    put_raw(store, {"pk": "JOB#p#j", "sk": "STATE", "project": "p", "job": "j", "version": "x"})
    assert store.get_jobs([JobKey("p", "j")]) == {}
    assert store.take_poisoned() == 1
    assert raw(store, "JOB#p#j", "STATE") == {}
    record(store, JobKey("p", "j"), "RUNNING")  # recorded as a new job, version 1


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        ({"ref_pk": None}, "ref_pk"),
        ({"claimed_until": "soon"}, "claimed_until"),
        ({"channel": 7}, "channel"),
    ],
    ids=["no ref_pk", "text claimed_until", "number channel"],
)
def test_a_malformed_outbox_entry_is_moved_to_quarantine(
    store: DynamoDBSnapshotStore, damage: dict[str, Any], reason: str
) -> None:
    # Given two changes awaiting delivery, one of whose outbox entries is damaged
    bad = record(store, JobKey("p", "bad"), "RUNNING")
    good = record(store, JobKey("p", "good"), "RUNNING")
    corrupt(store, "OUTBOX", f"events#{bad.event_id}", **damage)
    # When the outbox is read
    pending = {(c.event_id, ch) for c, chs in store.pending(LATER) for ch in chs}
    # Then everything well-formed is still there to deliver, and the damaged entry is set aside
    assert pending == {
        (good.event_id, "events"),
        (good.event_id, "sns"),
        (bad.event_id, "sns"),
    }
    assert store.take_poisoned() == 1
    (kept,) = quarantined(store)
    assert reason in kept["reason"] and kept["action"] == "moved"
    assert raw(store, "OUTBOX", f"events#{bad.event_id}") == {}
    store.pending(LATER)
    assert store.take_poisoned() == 0


def test_an_outbox_entry_whose_history_item_is_malformed_or_missing_is_set_aside(
    store: DynamoDBSnapshotStore,
) -> None:
    # Given a change whose history item has an unknown change_type, and one whose is gone
    odd = record(store, JobKey("p", "odd"), "RUNNING")
    gone = record(store, JobKey("p", "gone"), "RUNNING")
    corrupt(store, "JOB#p#odd", "V#0000000001", change_type="TELEPORTED")
    store.client.delete_item(
        TableName=store.table, Key=to_item({"pk": "JOB#p#gone", "sk": "V#0000000001"})
    )
    # When the outbox is read, Then neither fails it
    assert store.pending(LATER) == []
    # And each entry (two channels each) is moved, the malformed history item copied (kept)
    assert store.take_poisoned() == 5
    reasons = sorted(k["reason"] for k in quarantined(store))
    assert sum("TELEPORTED" in r for r in reasons) == 3
    assert sum("missing" in r for r in reasons) == 2
    assert raw(store, "JOB#p#odd", "V#0000000001")["change_type"] == "TELEPORTED"
    assert odd.event_id != gone.event_id
    assert store.pending(LATER) == [] and store.take_poisoned() == 0


def test_a_malformed_baseline_marker_keeps_the_stack_initialized_and_is_repaired(
    store: DynamoDBSnapshotStore,
) -> None:
    put_raw(store, {"pk": "META", "sk": "BASELINE", "completed_at": 12})
    assert store.is_initialized()
    assert store.take_poisoned() == 1
    assert store.is_initialized() and store.take_poisoned() == 0
    put_raw(store, {"pk": "META", "sk": "BASELINE_CURSOR", "project": ["a"]})
    assert store.baseline_cursor() is None
    assert store.take_poisoned() == 1
    assert raw(store, "META", "BASELINE_CURSOR") == {}


def test_a_cycle_over_a_table_with_every_kind_of_poison_watches_every_other_job(
    store: DynamoDBSnapshotStore,
) -> None:
    # Given a stack that recorded four jobs, then got a corrupted item of each kind
    source = FakeJobSource()
    clock = FakeClock(T0)
    events, sns = FakePublisher("events"), FakePublisher("sns")
    cycle = PollCycle(source, store, [events, sns], clock=clock)
    for job in ("a", "b", "c", "d"):
        source.set("widgets", job, "RUNNING")
    cycle.run()  # the baseline
    source.set("widgets", "b", "SUCCEEDED")
    clock.advance(60)
    first = cycle.run()
    assert [c.key.job for c in first.recorded] == ["b"]
    corrupt(store, "JOB#widgets#a", "STATE", version="two")
    corrupt(store, "JOB#widgets#b", "V#0000000002", change_type="NOPE")
    put_raw(store, {"pk": "OUTBOX", "sk": "events#x", "channel": "events", "claimed_until": "z"})
    put_raw(store, {"pk": "META", "sk": "BASELINE", "completed_at": False})
    # When the jobs move on and the next cycles run
    for job in ("a", "c", "d"):
        source.set("widgets", job, "FAILED", "boom")
    source.set("widgets", "new", "CREATED")
    clock.advance(3600)
    report = cycle.run()
    # Then every change is recorded and announced, and the poison is counted, once
    assert report.succeeded
    assert sorted((c.key.job, c.change_type) for c in report.recorded) == [
        ("a", ChangeType.STATUS),
        ("c", ChangeType.STATUS),
        ("d", ChangeType.STATUS),
        ("new", ChangeType.DISCOVERED),
    ]
    assert {c.key.job for c in events.published} >= {"a", "c", "d", "new"}
    assert report.poison_items == 3  # the cycle took the count (PoisonItems)
    clock.advance(60)
    assert cycle.run().poison_items == 0


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.text(max_size=30),
    st.binary(min_size=1, max_size=20),
)
#: Map keys are never empty: DynamoDB refuses empty attribute names (moto stores them, then
#: answers with JSON botocore cannot parse).
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(min_size=1, max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
FIELDS = [
    "project",
    "job",
    "version",
    "status",
    "status_message",
    "status_message_digest",
    "last_updated",
    "project_arn",
    "active_pk",
    "active_sk",
]


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.dictionaries(st.sampled_from(FIELDS), VALUES, min_size=1))
def test_arbitrary_state_items_never_fail_a_read_and_well_formed_jobs_are_all_returned(
    store: DynamoDBSnapshotStore, damage: dict[str, Any]
) -> None:
    # Given a well-formed job and a state item made of arbitrary values
    good = JobKey("p", "good")
    if good not in store.get_jobs([good]):
        record(store, good, "RUNNING")
    item = {"pk": "JOB#p#odd", "sk": "STATE", **damage}
    if damage.get("active_pk") is not None and not isinstance(damage["active_pk"], str):
        item.pop("active_pk")  # an index key of the wrong type is refused by DynamoDB itself
    if damage.get("active_sk") is not None and not isinstance(damage["active_sk"], str):
        item.pop("active_sk")
    put_raw(store, {k: v for k, v in item.items() if v is not None and v != ""})
    # When the cycle's reads meet it, Then they never raise and the good job is always there
    assert good in store.get_jobs([good, JobKey("p", "odd")])
    assert good in {j.key for j in store.active_jobs()}
    store.take_poisoned()


def test_the_audit_leaves_a_malformed_history_item_out_and_answers_the_rest(
    store: DynamoDBSnapshotStore,
) -> None:
    from lfv_monitor.audit import AuditQueries

    key = JobKey("widgets", "cam-7")
    record(store, key, "CREATED")
    record(store, key, "RUNNING", at=10)
    corrupt(store, "JOB#widgets#cam-7", "V#0000000001", observed_at=None, version="one")
    queries = AuditQueries(store.table, client=store.client)
    page = queries.job_history("widgets", "cam-7")
    assert [(c.version, c.status) for c in page.items] == [(2, "RUNNING")]
    assert [c.status for c in queries.jobs("RUNNING").items] == ["RUNNING"]
