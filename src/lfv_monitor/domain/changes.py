"""Change detection: what a new description means against what the monitor recorded.  Pure."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from lfv_monitor.domain.events import event_id_for
from lfv_monitor.domain.models import (
    CREATED,
    IN_PROGRESS_STATUSES,
    REMOVED,
    RUNNING,
    TERMINAL_STATUSES,
    Change,
    ChangeType,
    JobDescription,
    JobKey,
    JobSummary,
    StoredJob,
)
from lfv_monitor.domain.targets import Scope

_ORDER = {CREATED: 0, RUNNING: 1}
_TERMINAL_INDEX = 2


def _index(status: str | None) -> int | None:
    if status in TERMINAL_STATUSES:
        return _TERMINAL_INDEX
    return _ORDER.get(status or "")


def skipped_states(previous: str | None, current: str | None) -> tuple[str, ...]:
    """The lifecycle states between ``previous`` and ``current`` that the monitor never saw.

    A job first seen as SUCCEEDED skipped CREATED and RUNNING; CREATED → FAILED skipped RUNNING.
    Unknown, terminal or removed previous states say nothing about the lifecycle.
    """
    current_index = _index(current)
    if current_index is None:
        return ()
    if previous is None:
        previous_index = -1
    elif previous in IN_PROGRESS_STATUSES:
        previous_index = _ORDER[previous]
    else:
        return ()
    return tuple(s for s, i in _ORDER.items() if previous_index < i < current_index)


def needs_describe(summary: JobSummary, stored: StoredJob | None) -> bool:
    """The scheduled cycle's describe rule for a listed job (the store's in-progress jobs are
    described apart): in progress in the list, or the list differs from the snapshot."""
    return summary.in_progress or listing_differs(summary, stored)


def listing_differs(summary: JobSummary, stored: StoredJob | None) -> bool:
    """Never recorded, re-appeared after removal, re-created (another CreationTimestamp), or
    any of Status, StatusMessage, LastUpdatedTimestamp differing from the stored snapshot.

    The scan and the watch describe only these: the list carries both fields a change is made
    of, so a job whose list entry matches its snapshot cannot have changed.
    """
    if stored is None or stored.removed:
        return True
    return (
        not stored.same_incarnation(summary.created)
        or not stored.same_status(summary.status)
        or not stored.same_message(summary.status_message)
        or summary.last_updated != stored.last_updated
    )


#: The StatusMessage recorded when a job in progress gives way to a job re-created under its name.
RECREATED_REASON = "A new job was created under this name: this one is gone."


def detect_changes(
    stored: StoredJob | None,
    description: JobDescription,
    *,
    observed_at: datetime,
    baseline: bool,
    project_arn: str | None = None,
) -> list[Change]:
    """The changes to record, in order, for ``description`` against ``stored``.

    Usually none or one (``detect_change``).  A job re-created under a recorded name (another
    CreationTimestamp) starts its own history: the old incarnation, if it was in progress, is
    ``REMOVED`` first, then the new one is ``DISCOVERED``; the old records are never rewritten.
    """
    change = detect_change(
        stored, description, observed_at=observed_at, baseline=baseline, project_arn=project_arn
    )
    if change is None or stored is None or not _recreated(stored, description):
        return [] if change is None else [change]
    if not stored.in_progress:
        return [change]
    gone = removal(stored, observed_at=observed_at, reason=RECREATED_REASON)
    version = gone.version + 1
    event_id = event_id_for(change.key, version, change.status, change.status_message)
    return [gone, replace(change, version=version, event_id=event_id)]


def _recreated(stored: StoredJob, description: JobDescription) -> bool:
    return not stored.removed and not stored.same_incarnation(description.creation_timestamp)


def detect_change(
    stored: StoredJob | None,
    description: JobDescription,
    *,
    observed_at: datetime,
    baseline: bool,
    project_arn: str | None = None,
) -> Change | None:
    """The change ``description`` makes against ``stored``, or None.

    Only ``Status`` and ``StatusMessage`` count; anything else is not a change, except a new
    incarnation (another CreationTimestamp under the same name): that is ``DISCOVERED``.
    """
    status, message = description.status, description.status_message
    arn = project_arn or (stored.project_arn if stored else None)
    if stored is None or stored.removed or _recreated(stored, description):
        change_type = ChangeType.BASELINE if baseline and stored is None else ChangeType.DISCOVERED
        previous_status = previous_message = None
        skipped = () if change_type is ChangeType.BASELINE else skipped_states(None, status)
    elif not stored.same_status(status):
        change_type = ChangeType.STATUS
        previous_status, previous_message = stored.status, stored.status_message
        skipped = skipped_states(stored.status, status)
    elif not stored.same_message(message):
        change_type = ChangeType.STATUS_MESSAGE
        previous_status, previous_message = stored.status, stored.status_message
        skipped = ()
    else:
        return None
    version = (stored.version if stored else 0) + 1
    return Change(
        event_id=event_id_for(description.key, version, status, message),
        change_type=change_type,
        key=description.key,
        version=version,
        status=status,
        previous_status=previous_status,
        status_message=message,
        previous_status_message=previous_message,
        observed_at=observed_at,
        skipped_states=skipped,
        project_arn=arn,
        description=description,
        created=description.creation_timestamp,
    )


def removal(stored: StoredJob, *, observed_at: datetime, reason: str | None = None) -> Change:
    """The change that records a tracked job the service no longer knows."""
    version = stored.version + 1
    key: JobKey = stored.key
    return Change(
        event_id=event_id_for(key, version, REMOVED, reason),
        change_type=ChangeType.REMOVED,
        key=key,
        version=version,
        status=REMOVED,
        previous_status=stored.status,
        status_message=reason,
        previous_status_message=stored.status_message,
        observed_at=observed_at,
        project_arn=stored.project_arn,
        created=stored.created,
    )


def located(change: Change, scope: Scope) -> Change:
    """A stored ``change`` with its job's account and region where its item does not name them
    (the home target's items do not); its event id is kept."""
    return replace(
        change, account=change.account or scope.account, region=change.region or scope.region
    )


def identified(change: Change, scope: Scope) -> Change:
    """A new ``change`` as a job of ``scope``: its account and region, and, for another target
    than the home one, the event id qualified with them (the home target's ids are unchanged)."""
    placed = replace(change, account=scope.account, region=scope.region)
    target = scope.id_target
    if target is None:
        return placed
    event_id = event_id_for(
        change.key, change.version, change.status, change.status_message, target
    )
    return replace(placed, event_id=event_id)
