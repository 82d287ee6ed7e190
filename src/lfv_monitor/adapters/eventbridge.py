"""``ChangePublisher`` on an EventBridge custom bus (PutEvents, 10 entries a call)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from lfv_monitor.adapters.batching import chunks, send_batch
from lfv_monitor.domain.events import (
    DEFAULT_SOURCE,
    DETAIL_TYPE,
    PUT_EVENTS_MAX_BYTES,
    build_detail,
    dumps,
)
from lfv_monitor.domain.models import Change

logger = logging.getLogger(__name__)

#: What EventBridge counts for an entry's ``Time`` (documented entry-size calculation).
_TIME_BYTES = 14


def entry_size(entry: dict[str, Any]) -> int:
    """Size of a PutEvents entry as EventBridge computes it (UTF-8 bytes)."""
    size = _TIME_BYTES if "Time" in entry else 0
    for name in ("Source", "DetailType", "Detail"):
        size += len(str(entry.get(name, "")).encode("utf-8"))
    size += sum(len(r.encode("utf-8")) for r in entry.get("Resources", []))
    return size


class EventBridgePublisher:
    """Puts one ``Lookout for Vision Model Packaging Job State Change`` event per change."""

    channel = "events"

    def __init__(self, bus_name: str, *, source: str = DEFAULT_SOURCE, client: Any = None) -> None:
        if not bus_name:
            raise ValueError("EventBridgePublisher: bus_name must name an event bus (name or ARN)")
        if source.startswith("aws."):
            raise ValueError(f"EventBridgePublisher: source {source!r} must not start with 'aws.'")
        if client is None:
            from lfv_monitor.clients import aws_client

            client = aws_client("events")
        self.bus_name = bus_name
        self.source = source
        self.client = client

    def entry(self, change: Change) -> dict[str, Any]:
        """The PutEvents entry of ``change``."""
        entry: dict[str, Any] = {
            "EventBusName": self.bus_name,
            "Source": self.source,
            "DetailType": DETAIL_TYPE,
            "Detail": dumps(build_detail(change)),
            "Time": change.observed_at,
        }
        if change.project_arn:
            entry["Resources"] = [change.project_arn]
        return entry

    def publish(self, changes: Sequence[Change]) -> set[str]:
        """Put every change; return the event ids EventBridge accepted.  Never raises."""
        unique = list({c.event_id: c for c in changes}.values())
        items = [(c.event_id, self.entry(c)) for c in unique]
        sizes = [entry_size(e) for _, e in items]
        delivered: set[str] = set()
        for group in chunks(items, sizes, PUT_EVENTS_MAX_BYTES):
            delivered |= self._put(group)
        return delivered

    def _put(self, group: list[tuple[str, dict[str, Any]]]) -> set[str]:
        ids = [event_id for event_id, _ in group]
        response = send_batch(
            "PutEvents",
            self.channel,
            ids,
            lambda: self.client.put_events(Entries=[entry for _, entry in group]),
        )
        if response is None:
            return set()
        results = response.get("Entries", [])
        delivered: set[str] = set()
        for index, event_id in enumerate(ids):
            result = results[index] if index < len(results) else {}
            if result.get("EventId") and not result.get("ErrorCode"):
                delivered.add(event_id)
            else:
                logger.warning(
                    "PutEvents rejected an entry",
                    extra={
                        "channel": self.channel,
                        "event_id": event_id,
                        "error_code": result.get("ErrorCode", "MissingResult"),
                        "error_message": result.get("ErrorMessage", ""),
                    },
                )
        if response.get("FailedEntryCount", 0) and len(delivered) == len(ids):
            logger.warning(
                "PutEvents reported failures without naming them",
                extra={"channel": self.channel, "failed": response["FailedEntryCount"]},
            )
        return delivered
