"""In-memory fakes of the domain ports: fast, no network, no mocks."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from lfv_monitor.domain.errors import ResourceNotFoundError
from lfv_monitor.domain.models import (
    Change,
    ChangeType,
    JobDescription,
    JobKey,
    JobSummary,
    Project,
    ProjectRecord,
    Rotation,
    StoredJob,
    is_terminal,
)
from lfv_monitor.domain.targets import TargetMessage

T0 = datetime(2026, 11, 1, tzinfo=UTC)


@dataclass
class FakeJob:
    status: str | None
    message: str | None = None
    updated: datetime = T0
    model_version: str = "1"
    created: datetime = T0


@dataclass
class FakeJobSource:
    """Projects → jobs, changed by tests; errors injected per project or job."""

    projects: dict[str, dict[str, FakeJob]] = field(default_factory=dict)
    errors: dict[str, Exception] = field(default_factory=dict)  # "p" or "p/j" or "*list"
    calls: list[str] = field(default_factory=list)

    def set(
        self,
        project: str,
        job: str,
        status: str | None,
        message: str | None = None,
        at: datetime = T0,
        *,
        created: datetime = T0,
    ) -> None:
        """Set a job's state; another ``created`` is the job deleted and re-created."""
        self.projects.setdefault(project, {})[job] = FakeJob(status, message, at, "1", created)

    def list_projects(self) -> list[Project]:
        self.calls.append("ListProjects")
        if "*list" in self.errors:
            raise self.errors["*list"]
        return [
            Project(p, f"arn:aws:lookoutvision:us-east-1:123456789012:project/{p}")
            for p in self.projects
        ]

    def list_jobs(self, project: str) -> list[JobSummary]:
        self.calls.append(f"ListModelPackagingJobs {project}")
        if project in self.errors:
            raise self.errors[project]
        if project not in self.projects:
            raise ResourceNotFoundError(f"project {project} not found")
        return [
            JobSummary(
                JobKey(project, name), j.status, j.message, j.updated, j.model_version, j.created
            )
            for name, j in self.projects[project].items()
        ]

    def describe_job(self, key: JobKey) -> JobDescription:
        self.calls.append(f"DescribeModelPackagingJob {key}")
        if str(key) in self.errors:
            raise self.errors[str(key)]
        job = self.projects.get(key.project, {}).get(key.job)
        if job is None:
            raise ResourceNotFoundError(f"job {key} not found")
        document = {
            "JobName": key.job,
            "ProjectName": key.project,
            "ModelVersion": job.model_version,
            "LastUpdatedTimestamp": int(job.updated.timestamp()),
            "CreationTimestamp": int(job.created.timestamp()),
        }
        if job.status is not None:
            document["Status"] = job.status
        if job.message is not None:
            document["StatusMessage"] = job.message
        return JobDescription(
            key, job.status, job.message, job.model_version, job.created, job.updated, document
        )

    def describes(self) -> list[str]:
        return [c.split(" ", 1)[1] for c in self.calls if c.startswith("Describe")]


@dataclass
class InMemorySnapshotStore:
    """The SnapshotStore contract in memory, including the version condition and the outbox."""

    states: dict[JobKey, StoredJob] = field(default_factory=dict)
    history: dict[JobKey, list[Change]] = field(default_factory=dict)
    outbox: dict[str, tuple[Change, set[str]]] = field(default_factory=dict)
    initialized_at: datetime | None = None
    cursor: str | None = None
    leases: dict[tuple[str, str], datetime] = field(default_factory=dict)
    lease: float = 60.0
    channels: tuple[str, ...] = ("events", "sns")
    projects: dict[str, ProjectRecord] = field(default_factory=dict)
    writes: int = 0
    batch_reads: int = 0
    rotation_record: Rotation = field(default_factory=Rotation)
    #: Malformed items "found" by reads, as tests set them; ``take_poisoned`` hands them over.
    poisoned: int = 0

    def is_initialized(self) -> bool:
        return self.initialized_at is not None

    def mark_initialized(self, at: datetime) -> None:
        self.initialized_at = at

    def baseline_cursor(self) -> str | None:
        return self.cursor

    def save_baseline_cursor(self, project: str) -> None:
        self.writes += 1
        self.cursor = project

    def project_records(self) -> dict[str, ProjectRecord]:
        return dict(self.projects)

    def save_project_record(self, record: ProjectRecord) -> None:
        self.writes += 1
        if record.empty:
            self.projects.pop(record.name, None)
        else:
            self.projects[record.name] = record

    def rotation(self) -> Rotation:
        return self.rotation_record

    def save_rotation(self, rotation: Rotation) -> None:
        self.writes += 1
        self.rotation_record = rotation

    def get_jobs(self, keys: Sequence[JobKey]) -> dict[JobKey, StoredJob]:
        self.batch_reads += (len(keys) + 99) // 100
        return {k: self.states[k] for k in keys if k in self.states}

    def active_jobs(self) -> list[StoredJob]:
        return [s for s in self.states.values() if s.in_progress]

    def record(self, change: Change, expected_version: int | None) -> bool:
        current = self.states.get(change.key)
        if (current.version if current else None) != expected_version:
            return False
        self.writes += 1
        self.history.setdefault(change.key, []).append(change)
        self.states[change.key] = StoredJob(
            change.key,
            change.status,
            change.status_message,
            change.version,
            change.description.last_updated if change.description else None,
            change.project_arn,
            removed=change.change_type is ChangeType.REMOVED,
            created=change.created,
        )
        if change.announce:
            self.outbox[change.event_id] = (change, set(self.channels))
            for channel in self.channels:
                self.leases[(change.event_id, channel)] = change.observed_at + timedelta(
                    seconds=self.lease
                )
        return True

    def refresh(self, job: StoredJob, last_updated: datetime | None) -> None:
        current = self.states.get(job.key)
        if current and current.version == job.version:
            self.writes += 1
            self.states[job.key] = replace(current, last_updated=last_updated)

    def pending(self, now: datetime) -> list[tuple[Change, frozenset[str]]]:
        return [
            (c, frozenset(ch for ch in channels if self.leases.get((c.event_id, ch), T0) <= now))
            for c, channels in self.outbox.values()
            if any(self.leases.get((c.event_id, ch), T0) <= now for ch in channels)
        ]

    def claim(self, event_ids: Iterable[str], channel: str, now: datetime) -> set[str]:
        claimed = set()
        for event_id in event_ids:
            if self.leases.get((event_id, channel), T0) <= now and event_id in self.outbox:
                self.leases[(event_id, channel)] = now + timedelta(seconds=self.lease)
                claimed.add(event_id)
        return claimed

    def release(self, event_ids: Iterable[str], channel: str) -> None:
        for event_id in event_ids:
            self.leases[(event_id, channel)] = T0

    def mark_delivered(self, event_ids: Iterable[str], channel: str) -> None:
        for event_id in event_ids:
            if event_id in self.outbox:
                self.outbox[event_id][1].discard(channel)
                if not self.outbox[event_id][1]:
                    del self.outbox[event_id]

    def take_poisoned(self) -> int:
        count, self.poisoned = self.poisoned, 0
        return count

    def all_history(self) -> list[Change]:
        return [c for changes in self.history.values() for c in changes]


@dataclass
class FakePublisher:
    channel: str
    published: list[Change] = field(default_factory=list)
    fail_next: int = 0  # fail this many whole publish calls
    calls: int = 0

    def publish(self, changes: Sequence[Change]) -> set[str]:
        self.calls += 1
        if self.fail_next:
            self.fail_next -= 1
            return set()
        self.published.extend(changes)
        return {c.event_id for c in changes}


class FakeClock:
    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def terminal_changes(changes: Iterable[Change]) -> list[Change]:
    return [
        c for c in changes if is_terminal(c.status) and c.change_type is not ChangeType.BASELINE
    ]


@dataclass
class FakeOrganization:
    """An AWS Organizations tree: unit -> child units, unit -> (account, state); errors per unit."""

    units: dict[str, list[str]] = field(default_factory=dict)
    accounts: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    errors: dict[str, Exception] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)

    def active_accounts(self, parent_id: str) -> list[str]:
        self.calls.append(f"accounts {parent_id}")
        if parent_id in self.errors:
            raise self.errors[parent_id]
        return [a for a, state in self.accounts.get(parent_id, []) if state == "ACTIVE"]

    def child_units(self, parent_id: str) -> list[str]:
        self.calls.append(f"units {parent_id}")
        if parent_id in self.errors:
            raise self.errors[parent_id]
        return list(self.units.get(parent_id, []))


@dataclass
class FakeTargetQueue:
    """A FIFO queue: keeps what was sent (deduplicated as SQS does); refuses the targets in
    ``refuse``."""

    sent: list[TargetMessage] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)

    def send(self, messages: Sequence[TargetMessage]) -> set[str]:
        accepted: set[str] = set()
        known = {m.deduplication_id for m in self.sent}
        for message in messages:
            if message.target.id in self.refuse:
                continue
            if message.deduplication_id not in known:
                self.sent.append(message)
                known.add(message.deduplication_id)
            accepted.add(message.deduplication_id)
        return accepted
