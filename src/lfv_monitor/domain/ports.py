"""Ports: what the poll cycle needs from the outside world, by role.

Adapters (``lfv_monitor.adapters``) implement them by technology; tests use in-memory fakes
(``tests/fakes.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Protocol

from lfv_monitor.domain.models import (
    Change,
    JobDescription,
    JobKey,
    JobSummary,
    Project,
    ProjectRecord,
    Rotation,
    StoredJob,
)
from lfv_monitor.domain.targets import TargetMessage


class JobSource(Protocol):
    """Lookout for Vision, read-only.

    Raises ``ServiceUnreachableError`` when the service cannot be reached at all,
    ``ResourceNotFoundError`` for a project or job that is gone, ``AccessDeniedError``,
    ``ThrottledError`` and ``SourceError`` otherwise.
    """

    def list_projects(self) -> list[Project]: ...

    def list_jobs(self, project: str) -> list[JobSummary]: ...

    def describe_job(self, key: JobKey) -> JobDescription: ...


class SnapshotStore(Protocol):
    """The audit trail and the monitor's memory (DynamoDB in production)."""

    def is_initialized(self) -> bool:
        """True once a first (baseline) cycle has completed on this store."""
        ...

    def mark_initialized(self, at: datetime) -> None: ...

    def baseline_cursor(self) -> str | None:
        """While a first scan spans several cycles: the last project it fully recorded."""
        ...

    def save_baseline_cursor(self, project: str) -> None: ...

    def project_records(self) -> dict[str, ProjectRecord]:
        """Every project the monitor remembers something about (a pending baseline, a failure
        streak), by name; projects without a record are simply absent."""
        ...

    def save_project_record(self, record: ProjectRecord) -> None:
        """Write ``record``; an empty record (``record.empty``) deletes the project's record."""
        ...

    def rotation(self) -> Rotation:
        """The scan's place in its fair order (an empty ``Rotation`` when none is stored)."""
        ...

    def save_rotation(self, rotation: Rotation) -> None:
        """Remember the scan's place; an empty ``Rotation()`` deletes the record."""
        ...

    def get_jobs(self, keys: Sequence[JobKey]) -> dict[JobKey, StoredJob]:
        """Current-state items of ``keys`` (absent keys are simply missing), read in batches."""
        ...

    def active_jobs(self) -> list[StoredJob]:
        """Every tracked job the store holds as in progress (not terminal, not removed)."""
        ...

    def record(self, change: Change, expected_version: int | None) -> bool:
        """Atomically write the history item, the current state at ``change.version`` and (when
        the change is announced) its outbox entry, if the stored version is still
        ``expected_version`` (None: no state item yet).  False when another writer won."""
        ...

    def refresh(self, job: StoredJob, last_updated: datetime | None) -> None:
        """Remember a new LastUpdatedTimestamp that is not a change (no history, no outbox)."""
        ...

    def pending(self, now: datetime) -> list[tuple[Change, frozenset[str]]]:
        """Outbox: recorded changes with the channels they still have to reach, whose writer's
        lease has run out (it crashed) or that it released (its publish failed)."""
        ...

    def claim(self, event_ids: Iterable[str], channel: str, now: datetime) -> set[str]:
        """Take these outbox entries for one lease (a conditional write each): the ids this
        invocation may publish; another invocation holding one keeps it."""
        ...

    def release(self, event_ids: Iterable[str], channel: str) -> None:
        """Give up the lease on entries this invocation failed to publish: the next invocation
        retries them at once."""
        ...

    def mark_delivered(self, event_ids: Iterable[str], channel: str) -> None:
        """Remove ``channel`` from these outbox entries (and an entry once it has none)."""
        ...

    def take_poisoned(self) -> int:
        """The number of stored items set aside as malformed since the last call (the cycle
        adds it to ``report.poison_items``).  Reads never raise for a malformed item."""
        ...


class ChangePublisher(Protocol):
    """One delivery channel (EventBridge or SNS).  ``channel`` names it in the outbox."""

    channel: str

    def publish(self, changes: Sequence[Change]) -> set[str]:
        """Publish every change; return the event ids that were delivered.  Never raises for a
        partial failure: what is not returned stays in the outbox."""
        ...


class OrganizationDirectory(Protocol):
    """AWS Organizations, read-only: the parts of the tree the dispatcher resolves targets from.

    Raises ``AccessDeniedError`` (not the management account or a delegated administrator),
    ``ResourceNotFoundError`` (no such unit) and ``SourceError`` otherwise.
    """

    def active_accounts(self, parent_id: str) -> list[str]:
        """The ids of the ACTIVE accounts directly under ``parent_id`` (every page)."""
        ...

    def child_units(self, parent_id: str) -> list[str]:
        """The ids of the organizational units directly under ``parent_id`` (every page)."""
        ...


class TargetQueue(Protocol):
    """Where the dispatcher puts one message per target and period (SQS FIFO)."""

    def send(self, messages: Sequence[TargetMessage]) -> set[str]:
        """Send every message; return the deduplication ids that were accepted. Never raises
        for a partial failure: the caller counts what is missing."""
        ...
