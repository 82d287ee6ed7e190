"""One invocation's state and the per-project and per-job steps the scan and the watch share:
list a project's jobs, describe a job, record its change.  Every failure of a single project or
job is counted in the report and the others go on; only an unreachable service or a failing
store ends the invocation (the caller's guard reports it)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime

from lfv_monitor.domain.changes import detect_changes, identified, removal
from lfv_monitor.domain.cycle.report import CycleReport
from lfv_monitor.domain.errors import (
    AccessDeniedError,
    MonitorError,
    ResourceNotFoundError,
    ServiceUnreachableError,
    StoreError,
    ThrottledError,
)
from lfv_monitor.domain.models import Change, ChangeType, JobKey, JobSummary, Project, StoredJob
from lfv_monitor.domain.ports import JobSource, SnapshotStore
from lfv_monitor.domain.targets import Scope

log = logging.getLogger("lfv_monitor.cycle")

#: The StatusMessage recorded for a job the service no longer knows.
REMOVED_REASON = "Lookout for Vision answered ResourceNotFound: the job or its project was deleted."


class Invocation:
    """The state of one invocation, shared by the lister and the describe worker."""

    def __init__(
        self,
        source: JobSource,
        store: SnapshotStore,
        *,
        clock: Callable[[], datetime],
        observer: str,
        correlation_id: str | None,
        report: CycleReport,
        out_of_time: Callable[[], bool],
        time_left: Callable[[], float | None] = lambda: None,
        scope: Scope | None = None,
    ) -> None:
        self.source = source
        self.store = store
        self.clock = clock
        self.observer = observer
        self.correlation_id = correlation_id
        self.report = report
        self.out_of_time = out_of_time
        #: Seconds left before the margin (None: no deadline).
        self.time_left = time_left
        #: Whose jobs these are (account, region; qualified for another target than home).
        self.scope = scope or Scope()
        self.lock = threading.Lock()
        self.undelivered: list[Change] = []
        self.skipped: set[str] = set()  # projects with a describe the deadline cut off
        self.skipped_jobs = 0  # describes the deadline cut off
        self.write_failed: set[str] = set()  # projects with a job whose write failed

    # -- listing -------------------------------------------------------------------------
    def list_projects(self) -> list[Project]:
        try:
            projects = self.source.list_projects()
        except ServiceUnreachableError:
            raise
        except MonitorError as exc:
            self._listing_failed(exc, project=None)
            return []
        self.report.projects_seen = len(projects)
        return projects

    def list_jobs(self, project: Project) -> list[JobSummary] | None:
        try:
            return self.source.list_jobs(project.name)
        except ServiceUnreachableError:
            raise
        except ResourceNotFoundError:
            # Deleted between ListProjects and ListModelPackagingJobs: its tracked in-progress
            # jobs are described and recorded as removed.
            log.info("project disappeared while listing", extra={"project": project.name})
            return []
        except MonitorError as exc:
            self._listing_failed(exc, project=project.name)
            return None

    def _listing_failed(self, exc: MonitorError, *, project: str | None) -> None:
        with self.lock:
            self.count_error(exc, project=project, job=None)
            self.report.listing_complete = False
            if isinstance(exc, AccessDeniedError):
                self.report.listing_denied += 1

    # -- one job -------------------------------------------------------------------------
    def check_job(
        self,
        key: JobKey,
        stored: StoredJob | None,
        arns: Mapping[str, str | None],
        *,
        baseline: bool | None = None,
    ) -> None:
        """Describe one job and record what changed (a removal when the service forgot it).

        ``baseline``: a job never recorded is recorded silently (its project's first scan);
        by default, when the whole cycle is the first scan.  A write that fails is counted and
        left for the next cycle; the other jobs go on.
        """
        if self.out_of_time():
            with self.lock:
                self.skipped.add(key.project)
                self.skipped_jobs += 1
            return
        try:
            self._check(key, stored, arns, self.report.baseline if baseline is None else baseline)
        except StoreError as exc:
            with self.lock:
                self.report.write_failures += 1
                self.report.errors["StoreError"] += 1
                self.write_failed.add(key.project)
            log.error(
                "writing a job's change failed; retried next cycle, other jobs go on",
                extra={"project": key.project, "job": key.job, "reason": str(exc)},
            )

    def _check(
        self,
        key: JobKey,
        stored: StoredJob | None,
        arns: Mapping[str, str | None],
        baseline: bool,
    ) -> None:
        try:
            description = self.source.describe_job(key)
        except ServiceUnreachableError:
            raise
        except ResourceNotFoundError:
            self._count_described()
            if stored is not None and not stored.removed:
                gone = removal(stored, observed_at=self.clock(), reason=REMOVED_REASON)
                self.record(gone, stored.version)
            return
        except MonitorError as exc:
            with self.lock:
                self.count_error(exc, project=key.project, job=key.job)
            return
        self._count_described()
        changes = detect_changes(
            stored,
            description,
            observed_at=self.clock(),
            baseline=baseline,
            project_arn=arns.get(key.project),
        )
        # A re-created job: the old incarnation's REMOVED, then the new one's DISCOVERED.
        expected = stored.version if stored else None
        for change in changes:
            if not self.record(change, expected):
                break
            expected = change.version
        if not changes and stored is not None and description.last_updated != stored.last_updated:
            self.store.refresh(stored, description.last_updated)

    def _count_described(self) -> None:
        with self.lock:
            self.report.jobs_described += 1

    def record(self, change: Change, expected: int | None) -> bool:
        """Record ``change`` if the stored version is still ``expected``; False if it lost."""
        change = identified(
            replace(change, observer=self.observer, correlation_id=self.correlation_id),
            self.scope,
        )
        if not self.store.record(change, expected):
            with self.lock:
                self.report.lost_races += 1
            log.info(
                "change already recorded by another invocation",
                extra={"project": change.key.project, "job": change.key.job},
            )
            return False
        with self.lock:
            self.report.recorded.append(change)
            if change.announce:
                self.undelivered.append(change)
        level = logging.DEBUG if change.change_type is ChangeType.BASELINE else logging.INFO
        log.log(
            level,
            "job changed",
            extra={
                "project": change.key.project,
                "job": change.key.job,
                "change_type": change.change_type.value,
                "status": change.status,
                "previous_status": change.previous_status,
                "event_id": change.event_id,
                "version": change.version,
            },
        )
        return True

    def take_undelivered(self) -> list[Change]:
        with self.lock:
            changes, self.undelivered = self.undelivered, []
        return changes

    def count_error(self, exc: MonitorError, *, project: str | None, job: str | None) -> None:
        kind = {
            AccessDeniedError: "AccessDenied",
            ThrottledError: "Throttled",
            ResourceNotFoundError: "NotFound",
        }.get(type(exc), "SourceError")
        self.report.errors[kind] += 1
        log.warning(
            "Lookout for Vision call failed; other jobs go on",
            extra={"error": kind, "project": project, "job": job, "reason": str(exc)},
        )
