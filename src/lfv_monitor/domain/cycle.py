"""The poll cycle: one scheduled invocation, over the ports.  Pure orchestration, no I/O of its own.

Order of work (so what a deadline cuts off is the cheapest to redo):
1. deliver what earlier cycles recorded but could not announce (the outbox);
2. list projects and their jobs;
3. read the stored state of every listed job in batches, and the store's in-progress jobs;
4. describe, in this order, the store's in-progress jobs, the listed in-progress jobs, then the
   listed jobs that differ from their snapshot; record each change atomically;
5. announce what was recorded on every channel; what fails stays in the outbox.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from lfv_monitor.domain.changes import detect_change, needs_describe, removal
from lfv_monitor.domain.errors import (
    AccessDeniedError,
    MonitorError,
    ResourceNotFoundError,
    ServiceUnreachableError,
    ThrottledError,
)
from lfv_monitor.domain.models import Change, ChangeType, JobKey, JobSummary, Project, StoredJob
from lfv_monitor.domain.ports import ChangePublisher, JobSource, SnapshotStore

log = logging.getLogger("lfv_monitor.cycle")

#: Remaining seconds of the invocation (Lambda's ``get_remaining_time_in_millis`` / 1000).
RemainingTime = Callable[[], float]


@dataclass
class CycleReport:
    """What one cycle saw and did; the handler turns it into metrics and the CLI prints it."""

    started_at: datetime
    baseline: bool = False
    unreachable: bool = False
    listing_complete: bool = True
    deadline_reached: bool = False
    projects_seen: int = 0
    jobs_seen: int = 0
    jobs_described: int = 0
    lost_races: int = 0
    outbox_retried: int = 0
    recorded: list[Change] = field(default_factory=list)
    delivered: Counter[str] = field(default_factory=Counter)
    publish_failures: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    throttles: int = 0
    duration_seconds: float = 0.0

    @property
    def announced(self) -> list[Change]:
        return [c for c in self.recorded if c.announce]

    @property
    def succeeded(self) -> bool:
        """The cycle ran: it reached the service (errors on single jobs do not count)."""
        return not self.unreachable

    def as_dict(self) -> dict[str, object]:
        return {
            "baseline": self.baseline,
            "unreachable": self.unreachable,
            "listingComplete": self.listing_complete,
            "deadlineReached": self.deadline_reached,
            "projectsSeen": self.projects_seen,
            "jobsSeen": self.jobs_seen,
            "jobsDescribed": self.jobs_described,
            "changesRecorded": len(self.recorded),
            "changesByType": dict(Counter(c.change_type.value for c in self.recorded)),
            "announced": len(self.announced),
            "lostRaces": self.lost_races,
            "outboxRetried": self.outbox_retried,
            "delivered": dict(self.delivered),
            "publishFailures": dict(self.publish_failures),
            "errors": dict(self.errors),
            "throttles": self.throttles,
            "durationSeconds": round(self.duration_seconds, 3),
        }


class PollCycle:
    """Lists, compares, records and announces.  Build one per process; ``run`` once per tick."""

    def __init__(
        self,
        source: JobSource,
        store: SnapshotStore,
        publishers: Sequence[ChangePublisher],
        *,
        clock: Callable[[], datetime],
        observer: str = "lfv-monitor",
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.source = source
        self.store = store
        self.publishers = tuple(publishers)
        self.clock = clock
        self.observer = observer
        self._monotonic = monotonic
        self._correlation_id: str | None = None

    # -- public --------------------------------------------------------------------------
    def run(
        self,
        remaining: RemainingTime | None = None,
        *,
        margin_seconds: float = 10.0,
        correlation_id: str | None = None,
    ) -> CycleReport:
        start = self._monotonic()
        report = CycleReport(started_at=self.clock())
        self._correlation_id = correlation_id

        def out_of_time() -> bool:
            if remaining is not None and remaining() <= margin_seconds:
                report.deadline_reached = True
            return report.deadline_reached

        try:
            self._retry_outbox(report)
            report.baseline = not self.store.is_initialized()
            self._poll(report, out_of_time)
        except ServiceUnreachableError as exc:
            report.unreachable = True
            report.errors["ServiceUnreachable"] += 1
            log.error(
                "Lookout for Vision is unreachable; cycle ended early",
                extra={"reason": str(exc)},
            )
        # Announce whatever was recorded, even when the cycle ended early.
        self._deliver(report.announced, report)
        complete = report.listing_complete and not report.deadline_reached
        if report.baseline and complete and not report.unreachable:
            self.store.mark_initialized(self.clock())
        report.duration_seconds = self._monotonic() - start
        return report

    # -- steps ---------------------------------------------------------------------------
    def _retry_outbox(self, report: CycleReport) -> None:
        pending = self.store.pending()
        if not pending:
            return
        report.outbox_retried = len(pending)
        log.info("retrying undelivered changes", extra={"count": len(pending)})
        for publisher in self.publishers:
            changes = [c for c, channels in pending if publisher.channel in channels]
            self._publish(publisher, changes, report)

    def _poll(self, report: CycleReport, out_of_time: Callable[[], bool]) -> None:
        projects = self._list_projects(report)
        listed: dict[JobKey, JobSummary] = {}
        arns: dict[str, str | None] = {p.name: p.arn for p in projects}
        for project in projects:
            if out_of_time():
                report.listing_complete = False
                break
            for summary in self._list_jobs(project, report):
                listed[summary.key] = summary
        report.jobs_seen = len(listed)

        stored = self.store.get_jobs(sorted(listed))
        active = {job.key: job for job in self.store.active_jobs()}
        stored.update(active)

        order: list[JobKey] = list(sorted(active))
        seen = set(order)
        in_progress = [k for k, s in sorted(listed.items()) if s.in_progress and k not in seen]
        order += in_progress
        seen.update(in_progress)
        order += [
            k
            for k, s in sorted(listed.items())
            if k not in seen and needs_describe(s, stored.get(k))
        ]

        for key in order:
            if out_of_time():
                log.warning(
                    "deadline reached; the rest is picked up next cycle",
                    extra={"not_described": len(order) - report.jobs_described},
                )
                break
            self._check_job(key, stored.get(key), arns.get(key.project), report)

    def _list_projects(self, report: CycleReport) -> list[Project]:
        try:
            projects = self.source.list_projects()
        except ServiceUnreachableError:
            raise
        except MonitorError as exc:
            self._count_error(report, exc, project=None, job=None)
            report.listing_complete = False
            return []
        report.projects_seen = len(projects)
        return projects

    def _list_jobs(self, project: Project, report: CycleReport) -> list[JobSummary]:
        try:
            return self.source.list_jobs(project.name)
        except ServiceUnreachableError:
            raise
        except ResourceNotFoundError:
            # Deleted between ListProjects and ListModelPackagingJobs: its tracked in-progress
            # jobs are described below and recorded as removed.
            log.info("project disappeared while listing", extra={"project": project.name})
            return []
        except MonitorError as exc:
            self._count_error(report, exc, project=project.name, job=None)
            report.listing_complete = False
            return []

    def _check_job(
        self, key: JobKey, stored: StoredJob | None, arn: str | None, report: CycleReport
    ) -> None:
        try:
            description = self.source.describe_job(key)
        except ServiceUnreachableError:
            raise
        except ResourceNotFoundError as exc:
            report.jobs_described += 1
            if stored is not None and not stored.removed:
                self._record(
                    removal(stored, observed_at=self.clock(), reason=str(exc)), stored, report
                )
            return
        except MonitorError as exc:
            self._count_error(report, exc, project=key.project, job=key.job)
            return
        report.jobs_described += 1
        change = detect_change(
            stored,
            description,
            observed_at=self.clock(),
            baseline=report.baseline,
            project_arn=arn,
        )
        if change is not None:
            self._record(change, stored, report)
        elif stored is not None and description.last_updated != stored.last_updated:
            self.store.refresh(stored, description.last_updated)

    def _record(self, change: Change, stored: StoredJob | None, report: CycleReport) -> None:
        change = replace(change, observer=self.observer, correlation_id=self._correlation_id)
        if self.store.record(change, stored.version if stored else None):
            report.recorded.append(change)
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
        else:
            report.lost_races += 1
            log.info(
                "change already recorded by another invocation",
                extra={"project": change.key.project, "job": change.key.job},
            )

    def _deliver(self, changes: Sequence[Change], report: CycleReport) -> None:
        if not changes:
            return
        for publisher in self.publishers:
            self._publish(publisher, changes, report)

    def _publish(
        self, publisher: ChangePublisher, changes: Sequence[Change], report: CycleReport
    ) -> None:
        if not changes:
            return
        delivered = publisher.publish(changes)
        if delivered:
            self.store.mark_delivered(delivered, publisher.channel)
        report.delivered[publisher.channel] += len(delivered)
        failed = len({c.event_id for c in changes} - delivered)
        if failed:
            report.publish_failures[publisher.channel] += failed
            log.warning(
                "publish failed; kept in the outbox for the next cycle",
                extra={"channel": publisher.channel, "failed": failed},
            )

    @staticmethod
    def _count_error(
        report: CycleReport, exc: MonitorError, *, project: str | None, job: str | None
    ) -> None:
        kind = {
            AccessDeniedError: "AccessDenied",
            ThrottledError: "Throttled",
            ResourceNotFoundError: "NotFound",
        }.get(type(exc), "SourceError")
        report.errors[kind] += 1
        log.warning(
            "Lookout for Vision call failed; other jobs go on",
            extra={"error": kind, "project": project, "job": job, "reason": str(exc)},
        )


def changes_of(reports: Iterable[CycleReport]) -> list[Change]:
    """Every change recorded by ``reports``, in order (handy for the CLI and tests)."""
    return [c for r in reports for c in r.recorded]
