"""The soak's poison: a malformed item written straight into the table between two cycles.

Issue 12 (point 3) asks that a corrupted stored item is set aside and counted, never fatal, and
never costs a change. Each kind (``plan.POISON_KINDS``) is what
``tests/integration/test_dynamodb_poison.py`` writes, here into a table the monitor is using:

- ``state``: a recorded job's state item gets a text ``version`` (the store rebuilds it from
  the job's history: nothing recorded is lost, the job's next change follows its history);
- ``outbox``: an outbox entry with a text ``claimed_until`` and no reference (moved aside);
- ``history``: a change of a job nobody watches, whose history item has an unknown
  ``change_type``, with its two outbox entries (read through the outbox, set aside);
- ``meta``: the baseline marker of the wrong type (the stack stays initialized, repaired).

None of them touches a change the ledger expects: the real jobs' history and outbox are left
as they are.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from lfv_monitor.domain.models import Change, ChangeType, JobKey
from lfv_monitor.table import layout
from lfv_monitor.table.codec import plain, to_item
from lfv_monitor.table.items import history_item, outbox_item


class Poisoner:
    """Writes one malformed item of a kind into ``table`` (through ``client``, not the proxy)."""

    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table
        self.written = 0

    def write(self, kind: str, *, jobs: list[tuple[str, str]], now: datetime) -> str:
        """Write a malformed item of ``kind``; ``jobs`` are the service's jobs (a state item is
        corrupted on the first one recorded). Returns what was written, for the ledger."""
        self.written += 1
        if kind == "state":
            for project, job in jobs:
                if self._corrupt_state(JobKey(project, job)):
                    return f"state of {project}/{job} (version 'three')"
            kind = "outbox"  # nothing recorded yet
        if kind == "outbox":
            self._put(
                {
                    "pk": layout.OUTBOX_PK,
                    "sk": f"events#poison-{self.written}",
                    "channel": "events",
                    "claimed_until": "soon",
                }
            )
            return "outbox entry (text claimed_until, no ref_pk)"
        if kind == "history":
            return self._teleported(now)
        self._put({"pk": layout.META_PK, "sk": layout.BASELINE_SK, "completed_at": False})
        return "baseline marker (completed_at false)"

    def _corrupt_state(self, key: JobKey) -> bool:
        got = self.client.get_item(
            TableName=self.table,
            Key=to_item({"pk": layout.job_pk(key), "sk": layout.STATE_SK}),
            ConsistentRead=True,
        )
        if "Item" not in got:
            return False
        item = plain(got["Item"])
        item["version"] = "three"
        self._put(item)
        return True

    def _teleported(self, now: datetime) -> str:
        key = JobKey("soak-poison", f"ghost-{self.written}")
        change = Change(
            event_id=f"poison-{self.written:04d}",
            change_type=ChangeType.DISCOVERED,
            key=key,
            version=1,
            status="RUNNING",
            previous_status=None,
            status_message="never a job",
            previous_status_message=None,
            observed_at=now - timedelta(hours=1),  # its lease long over: the outbox reads it
        )
        item = history_item(change, None)
        item["change_type"] = "TELEPORTED"
        self._put(item)
        for channel in ("events", "sns"):
            self._put(outbox_item(change, channel, timedelta(seconds=60)))
        return f"history item of {key} (change_type 'TELEPORTED') and its outbox entries"

    def _put(self, item: dict[str, Any]) -> None:
        kept = {k: v for k, v in item.items() if v is not None}
        self.client.put_item(TableName=self.table, Item=to_item(kept))
