"""Property, at cycle level (issue 12): whatever text the service returns and whatever corrupted
items sit in the table, a whole cycle never raises, and every well-formed job's change is
recorded once and announced once on each channel.

The store-level properties are elsewhere (``test_dynamodb_text.py``: any text recorded and read
back; ``test_dynamodb_poison.py``: arbitrary state items never fail a read;
``tests/unit/test_table_parsing.py``: arbitrary items parse to ``MalformedItemError`` only).
Here the cycle runs over the real store on moto server (the in-memory fake cannot hold a corrupt
item): a baseline, then arbitrary corrupted items of every kind (state, outbox, history, meta)
are written, then the jobs move to arbitrary statuses and messages, then a cycle with nothing
new.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lfv_monitor.adapters.dynamodb import DynamoDBSnapshotStore
from lfv_monitor.domain.cycle import PollCycle
from lfv_monitor.domain.models import Change, ChangeType, JobKey
from lfv_monitor.table.codec import plain, to_item
from lfv_monitor.table.items import history_item, outbox_item
from tests.fakes import FakeClock, FakeJobSource, FakePublisher
from tests.support.table import create_monitor_table

T0 = datetime(2026, 11, 1, tzinfo=UTC)
#: Any code point (lone surrogates, NUL, controls), and the cases the issue names.
ANY_TEXT = st.text(st.characters(exclude_categories=()), min_size=1, max_size=40) | st.sampled_from(
    ["REMOVED", "S" * 2100, "\ud83d", "a\x00b", "\x1b[2J\r\u202e"]
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.text(max_size=20),
    st.binary(min_size=1, max_size=10),
)
#: Map keys are never empty: DynamoDB refuses empty attribute names.
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(min_size=1, max_size=5), inner, max_size=3)
    ),
    max_leaves=5,
)
NOT_A_VERSION = VALUES.filter(lambda v: not isinstance(v, int) or isinstance(v, bool))
#: The attributes of each kind of item that may hold anything (index keys must stay strings:
#: DynamoDB itself refuses anything else there).
DAMAGEABLE = {
    "state": ["version", "status", "status_message", "status_message_digest", "last_updated"],
    "outbox": ["channel", "event_id", "ref_pk", "ref_sk", "created_at", "claimed_until"],
    "history": [
        "change_type",
        "version",
        "status",
        "status_message",
        "previous_status",
        "observed_at",
        "event_id",
        "skipped_states",
        "created_at",
    ],
    "meta": ["completed_at", "project"],
}
DAMAGE = st.sampled_from(sorted(DAMAGEABLE)).flatmap(
    lambda kind: st.tuples(
        st.just(kind),
        st.dictionaries(st.sampled_from(DAMAGEABLE[kind]), VALUES, min_size=1, max_size=3),
    )
)


@pytest.fixture
def ddb(aws_endpoint: str) -> Any:
    return boto3.client("dynamodb", endpoint_url=aws_endpoint)


class Table:
    """A fresh monitor table and raw writes into it."""

    def __init__(self, ddb: Any) -> None:
        self.ddb = ddb
        self.name = create_monitor_table(ddb, f"prop-{uuid.uuid4().hex[:12]}")
        self.store = DynamoDBSnapshotStore(self.name, client=ddb)
        self.written = 0

    def put(self, item: dict[str, Any]) -> None:
        kept = {k: v for k, v in item.items() if v is not None and v != ""}
        self.ddb.put_item(TableName=self.name, Item=to_item(kept))

    def get(self, pk: str, sk: str) -> dict[str, Any]:
        key = to_item({"pk": pk, "sk": sk})
        return plain(self.ddb.get_item(TableName=self.name, Key=key).get("Item") or {})

    def damage(self, kind: str, values: dict[str, Any]) -> None:
        """Write an item of ``kind`` with ``values`` in place of its own attributes."""
        self.written += 1
        if kind == "state":  # a job nobody lists, with an index entry so the cycle reads it
            base = self.get("JOB#widgets#victim", "STATE")
            base.update(pk="JOB#widgets#ghost", sk="STATE", job="ghost")
            base["active_sk"] = "widgets#ghost"
        elif kind == "outbox":
            base = {"pk": "OUTBOX", "sk": f"events#damaged-{self.written}", "channel": "events"}
        elif kind == "history":  # a change nobody watches, read through its outbox entries
            base = self._ghost_change()
        else:
            sk = "BASELINE" if "completed_at" in values else "BASELINE_CURSOR"
            base = {"pk": "META", "sk": sk}
        self.put({**base, **values})

    def _ghost_change(self) -> dict[str, Any]:
        change = Change(
            event_id=f"ghost-{self.written}",
            change_type=ChangeType.DISCOVERED,
            key=JobKey("elsewhere", f"ghost-{self.written}"),
            version=1,
            status="RUNNING",
            previous_status=None,
            status_message=None,
            previous_status_message=None,
            observed_at=T0 - timedelta(hours=1),
        )
        for channel in ("events", "sns"):
            self.put(outbox_item(change, channel, timedelta(seconds=60)))
        return history_item(change, None)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    texts=st.lists(st.tuples(ANY_TEXT, st.none() | ANY_TEXT), min_size=1, max_size=3),
    damage=st.lists(DAMAGE, max_size=4),
    victim_version=NOT_A_VERSION,
)
def test_a_cycle_never_raises_and_records_every_well_formed_jobs_change(
    ddb: Any,
    texts: list[tuple[str, str | None]],
    damage: list[tuple[str, dict[str, Any]]],
    victim_version: Any,
) -> None:
    # Given a stack whose baseline recorded some jobs and a victim, all in progress
    table = Table(ddb)
    source, clock = FakeJobSource(), FakeClock(T0)
    events, sns = FakePublisher("events"), FakePublisher("sns")
    cycle = PollCycle(source, table.store, [events, sns], clock=clock)
    keys = [JobKey("widgets", f"job-{i}") for i in range(len(texts))]
    for key in [*keys, JobKey("widgets", "victim")]:
        source.set(key.project, key.job, "CREATED")
    cycle.run()
    # And then corrupted items of any kind in the table, the victim's state among them
    for kind, values in damage:
        table.damage(kind, values)
    table.put({**table.get("JOB#widgets#victim", "STATE"), "version": victim_version})
    # When the jobs move to any status and message, and two cycles run
    for key, (status, message) in zip(keys, texts, strict=True):
        source.set(key.project, key.job, status, message, T0 + timedelta(seconds=30))
    source.set("widgets", "victim", "SUCCEEDED", None, T0 + timedelta(seconds=30))
    reports = []
    for _ in range(2):
        clock.advance(60)
        reports.append(cycle.run())  # Then no cycle raises
    # And every well-formed job's change is recorded once, exactly as the service said it
    for key, (status, message) in zip(keys, texts, strict=True):
        history = [(c.status, c.status_message) for c in table.store.history(key)]
        expected = [("CREATED", None)] + ([(status, message)] if status != "CREATED" else [])
        if (status, message) == ("CREATED", None):
            expected = [("CREATED", None)]
        assert history == expected, key
    # And the victim's state was rebuilt from its history: its change is recorded after it
    victim = table.store.history(JobKey("widgets", "victim"))
    assert [(c.status, c.version) for c in victim] == [("CREATED", 1), ("SUCCEEDED", 2)]
    # And each announced change went out once on each channel, none in the quiet cycle
    for key in [*keys, JobKey("widgets", "victim")]:
        announced = [c.event_id for c in table.store.history(key) if c.announce]
        for publisher in (events, sns):
            assert [c.event_id for c in publisher.published if c.key == key] == announced
    assert [c for c in reports[1].recorded if c.key in keys] == []
    # And the corrupted items never turned a cycle unhealthy: they are counted instead
    assert all(r.health == "healthy" for r in reports), [r.reason() for r in reports]
    assert sum(r.poison_items for r in reports) >= 1  # the victim's state at least
