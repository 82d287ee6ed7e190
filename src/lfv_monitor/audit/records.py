"""Table items (plain values, read through ``lfv_monitor.table``) as the audit's records.

A malformed item (see docs/architecture.md, "Poison items") is left out of the answer with a
warning naming its key: one bad item never makes a whole audit question fail.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from lfv_monitor.audit.models import ChangeRecord, JobStateRecord
from lfv_monitor.table.codec import from_epoch
from lfv_monitor.table.layout import parse_key_time
from lfv_monitor.table.parsing import (
    MalformedItemError,
    created_time,
    guarded,
    observed_time,
    stored_of,
)

#: The job's (account, region) when its item does not name them (the home target's).
Place = tuple[str | None, str | None]


def change_record(item: dict[str, Any], place: Place = (None, None)) -> ChangeRecord:
    """A history item (plain values) as a record."""
    return ChangeRecord(
        account=item.get("account") or place[0],
        region=item.get("region") or place[1],
        project=item["project"],
        job=item["job"],
        version=int(item["version"]),
        observed_at=observed_time(item),
        change_type=item["change_type"],
        status=item.get("status"),
        previous_status=item.get("previous_status"),
        status_message=item.get("status_message"),
        status_message_truncated=bool(item.get("status_message_digest")),
        previous_status_message=item.get("previous_status_message"),
        skipped_states=list(item.get("skipped_states") or []),
        observer=item.get("observer", "lfv-monitor"),
        event_id=item["event_id"],
        project_arn=item.get("project_arn"),
        created_at=created_time(item),
    )


def state_record(item: dict[str, Any], place: Place = (None, None)) -> JobStateRecord:
    """A state item (plain values) as a record."""
    return JobStateRecord(
        account=item.get("account") or place[0],
        region=item.get("region") or place[1],
        project=item["project"],
        job=item["job"],
        status=item.get("status"),
        status_message=item.get("status_message"),
        status_message_truncated=bool(item.get("status_message_digest")),
        version=int(item["version"]),
        observed_at=parse_key_time(item.get("observed_at")),
        last_updated=from_epoch(item.get("last_updated")),
        project_arn=item.get("project_arn"),
        last_event_id=item.get("last_event_id"),
        created_at=created_time(item),
        removed=stored_of(item).removed,
    )


R = TypeVar("R")
log = logging.getLogger("lfv_monitor.audit")


def _records(items: list[dict[str, Any]], build: Callable[[dict[str, Any]], R]) -> list[R]:
    records = []
    for item in items:
        try:
            records.append(guarded(build, item))
        except MalformedItemError as exc:
            log.warning(
                "malformed item left out of the answer",
                extra={"pk": item.get("pk"), "sk": item.get("sk"), "reason": str(exc)},
            )
    return records


def change_records(items: list[dict[str, Any]], place: Place = (None, None)) -> list[ChangeRecord]:
    return _records(items, lambda item: change_record(item, place))


def state_records(items: list[dict[str, Any]], place: Place = (None, None)) -> list[JobStateRecord]:
    return _records(items, lambda item: state_record(item, place))
