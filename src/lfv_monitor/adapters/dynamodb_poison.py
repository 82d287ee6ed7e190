"""Malformed items set aside: logged once with their key, counted, and kept in quarantine.

The policy (docs/architecture.md, "Table design", Poison items): a malformed state item is
rebuilt from the job's history; an outbox entry that is malformed, or points at a malformed or
missing history item, is moved to quarantine (there is nothing it could announce); a malformed
history item is copied to quarantine and left in place (history is never rewritten); a malformed
baseline marker is repaired (the stack stays initialized), a malformed baseline cursor dropped.
Each case writes one ``QUARANTINE`` item holding the reason and, when small, the original, so
nothing is lost and the cycle never reads the item again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from typing import Any

from lfv_monitor.adapters.dynamodb_calls import TableCalls
from lfv_monitor.domain.models import Change, JobKey, StoredJob
from lfv_monitor.table import items, layout, parsing
from lfv_monitor.table.codec import to_item
from lfv_monitor.table.parsing import MalformedItemError

log = logging.getLogger("lfv_monitor.store")

#: The original item is kept in its quarantine record when its JSON is at most this large.
ORIGINAL_LIMIT = 64 * 1024
REASON_LIMIT = 1000


def _json(item: dict[str, Any]) -> str:
    return json.dumps(item, sort_keys=True, default=repr, ensure_ascii=True)


class Quarantine:
    """Sets malformed items aside and counts them until ``take`` is called."""

    def __init__(self, calls: TableCalls) -> None:
        self.calls = calls
        self._count = 0
        self._lock = threading.Lock()

    def take(self) -> int:
        with self._lock:
            count, self._count = self._count, 0
        return count

    def record(self, item: dict[str, Any], reason: str, action: str) -> dict[str, Any]:
        """Count and log ``item`` once; the quarantine item that keeps it (low-level)."""
        pk, sk = str(item.get("pk")), str(item.get("sk"))
        with self._lock:
            self._count += 1
        log.warning(
            "malformed item set aside",
            extra={"pk": pk, "sk": sk, "reason": reason[:REASON_LIMIT], "action": action},
        )
        try:
            original = _json(item)
        except (ValueError, RecursionError):
            original = repr(sorted(item))
        kept = {
            "pk": layout.QUARANTINE_PK,
            "sk": layout.quarantine_sk(pk, sk, hashlib.sha256(original.encode()).hexdigest()[:16]),
            "type": "QUARANTINE",
            "original_pk": pk,
            "original_sk": sk,
            "reason": reason[:REASON_LIMIT],
            "action": action,
            "original_json": original if len(original) <= ORIGINAL_LIMIT else None,
            "original_omitted": True if len(original) > ORIGINAL_LIMIT else None,
        }
        return {"Put": {"TableName": self.calls.table, "Item": to_item(kept)}}

    def copy(self, item: dict[str, Any], reason: str) -> None:
        """Keep a copy of ``item`` in quarantine; the item itself stays (a history item)."""
        self.calls.transact(f"quarantining {item.get('pk')}", [self.record(item, reason, "copied")])

    def move(self, item: dict[str, Any], reason: str) -> None:
        """Move ``item`` to quarantine: the cycle no longer reads it."""
        delete = {
            "Delete": {
                "TableName": self.calls.table,
                "Key": to_item({"pk": item["pk"], "sk": item["sk"]}),
            }
        }
        self.calls.transact(
            f"quarantining {item.get('pk')}", [self.record(item, reason, "moved"), delete]
        )

    def replace(self, item: dict[str, Any], reason: str, replacement: dict[str, Any]) -> None:
        """Keep ``item`` in quarantine and put ``replacement`` (same key) in its place."""
        put = {"Put": {"TableName": self.calls.table, "Item": to_item(replacement)}}
        self.calls.transact(
            f"quarantining {item.get('pk')}", [self.record(item, reason, "replaced"), put]
        )

    def rebuild_state(
        self,
        item: dict[str, Any],
        reason: str,
        key: JobKey | None,
        history: list[dict[str, Any]],
        keys: layout.TableKeys = layout.HOME,
    ) -> StoredJob | None:
        """Replace a malformed state item of ``key`` by one rebuilt from its ``history`` items:
        the highest recorded version (so the next write follows it) with the newest well-formed
        change's status.  With no history at all the item is moved away: the job is new again.
        """
        versions = [v for h in history if (v := layout.version_of(str(h.get("sk")))) is not None]
        if key is None or not versions:
            self.move(item, reason)
            return None
        latest = next((c for c in map(_parsed_change, reversed(history)) if c), None)
        rebuilt = items.rebuilt_state_item(key, max(versions), latest, keys)
        self.replace(item, reason, rebuilt)
        return parsing.stored_of(rebuilt)


def _parsed_change(item: dict[str, Any]) -> Change | None:
    try:
        return parsing.change_of(item)
    except MalformedItemError:
        return None
