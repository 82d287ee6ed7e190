"""Domain models for Lookout for Vision model packaging jobs.  Models do no I/O."""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

CREATED = "CREATED"
RUNNING = "RUNNING"
SUCCEEDED = "SUCCEEDED"
FAILED = "FAILED"
#: The lifecycle order of the known statuses; any other value is "unknown" and not terminal.
LIFECYCLE: tuple[str, ...] = (CREATED, RUNNING, SUCCEEDED, FAILED)
KNOWN_STATUSES = frozenset(LIFECYCLE)
TERMINAL_STATUSES = frozenset({SUCCEEDED, FAILED})
IN_PROGRESS_STATUSES = frozenset({CREATED, RUNNING})
#: The status the monitor records for a job that the service no longer knows.
REMOVED = "REMOVED"


def is_terminal(status: str | None) -> bool:
    """SUCCEEDED and FAILED are terminal; unknown or missing values are not."""
    return status in TERMINAL_STATUSES


def message_digest(message: str | None) -> str | None:
    """A fingerprint of a text (StatusMessage or Status), for comparing texts stored shortened.

    Any ``str`` has one: lone surrogates are encoded as they are (``surrogatepass``), so two
    different texts never share a digest and valid text digests as plain UTF-8.
    """
    if message is None:
        return None
    return hashlib.sha256(message.encode("utf-8", "surrogatepass")).hexdigest()


class ChangeType(enum.StrEnum):
    """Why a history item was written."""

    BASELINE = "BASELINE"  # first cycle of a new stack: recorded, never announced
    DISCOVERED = "DISCOVERED"  # a job never seen before
    STATUS = "STATUS"  # Status changed (StatusMessage may have changed too)
    STATUS_MESSAGE = "STATUS_MESSAGE"  # only StatusMessage changed
    REMOVED = "REMOVED"  # the service answered ResourceNotFound for a tracked job


@dataclass(frozen=True, slots=True, order=True)
class JobKey:
    project: str
    job: str

    def __str__(self) -> str:
        return f"{self.project}/{self.job}"


@dataclass(frozen=True, slots=True)
class Project:
    name: str
    arn: str | None = None


@dataclass(frozen=True, slots=True)
class JobSummary:
    """One row of ListModelPackagingJobs.  Every field but the key may be missing."""

    key: JobKey
    status: str | None = None
    status_message: str | None = None
    last_updated: datetime | None = None
    model_version: str | None = None
    #: The listed job's CreationTimestamp: another one than recorded is a re-created job.
    created: datetime | None = None

    @property
    def in_progress(self) -> bool:
        return not is_terminal(self.status)


@dataclass(frozen=True, slots=True)
class JobDescription:
    """DescribeModelPackagingJob's ``ModelPackagingDescription``.

    ``document`` is every field the service returned, JSON-ready (timestamps as epoch-second
    numbers, as on the wire): it is what the history item keeps in full.
    """

    key: JobKey
    status: str | None
    status_message: str | None
    model_version: str | None = None
    creation_timestamp: datetime | None = None
    last_updated: datetime | None = None
    document: dict[str, Any] = field(default_factory=dict)

    @property
    def greengrass_configuration(self) -> dict[str, Any] | None:
        cfg = self.document.get("ModelPackagingConfiguration") or {}
        value = cfg.get("Greengrass") if isinstance(cfg, dict) else None
        return value if isinstance(value, dict) else None

    @property
    def greengrass_output(self) -> dict[str, Any] | None:
        out = self.document.get("ModelPackagingOutputDetails") or {}
        value = out.get("Greengrass") if isinstance(out, dict) else None
        return value if isinstance(value, dict) else None


@dataclass(frozen=True, slots=True)
class StoredJob:
    """The job's current-state item: what the monitor last recorded."""

    key: JobKey
    status: str | None
    status_message: str | None
    version: int
    last_updated: datetime | None = None
    project_arn: str | None = None
    #: Set when ``status_message`` was stored shortened: the digest of the full text.
    status_message_digest: str | None = None
    #: The monitor recorded the job as gone (``ChangeType.REMOVED``).  Apart from ``status``: a
    #: service status that reads "REMOVED" is just a status.
    removed: bool = False
    #: Set when ``status`` was stored shortened or cleaned: the digest of the full text.
    status_digest: str | None = None
    #: The recorded incarnation's CreationTimestamp (None: unknown, recorded before it was kept).
    created: datetime | None = None

    def same_incarnation(self, created: datetime | None) -> bool:
        """Is a job created at ``created`` the one recorded here?  A job is identified by
        project, name and CreationTimestamp; when either side does not know it, it is."""
        return self.created is None or created is None or created == self.created

    def same_message(self, message: str | None) -> bool:
        """Is ``message`` the StatusMessage recorded here (even if stored shortened)?"""
        if self.status_message_digest is not None:
            return message_digest(message) == self.status_message_digest
        return message == self.status_message

    def same_status(self, status: str | None) -> bool:
        """Is ``status`` the Status recorded here (even if stored shortened)?"""
        if self.status_digest is not None:
            return message_digest(status) == self.status_digest
        return status == self.status

    @property
    def in_progress(self) -> bool:
        return not self.removed and not is_terminal(self.status)


@dataclass(frozen=True, slots=True)
class Change:
    """One recorded change of a job: a history item, and (unless a baseline) one announcement."""

    event_id: str
    change_type: ChangeType
    key: JobKey
    version: int  # the state item's version after this change (1 for the first record)
    status: str | None
    previous_status: str | None
    status_message: str | None
    previous_status_message: str | None
    observed_at: datetime
    skipped_states: tuple[str, ...] = ()
    project_arn: str | None = None
    description: JobDescription | None = None  # None for REMOVED
    observer: str = "lfv-monitor"  # who recorded it: the function name, or "cli@host"
    correlation_id: str | None = None  # the cycle that recorded it (the schedule's execution id)
    created: datetime | None = None  # the incarnation's CreationTimestamp (None: unknown)
    #: The job's AWS account and region (issue 15); None when the monitor does not know its own
    #: account (the CLI without MONITOR_ACCOUNT_ID) or before the cycle placed the change.
    account: str | None = None
    region: str | None = None

    @property
    def announce(self) -> bool:
        return self.change_type is not ChangeType.BASELINE

    @property
    def is_terminal(self) -> bool:
        return is_terminal(self.status)


@dataclass(frozen=True, slots=True)
class ProjectRecord:
    """What the monitor remembers about one project across invocations.  Only projects with
    something to remember have one, so an idle fleet writes nothing."""

    name: str
    #: The project could not be scanned during the first scan: its jobs, once it becomes
    #: readable, are recorded silently as BASELINE (not announced as DISCOVERED).
    baseline_pending: bool = False
    #: Consecutive cycles in which listing this project failed.
    failures: int = 0

    @property
    def empty(self) -> bool:
        return not self.baseline_pending and self.failures == 0


@dataclass(frozen=True, slots=True)
class Rotation:
    """Where the scan's fair order stands across invocations; written only when a cycle leaves
    checks for the next one (under load), so a cycle that checks everything writes nothing."""

    #: Projects whose listing was due but not reached, oldest first: listed first next cycle.
    owed: tuple[str, ...] = ()
    #: The first project with jobs in progress that was not checked: next cycle starts there.
    active_cursor: str | None = None
    #: When the oldest unchecked work became due (None: nothing is left over).
    backlog_since: datetime | None = None
