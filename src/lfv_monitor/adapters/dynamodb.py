"""``SnapshotStore`` over one DynamoDB table (design: docs/architecture.md, "Table design").

A change is one ``TransactWriteItems``: the immutable history item, the job's current state
conditional on its version (optimistic locking), and one outbox entry per channel.  Delivering
an announcement deletes its outbox entry; what is left is retried by later cycles.  The keys and
item shapes live in ``lfv_monitor.table``; the calls, their paging and error mapping in
``dynamodb_calls``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from lfv_monitor.adapters.dynamodb_calls import TableCalls
from lfv_monitor.clients import aws_client
from lfv_monitor.domain.models import Change, JobKey, StoredJob
from lfv_monitor.table import items, layout
from lfv_monitor.table.codec import epoch, to_item

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
    ) -> None:
        self.table = table_name
        self.client = client if client is not None else aws_client("dynamodb")
        self.calls = TableCalls(table_name, self.client)
        self.retention = timedelta(days=retention_days) if retention_days else None
        self.channels = tuple(channels)
        self.lease = timedelta(seconds=outbox_lease_seconds)

    # -- baseline ------------------------------------------------------------------------
    def is_initialized(self) -> bool:
        return "completed_at" in self.calls.get(layout.META_PK, layout.BASELINE_SK)

    def mark_initialized(self, at: datetime) -> None:
        self.calls.put(
            {"pk": layout.META_PK, "sk": layout.BASELINE_SK, "completed_at": layout.key_time(at)}
        )

    def baseline_cursor(self) -> str | None:
        cursor = self.calls.get(layout.META_PK, layout.BASELINE_CURSOR_SK).get("project")
        return cursor if isinstance(cursor, str) else None

    def save_baseline_cursor(self, project: str) -> None:
        self.calls.put({"pk": layout.META_PK, "sk": layout.BASELINE_CURSOR_SK, "project": project})

    # -- reads ---------------------------------------------------------------------------
    def get_jobs(self, keys: Sequence[JobKey]) -> dict[JobKey, StoredJob]:
        unique = list(dict.fromkeys(keys))
        # Eventually consistent: half the read cost, and safe: every write is conditional on
        # the version, so a stale read can only lose a race.
        found = self.calls.batch_get(
            [(layout.job_pk(k), layout.STATE_SK) for k in unique], consistent=False
        )
        jobs = (items.stored_of(item) for item in found)
        return {job.key: job for job in jobs}

    def active_jobs(self) -> list[StoredJob]:
        return [
            items.stored_of(item)
            for item in self.calls.query(
                IndexName=layout.ACTIVE_INDEX,
                KeyConditionExpression="active_pk = :a",
                ExpressionAttributeValues=to_item({":a": layout.ACTIVE_PK}),
            )
        ]

    def history(self, key: JobKey) -> list[Change]:
        """One job's recorded changes, oldest first (tests and tools; the audit reads its own)."""
        return [
            items.change_of(item)
            for item in self.calls.query(
                KeyConditionExpression="pk = :p AND begins_with(sk, :v)",
                ExpressionAttributeValues=to_item(
                    {":p": layout.job_pk(key), ":v": layout.HISTORY_PREFIX}
                ),
                ConsistentRead=True,
            )
        ]

    # -- writes --------------------------------------------------------------------------
    def record(self, change: Change, expected_version: int | None) -> bool:
        if expected_version is None:
            state_condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(pk)"}
        else:
            state_condition = {
                "ConditionExpression": "version = :v",
                "ExpressionAttributeValues": to_item({":v": expected_version}),
            }
        history = to_item(items.history_item(change, self.retention))
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
                    "Item": to_item(items.state_item(change)),
                    **state_condition,
                }
            },
        ]
        if change.announce:
            writes += [
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": to_item(items.outbox_item(change, channel, self.lease)),
                    }
                }
                for channel in self.channels
            ]
        return self.calls.transact(f"recording {change.key}", writes)

    def refresh(self, job: StoredJob, last_updated: datetime | None) -> None:
        self.calls.conditional_update(
            f"refreshing {job.key}",
            Key=to_item({"pk": layout.job_pk(job.key), "sk": layout.STATE_SK}),
            UpdateExpression="SET last_updated = :t",
            ConditionExpression="version = :v",
            ExpressionAttributeValues=to_item(
                {":t": epoch(last_updated) or Decimal(0), ":v": job.version}
            ),
        )

    # -- outbox --------------------------------------------------------------------------
    def pending(self, now: datetime) -> list[tuple[Change, frozenset[str]]]:
        channels: dict[tuple[str, str], set[str]] = {}
        for entry in self.calls.query(
            KeyConditionExpression="pk = :o",
            ExpressionAttributeValues=to_item({":o": layout.OUTBOX_PK}),
            ConsistentRead=True,
        ):
            if float(entry.get("claimed_until", 0)) <= now.timestamp():
                channels.setdefault((entry["ref_pk"], entry["ref_sk"]), set()).add(entry["channel"])
        if not channels:
            return []
        histories = {
            (item["pk"], item["sk"]): item
            for item in self.calls.batch_get(list(channels), consistent=True)
        }
        result = [
            (items.change_of(histories[ref]), frozenset(wanted))
            for ref, wanted in channels.items()
            if ref in histories
        ]
        result.sort(key=lambda pair: (pair[0].observed_at, pair[0].event_id))
        return result

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
            [(layout.OUTBOX_PK, layout.outbox_sk(channel, event_id)) for event_id in event_ids]
        )

    @staticmethod
    def _outbox_key(channel: str, event_id: str) -> dict[str, Any]:
        return to_item({"pk": layout.OUTBOX_PK, "sk": layout.outbox_sk(channel, event_id)})
