"""``SnapshotStore`` over one DynamoDB table (design: docs/architecture.md, "Table design").

A change is one ``TransactWriteItems``: the immutable history item, the job's current state
conditional on its version (optimistic locking), and one outbox entry per channel.  Delivering
an announcement deletes its outbox entry; what is left is retried by later cycles.  A malformed
item is set aside (``dynamodb_poison``), never fatal: ``take_poisoned`` counts them.  The keys and
item shapes live in ``lfv_monitor.table``; the calls, their paging and error mapping in
``dynamodb_calls``.

Why over 300 lines: this is the one implementation of the ``SnapshotStore`` port, a method per
thing the cycle asks of the table (states, records, the outbox, project records, the rotation,
the baseline); what could leave it already has (calls, poison, keys and item shapes).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from lfv_monitor.adapters.dynamodb_calls import TableCalls
from lfv_monitor.adapters.dynamodb_poison import Quarantine
from lfv_monitor.clients import aws_client
from lfv_monitor.domain.models import Change, JobKey, ProjectRecord, Rotation, StoredJob
from lfv_monitor.table import items, layout, parsing
from lfv_monitor.table.codec import epoch, to_item
from lfv_monitor.table.parsing import MalformedItemError

CHANNELS: tuple[str, ...] = ("events", "sns")


class DynamoDBSnapshotStore:
    """The audit trail.  ``client`` defaults to a new DynamoDB client."""

    def __init__(
        self,
        table_name: str,
        *,
        client: Any = None,
        retention_days: int = 0,
        channels: Sequence[str] = CHANNELS,
        outbox_lease_seconds: float = 60.0,
        keys: layout.TableKeys = layout.HOME,
    ) -> None:
        self.table = table_name
        self.client = client if client is not None else aws_client("dynamodb")
        self.calls = TableCalls(table_name, self.client)
        self.retention = timedelta(days=retention_days) if retention_days else None
        self.channels = tuple(channels)
        self.lease = timedelta(seconds=outbox_lease_seconds)
        self.quarantine = Quarantine(self.calls)
        #: Whose items these are: the home target's (the single-account keys) or another's.
        self.keys = keys

    def take_poisoned(self) -> int:
        """Malformed items set aside since the last call."""
        return self.quarantine.take()

    # -- baseline ------------------------------------------------------------------------
    def is_initialized(self) -> bool:
        item = self.calls.get(self.keys.meta_pk, layout.BASELINE_SK)
        if not item:
            return False
        try:
            parsing.baseline_completed(item)
        except MalformedItemError as exc:
            # The marker exists, so a baseline did complete: stay initialized (otherwise new
            # jobs would be recorded silently as BASELINE) and repair the marker.
            repaired = {**self._meta(layout.BASELINE_SK), "completed_at": _now()}
            self.quarantine.replace(item, f"baseline marker: {exc}", repaired)
        return True

    def mark_initialized(self, at: datetime) -> None:
        self.calls.put(
            {"pk": self.keys.meta_pk, "sk": layout.BASELINE_SK, "completed_at": layout.key_time(at)}
        )

    def baseline_cursor(self) -> str | None:
        item = self.calls.get(self.keys.meta_pk, layout.BASELINE_CURSOR_SK)
        if not item:
            return None
        try:
            return parsing.baseline_cursor(item)
        except MalformedItemError as exc:
            # Dropped: the first scan starts over (its writes are conditional; nothing doubles).
            self.quarantine.move(item, f"baseline cursor: {exc}")
            return None

    def save_baseline_cursor(self, project: str) -> None:
        self.calls.put(
            {"pk": self.keys.meta_pk, "sk": layout.BASELINE_CURSOR_SK, "project": project}
        )

    # -- the scan's fair order and per-project records -------------------------------------
    def rotation(self) -> Rotation:
        item = self.calls.get(self.keys.meta_pk, layout.ROTATION_SK)
        if not item:
            return Rotation()
        try:
            return parsing.rotation(item)
        except MalformedItemError as exc:
            # Dropped: the next cycle starts its fair order afresh (nothing is lost: it is
            # only where to start).
            self.quarantine.move(item, f"scan rotation: {exc}")
            return Rotation()

    def save_rotation(self, rotation: Rotation) -> None:
        if rotation == Rotation():
            self.calls.batch_delete([(self.keys.meta_pk, layout.ROTATION_SK)])
            return
        values: dict[str, Any] = {"pk": self.keys.meta_pk, "sk": layout.ROTATION_SK, "type": "META"}
        if rotation.owed:
            values["owed"] = list(rotation.owed)
        if rotation.active_cursor is not None:
            values["active_cursor"] = rotation.active_cursor
        if rotation.backlog_since is not None:
            values["backlog_since"] = epoch(rotation.backlog_since)
        self.calls.put(values)

    def project_records(self) -> dict[str, ProjectRecord]:
        records: dict[str, ProjectRecord] = {}
        found = self.calls.query(
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues=to_item({":p": self.keys.project_pk}),
            ConsistentRead=True,
        )
        for item in found:
            try:
                record = parsing.project_record(item)
            except MalformedItemError as exc:
                self.quarantine.move(item, f"project record: {exc}")
                continue
            records[record.name] = record
        return records

    def save_project_record(self, record: ProjectRecord) -> None:
        if record.empty:
            self.calls.batch_delete([(self.keys.project_pk, record.name)])
            return
        self.calls.put(
            {
                "pk": self.keys.project_pk,
                "sk": record.name,
                "type": "PROJECT",
                "baseline_pending": record.baseline_pending,
                "failures": record.failures,
            }
        )

    # -- reads ---------------------------------------------------------------------------
    def get_jobs(self, keys: Sequence[JobKey]) -> dict[JobKey, StoredJob]:
        unique = list(dict.fromkeys(keys))
        # Eventually consistent: half the read cost, and safe: every write is conditional on
        # the version, so a stale read can only lose a race.
        found = self.calls.batch_get(
            [(self.keys.job_pk(k), layout.STATE_SK) for k in unique], consistent=False
        )
        return {job.key: job for job in self._states(found)}

    def active_jobs(self) -> list[StoredJob]:
        found = self.calls.query(
            IndexName=layout.ACTIVE_INDEX,
            KeyConditionExpression="active_pk = :a",
            ExpressionAttributeValues=to_item({":a": self.keys.active_pk}),
        )
        return [job for job in self._states(found) if job.in_progress]

    def history(self, key: JobKey) -> list[Change]:
        """One job's well-formed changes, oldest first (tests and tools; the audit reads its
        own)."""
        changes = []
        for item in self._history_items(key):
            try:
                changes.append(parsing.change_of(item))
            except MalformedItemError:
                continue
        return changes

    # -- writes --------------------------------------------------------------------------
    def record(self, change: Change, expected_version: int | None) -> bool:
        if expected_version is None:
            state_condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(pk)"}
        else:
            state_condition = {
                "ConditionExpression": "version = :v",
                "ExpressionAttributeValues": to_item({":v": expected_version}),
            }
        history = to_item(items.history_item(change, self.retention, self.keys))
        writes: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self.table,
                    "Item": history,
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {
                "Put": {
                    "TableName": self.table,
                    "Item": to_item(items.state_item(change, self.keys)),
                    **state_condition,
                }
            },
        ]
        if change.announce:
            writes += [
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": to_item(items.outbox_item(change, channel, self.lease, self.keys)),
                    }
                }
                for channel in self.channels
            ]
        return self.calls.transact(f"recording {change.key}", writes)

    def refresh(self, job: StoredJob, last_updated: datetime | None) -> None:
        self.calls.conditional_update(
            f"refreshing {job.key}",
            Key=to_item({"pk": self.keys.job_pk(job.key), "sk": layout.STATE_SK}),
            UpdateExpression="SET last_updated = :t",
            ConditionExpression="version = :v",
            ExpressionAttributeValues=to_item(
                {":t": epoch(last_updated) or Decimal(0), ":v": job.version}
            ),
        )

    # -- outbox --------------------------------------------------------------------------
    def pending(self, now: datetime) -> list[tuple[Change, frozenset[str]]]:
        entries: dict[tuple[str, str], list[tuple[str, dict[str, Any]]]] = {}
        for entry in self.calls.query(
            KeyConditionExpression="pk = :o",
            ExpressionAttributeValues=to_item({":o": self.keys.outbox_pk}),
            ConsistentRead=True,
        ):
            try:
                ref, channel, claimed_until = parsing.outbox_entry(entry)
            except MalformedItemError as exc:
                self.quarantine.move(entry, f"outbox entry: {exc}")
                continue
            if claimed_until <= now.timestamp():
                entries.setdefault(ref, []).append((channel, entry))
        if not entries:
            return []
        histories = {
            (item["pk"], item["sk"]): item
            for item in self.calls.batch_get(list(entries), consistent=True)
        }
        result = []
        for ref, wanted in entries.items():
            change = self._announced_change(histories.get(ref), ref, [e for _, e in wanted])
            if change is not None:
                result.append((change, frozenset(channel for channel, _ in wanted)))
        result.sort(key=lambda pair: (pair[0].observed_at, pair[0].event_id))
        return result

    def _announced_change(
        self, history: dict[str, Any] | None, ref: tuple[str, str], entries: list[dict[str, Any]]
    ) -> Change | None:
        """The change the outbox ``entries`` announce; None (and the entries set aside) when
        their history item is missing or malformed."""
        if history is None:
            reason = f"outbox entry: its history item {ref} is missing"
        else:
            try:
                return parsing.change_of(history)
            except MalformedItemError as exc:
                reason = f"outbox entry: its history item {ref} is malformed: {exc}"
                self.quarantine.copy(history, f"history item: {exc}")
        for entry in entries:
            self.quarantine.move(entry, reason)
        return None

    def claim(self, event_ids: Iterable[str], channel: str, now: datetime) -> set[str]:
        # A failed condition: delivered, or claimed by another invocation meanwhile.
        return {
            event_id
            for event_id in event_ids
            if self.calls.conditional_update(
                f"claiming outbox entry {event_id}",
                Key=self._outbox_key(channel, event_id),
                UpdateExpression="SET claimed_until = :until",
                ConditionExpression="attribute_exists(pk) AND claimed_until <= :now",
                ExpressionAttributeValues=to_item(
                    {":until": epoch(now + self.lease), ":now": epoch(now)}
                ),
            )
        }

    def release(self, event_ids: Iterable[str], channel: str) -> None:
        for event_id in event_ids:
            self.calls.conditional_update(
                f"releasing outbox entry {event_id}",
                Key=self._outbox_key(channel, event_id),
                UpdateExpression="SET claimed_until = :zero",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues=to_item({":zero": 0}),
            )

    def mark_delivered(self, event_ids: Iterable[str], channel: str) -> None:
        self.calls.batch_delete(
            [(self.keys.outbox_pk, layout.outbox_sk(channel, event_id)) for event_id in event_ids]
        )

    # -- poison: state items ---------------------------------------------------------------
    def _states(self, found: Iterable[dict[str, Any]]) -> Iterator[StoredJob]:
        """Parsed state items; a malformed one is rebuilt from its history (or dropped)."""
        for item in found:
            try:
                yield parsing.stored_of(item)
            except MalformedItemError as exc:
                rebuilt = self._rebuild_state(item, f"state item: {exc}")
                if rebuilt is not None:
                    yield rebuilt

    def _rebuild_state(self, item: dict[str, Any], reason: str) -> StoredJob | None:
        key = self.keys.job_key_of(str(item.get("pk")))
        history = list(self._history_items(key)) if key else []
        return self.quarantine.rebuild_state(item, reason, key, history, self.keys)

    def _history_items(self, key: JobKey) -> Iterator[dict[str, Any]]:
        return self.calls.query(
            KeyConditionExpression="pk = :p AND begins_with(sk, :v)",
            ExpressionAttributeValues=to_item(
                {":p": self.keys.job_pk(key), ":v": layout.HISTORY_PREFIX}
            ),
            ConsistentRead=True,
        )

    def _meta(self, sk: str) -> dict[str, Any]:
        return {"pk": self.keys.meta_pk, "sk": sk}

    def _outbox_key(self, channel: str, event_id: str) -> dict[str, Any]:
        return to_item({"pk": self.keys.outbox_pk, "sk": layout.outbox_sk(channel, event_id)})


def _now() -> str:
    return layout.key_time(datetime.now(UTC))
