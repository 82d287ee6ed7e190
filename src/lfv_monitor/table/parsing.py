"""Stored items parsed defensively: a well-formed item becomes a domain value, anything else a
``MalformedItemError`` naming what is wrong.  Never any other exception, whatever the item holds.

The monitor only ever writes well-formed items; a malformed one was written by hand, by a tool,
or by a bug, and the store sets it aside (see ``adapters.dynamodb_poison``).
"""

from __future__ import annotations

import gzip
import json
import math
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from lfv_monitor.domain.models import (
    REMOVED,
    Change,
    ChangeType,
    JobDescription,
    JobKey,
    ProjectRecord,
    Rotation,
    StoredJob,
    message_digest,
)
from lfv_monitor.table import layout
from lfv_monitor.table.codec import from_dynamo, from_epoch

T = TypeVar("T")

#: Epoch seconds a stored timestamp may hold (years 1-9999).
_EPOCH_RANGE = (-62_135_596_800, 253_402_300_799)


class MalformedItemError(ValueError):
    """A stored item the monitor cannot read; the message says what is wrong."""


def guarded(parse: Callable[[dict[str, Any]], T], item: dict[str, Any]) -> T:
    """``parse(item)``, with any failure on the item's data raised as ``MalformedItemError``.

    Parsing stored data must never stop a cycle: whatever a hand-edited item holds (deeply
    nested maps, corrupt gzip, numbers out of range), it is a malformed item, not a crash.
    """
    try:
        return parse(item)
    except MalformedItemError:
        raise
    except Exception as exc:  # a malformed item of any kind
        raise MalformedItemError(f"{type(exc).__name__}: {exc}") from exc


def text(item: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    value = item.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise MalformedItemError(f"{name} is {_kind(value)}, not text")
    return value


def whole(item: dict[str, Any], name: str, *, minimum: int = 0) -> int:
    value = item.get(name)
    if not isinstance(value, Decimal | int) or isinstance(value, bool):
        raise MalformedItemError(f"{name} is {_kind(value)}, not a number")
    if isinstance(value, Decimal) and value != value.to_integral_value():
        raise MalformedItemError(f"{name} {value} is not a whole number")
    if int(value) < minimum:
        raise MalformedItemError(f"{name} {value} is below {minimum}")
    return int(value)


def instant(item: dict[str, Any], name: str) -> datetime | None:
    """An epoch-seconds attribute (None when absent)."""
    value = item.get(name)
    if value is None:
        return None
    if not isinstance(value, Decimal | int | float) or isinstance(value, bool):
        raise MalformedItemError(f"{name} is {_kind(value)}, not epoch seconds")
    if not (math.isfinite(float(value)) and _EPOCH_RANGE[0] <= value <= _EPOCH_RANGE[1]):
        raise MalformedItemError(f"{name} {value} is out of range")
    return from_epoch(value)


def _kind(value: object) -> str:
    return "missing" if value is None else type(value).__name__


def _job_key(item: dict[str, Any]) -> JobKey:
    key = JobKey(text(item, "project", required=True) or "", text(item, "job", required=True) or "")
    keys = layout.TableKeys.of(item.get("account"), item.get("region"))
    if item.get("pk") is not None and item["pk"] != keys.job_pk(key):
        raise MalformedItemError(f"project/job {key} do not match the key {item['pk']!r}")
    return key


# -- state ---------------------------------------------------------------------------------


def stored_of(item: dict[str, Any]) -> StoredJob:
    """A state item (plain values) as what the monitor last recorded of the job."""
    return guarded(_stored, item)


def _stored(item: dict[str, Any]) -> StoredJob:
    status = text(item, "status")
    return StoredJob(
        key=_job_key(item),
        status=status,
        status_message=text(item, "status_message"),
        version=whole(item, "version", minimum=1),
        last_updated=instant(item, "last_updated"),
        project_arn=text(item, "project_arn"),
        status_message_digest=text(item, "status_message_digest"),
        removed=_removed(item, status),
        status_digest=text(item, "status_digest"),
        created=created_time(item),
    )


def created_time(item: dict[str, Any]) -> datetime | None:
    """The incarnation's CreationTimestamp (absent on items written before it was kept)."""
    if item.get("created_at") is None:
        return None
    created = layout.parse_key_time(item["created_at"])
    if created is None:
        raise MalformedItemError(f"created_at {item['created_at']!r} is not a key time")
    return created


def _removed(item: dict[str, Any], status: str | None) -> bool:
    """The state's "removed" marker.  Items written before it existed (no ``removed``
    attribute) marked a removal with the status REMOVED."""
    if "removed" not in item:
        return status == REMOVED
    if not isinstance(item["removed"], bool):
        raise MalformedItemError(f"removed is {_kind(item['removed'])}, not true or false")
    return item["removed"]


# -- history -------------------------------------------------------------------------------


def change_of(item: dict[str, Any]) -> Change:
    """A history item (plain values) as the change it recorded."""
    return guarded(_change, item)


def observed_time(item: dict[str, Any]) -> datetime:
    observed = layout.parse_key_time(item.get("observed_at"))
    if observed is None:
        raise MalformedItemError(f"observed_at {item.get('observed_at')!r} is not a key time")
    return observed


def change_type(item: dict[str, Any]) -> ChangeType:
    value = text(item, "change_type", required=True)
    try:
        return ChangeType(value or "")
    except ValueError:
        raise MalformedItemError(f"change_type {value!r} is not a change type") from None


def _change(item: dict[str, Any]) -> Change:
    key = _job_key(item)
    version = whole(item, "version", minimum=1)
    if item.get("sk") is not None and item["sk"] != layout.history_sk(version):
        raise MalformedItemError(f"version {version} does not match the key {item['sk']!r}")
    description = _description_of(item, key)
    status, message = text(item, "status"), text(item, "status_message")
    if description is not None and item.get("status_message_digest"):
        message = description.status_message
    digest = item.get("status_digest")
    if description is not None and digest and message_digest(description.status) == digest:
        status = description.status
    skipped = item.get("skipped_states") or []
    if not isinstance(skipped, list) or not all(isinstance(s, str) for s in skipped):
        raise MalformedItemError("skipped_states is not a list of text")
    return Change(
        event_id=text(item, "event_id", required=True) or "",
        change_type=change_type(item),
        key=key,
        version=version,
        status=status,
        previous_status=text(item, "previous_status"),
        status_message=message,
        previous_status_message=text(item, "previous_status_message"),
        observed_at=observed_time(item),
        skipped_states=tuple(skipped),
        project_arn=text(item, "project_arn"),
        description=description,
        observer=text(item, "observer") or "lfv-monitor",
        created=created_time(item),
        account=text(item, "account"),
        region=text(item, "region"),
    )


def document_of(item: dict[str, Any]) -> dict[str, Any] | None:
    if "description" in item:
        value = from_dynamo(item["description"])
    elif "description_gz" in item:
        value = json.loads(gzip.decompress(bytes(item["description_gz"])))
    else:
        return None
    if not isinstance(value, dict):
        raise MalformedItemError("the description is not a JSON object")
    return value


def _description_of(item: dict[str, Any], key: JobKey) -> JobDescription | None:
    document = document_of(item)
    if document is None:
        return None
    message = document.get("StatusMessage", item.get("status_message"))
    status = document.get("Status", item.get("status"))
    return JobDescription(
        key=key,
        status=status if isinstance(status, str) else None,
        status_message=message if isinstance(message, str) else None,
        model_version=text(document, "ModelVersion"),
        creation_timestamp=instant(document, "CreationTimestamp"),
        last_updated=instant(document, "LastUpdatedTimestamp"),
        document=document,
    )


# -- outbox and meta -----------------------------------------------------------------------


def outbox_entry(item: dict[str, Any]) -> tuple[tuple[str, str], str, float]:
    """((ref_pk, ref_sk), channel, claimed_until epoch seconds) of an outbox entry."""
    return guarded(_outbox_entry, item)


def _outbox_entry(item: dict[str, Any]) -> tuple[tuple[str, str], str, float]:
    ref = (text(item, "ref_pk", required=True) or "", text(item, "ref_sk", required=True) or "")
    channel = text(item, "channel", required=True) or ""
    claimed = instant(item, "claimed_until")
    return ref, channel, claimed.timestamp() if claimed is not None else 0.0


def baseline_completed(item: dict[str, Any]) -> datetime:
    completed = layout.parse_key_time(item.get("completed_at"))
    if completed is None:
        raise MalformedItemError(f"completed_at {item.get('completed_at')!r} is not a key time")
    return completed


def baseline_cursor(item: dict[str, Any]) -> str:
    return text(item, "project", required=True) or ""


def project_record(item: dict[str, Any]) -> ProjectRecord:
    """A per-project record (``PROJECT``/``<name>``)."""
    name = text(item, "sk", required=True) or ""
    pending = item.get("baseline_pending", False)
    if not isinstance(pending, bool):
        raise MalformedItemError(f"baseline_pending is {_kind(pending)}, not a boolean")
    return ProjectRecord(name, baseline_pending=pending, failures=whole(item, "failures"))


def rotation(item: dict[str, Any]) -> Rotation:
    """The scan's fair order (``META``/``ROTATION``)."""
    owed = item.get("owed") or []
    if not isinstance(owed, list) or not all(isinstance(name, str) for name in owed):
        raise MalformedItemError(f"owed is {_kind(owed)}, not a list of project names")
    return Rotation(
        owed=tuple(owed),
        active_cursor=text(item, "active_cursor"),
        backlog_since=instant(item, "backlog_since"),
    )
