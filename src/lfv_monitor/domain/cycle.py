"""The poll cycle: one scheduled invocation, over the ports.  Orchestration only, no I/O of its own.

One invocation:
1. delivers what earlier cycles recorded but could not announce (the outbox);
2. **scans**: lists projects and (a slice of) their jobs while one worker describes, side by side
   (each operation has its own quota): first the jobs the store holds as in progress, then the
   listed jobs in progress or differing from their snapshot; every change is recorded atomically;
3. announces what was recorded; what fails stays in the outbox;
4. **watches** (optional, sub-minute detection): while jobs are in progress and time is left
   before the next tick, re-checks only the projects with jobs in progress every interval.

A fleet too large to list in one period is scanned in slices: each cycle lists ``list_budget``
projects, the slice chosen by the period number, so the full scan rotates over several periods
with no state to write; jobs in progress are still described every cycle.  The very first scan
(the silent baseline) keeps a cursor in the store instead, so it can span cycles without losing
its place.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from datetime import datetime

from lfv_monitor.domain.changes import detect_changes, listing_differs, needs_describe, removal
from lfv_monitor.domain.errors import (
    AccessDeniedError,
    MonitorError,
    ResourceNotFoundError,
    ServiceUnreachableError,
    StoreError,
    ThrottledError,
)
from lfv_monitor.domain.models import Change, ChangeType, JobKey, JobSummary, Project, StoredJob
from lfv_monitor.domain.ports import ChangePublisher, JobSource, SnapshotStore

log = logging.getLogger("lfv_monitor.cycle")

#: The StatusMessage recorded for a job the service no longer knows.
REMOVED_REASON = "Lookout for Vision answered ResourceNotFound: the job or its project was deleted."
#: Stored states are read in batches of this many keys (DynamoDB BatchGetItem's limit).
BATCH = 100
#: The lister waits while this many describes are queued: listing further would only find work
#: the deadline cannot reach (a baseline, or a burst of changes).
BACKLOG = 100

#: Remaining seconds of the invocation (Lambda's ``get_remaining_time_in_millis`` / 1000).
RemainingTime = Callable[[], float]


@dataclass(frozen=True)
class CyclePolicy:
    """How much one invocation may do.  Built from the settings by the composition root."""

    margin_seconds: float = 10.0  # stop starting work this long before the deadline
    period_seconds: float = 60.0  # the schedule's period
    list_budget: int | None = None  # at most this many projects listed per cycle (None: all)
    full_scan_periods: int = 1  # spread one full scan over this many periods
    watch_interval: float = 0.0  # seconds between watch rounds (0: no watching)


@dataclass
class CycleReport:
    """What one invocation saw and did; the handler turns it into metrics, the CLI prints it."""

    started_at: datetime
    baseline: bool = False
    unreachable: bool = False
    store_failed: bool = False
    listing_complete: bool = True
    deadline_reached: bool = False
    projects_seen: int = 0
    projects_listed: int = 0
    jobs_seen: int = 0
    jobs_described: int = 0
    lost_races: int = 0
    outbox_retried: int = 0
    watch_rounds: int = 0
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
        """The cycle ran: it reached the service and the store (errors on single jobs do not
        count)."""
        return not (self.unreachable or self.store_failed)

    def as_dict(self) -> dict[str, object]:
        return {
            "baseline": self.baseline,
            "unreachable": self.unreachable,
            "storeFailed": self.store_failed,
            "listingComplete": self.listing_complete,
            "deadlineReached": self.deadline_reached,
            "projectsSeen": self.projects_seen,
            "projectsListed": self.projects_listed,
            "jobsSeen": self.jobs_seen,
            "jobsDescribed": self.jobs_described,
            "changesRecorded": len(self.recorded),
            "changesByType": dict(Counter(c.change_type.value for c in self.recorded)),
            "announced": len(self.announced),
            "lostRaces": self.lost_races,
            "outboxRetried": self.outbox_retried,
            "watchRounds": self.watch_rounds,
            "delivered": dict(self.delivered),
            "publishFailures": dict(self.publish_failures),
            "errors": dict(self.errors),
            "throttles": self.throttles,
            "durationSeconds": round(self.duration_seconds, 3),
        }


class _Run:
    """The state of one invocation, shared by the lister and the describe worker."""

    def __init__(self, report: CycleReport, out_of_time: Callable[[], bool]) -> None:
        self.report = report
        self.out_of_time = out_of_time
        self.lock = threading.Lock()
        self.undelivered: list[Change] = []
        self.skipped: set[str] = set()  # projects with a describe the deadline cut off


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
        policy: CyclePolicy | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.source = source
        self.store = store
        self.publishers = tuple(publishers)
        self.clock = clock
        self.observer = observer
        self.policy = policy or CyclePolicy()
        self._monotonic = monotonic
        self._sleep = sleep
        self._correlation_id: str | None = None

    # -- public --------------------------------------------------------------------------
    def run(
        self,
        remaining: RemainingTime | None = None,
        *,
        margin_seconds: float | None = None,
        correlation_id: str | None = None,
    ) -> CycleReport:
        policy = (
            self.policy
            if margin_seconds is None
            else replace(self.policy, margin_seconds=margin_seconds)
        )
        start = self._monotonic()
        report = CycleReport(started_at=self.clock())
        self._correlation_id = correlation_id

        def out_of_time() -> bool:
            if remaining is not None and remaining() <= policy.margin_seconds:
                report.deadline_reached = True
            return report.deadline_reached

        run = _Run(report, out_of_time)

        def work() -> None:
            self._retry_outbox(report)
            report.baseline = not self.store.is_initialized()
            self._scan(run, policy)
            self._flush(run)
            if policy.watch_interval > 0 and not report.baseline:
                self._watch(run, policy, remaining, start)

        self._guarded(run, work)
        report.duration_seconds = self._monotonic() - start
        return report

    def _guarded(self, run: _Run, work: Callable[[], None]) -> None:
        """Run ``work``; end early, with one clear log line and the report saying why, when
        Lookout for Vision cannot be reached or DynamoDB fails past its retries. Every write is
        one transaction, so nothing is half-written; whatever was recorded is announced."""
        report = run.report
        for step in (work, lambda: self._flush(run)):
            try:
                step()
            except ServiceUnreachableError as exc:
                report.unreachable = True
                report.errors["ServiceUnreachable"] += 1
                log.error(
                    "Lookout for Vision is unreachable; cycle ended early",
                    extra={"reason": str(exc)},
                )
            except StoreError as exc:
                report.store_failed = True
                report.errors["StoreError"] += 1
                log.error(
                    "the snapshot store failed; cycle ended early", extra={"reason": str(exc)}
                )

    def check(self, keys: Sequence[JobKey], *, correlation_id: str | None = None) -> CycleReport:
        """Check named jobs at once (a CloudTrail ``StartModelPackagingJob`` event): describe,
        record and announce them like the scheduled cycle would, and nothing else."""
        start = self._monotonic()
        report = CycleReport(started_at=self.clock())
        self._correlation_id = correlation_id
        run = _Run(report, lambda: False)

        def work() -> None:
            if not self.store.is_initialized():
                report.baseline = True  # the baseline scan will record them silently
                return
            unique = list(dict.fromkeys(keys))
            stored = self.store.get_jobs(unique)
            for key in unique:
                self._check_job(run, key, stored.get(key), {})

        self._guarded(run, work)
        report.duration_seconds = self._monotonic() - start
        return report

    # -- the scan ------------------------------------------------------------------------
    def _scan(self, run: _Run, policy: CyclePolicy) -> None:
        report = run.report
        projects = sorted(self._list_projects(report), key=lambda p: p.name)
        arns: dict[str, str | None] = {p.name: p.arn for p in projects}
        if report.baseline:
            cursor = self.store.baseline_cursor()
            chosen = [p for p in projects if cursor is None or p.name > cursor]
        else:
            chosen = self._slice(projects, policy)

        active = {job.key: job for job in self.store.active_jobs()}
        stored: dict[JobKey, StoredJob] = dict(active)
        queued: set[JobKey] = set()
        futures: list[Future[None]] = []
        listed_projects: list[str] = []
        listed: dict[JobKey, JobSummary] = {}

        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="describe") as worker:

            def submit(key: JobKey) -> None:
                if key not in queued:
                    queued.add(key)
                    futures.append(worker.submit(self._check_job, run, key, stored.get(key), arns))

            for key in sorted(active):
                submit(key)

            waiting: list[JobKey] = []  # listed jobs whose snapshot is still to be read

            def resolve(*, full_batches_only: bool = False) -> None:
                """Read the waiting snapshots, 100 keys a call; queue what needs describing.
                While listing, only full batches are read, so a cycle makes ⌈jobs / 100⌉ calls."""
                while len(waiting) >= (BATCH if full_batches_only else 1):
                    batch = waiting[:BATCH]
                    del waiting[:BATCH]
                    stored.update(self.store.get_jobs(batch))
                    for key in batch:
                        if needs_describe(listed[key], stored.get(key)):
                            submit(key)

            def backlog() -> set[Future[None]]:
                return {f for f in futures if not f.done()}

            try:
                for project in chosen:
                    while len(pending := backlog()) >= BACKLOG and not run.out_of_time():
                        wait(pending, timeout=1.0, return_when=FIRST_COMPLETED)
                    if run.out_of_time():
                        break
                    jobs = self._list_jobs(project, report)
                    if jobs is None:
                        continue
                    listed_projects.append(project.name)
                    for summary in jobs:
                        listed[summary.key] = summary
                        if summary.key not in queued:
                            waiting.append(summary.key)
                    # Full batches keep reads at ceil(jobs / 100) a cycle; a baseline, which
                    # describes nearly every job, feeds an idle describer at once instead.
                    if report.baseline and not backlog():
                        resolve()
                    elif len(waiting) >= BATCH:
                        resolve(full_batches_only=True)
                resolve()
            finally:
                for future in futures:
                    future.result()  # re-raises ServiceUnreachableError from the worker

        report.projects_listed = len(listed_projects)
        report.jobs_seen = len(listed)
        if len(listed_projects) < len(chosen):
            report.listing_complete = False
        if report.baseline:
            self._advance_baseline(run, chosen, listed_projects)

    def _slice(self, projects: list[Project], policy: CyclePolicy) -> list[Project]:
        """This period's share of the full scan: the rate's budget, or less when the scan is
        spread over ``full_scan_periods`` (new jobs then come from CloudTrail at once)."""
        budget = math.ceil(len(projects) / max(1, policy.full_scan_periods))
        if policy.list_budget:
            budget = min(budget, policy.list_budget)
        if not budget or len(projects) <= budget:
            return projects
        slices = math.ceil(len(projects) / budget)
        index = int(self.clock().timestamp() // policy.period_seconds) % slices
        return projects[index * budget : (index + 1) * budget]

    def _advance_baseline(self, run: _Run, chosen: list[Project], listed: list[str]) -> None:
        done = None
        for project, name in zip(chosen, listed, strict=False):
            if project.name != name or name in run.skipped:
                break
            done = name
        if done is not None and done == (chosen[-1].name if chosen else None):
            self.store.mark_initialized(self.clock())
            log.info("baseline complete", extra={"projects": len(listed)})
        elif not chosen and run.report.listing_complete:
            self.store.mark_initialized(self.clock())
        elif done is not None:
            self.store.save_baseline_cursor(done)
            log.info("baseline continues next cycle", extra={"through": done})

    # -- the watch -----------------------------------------------------------------------
    def _watch(
        self, run: _Run, policy: CyclePolicy, remaining: RemainingTime | None, start: float
    ) -> None:
        """Re-check the projects with jobs in progress until the next tick comes near."""
        report = run.report
        last_check = self._monotonic()  # the scan's checks
        while True:
            active = {job.key: job for job in self.store.active_jobs()}
            if not active:
                return
            now = self._monotonic()
            left = policy.period_seconds - (now - start)
            if remaining is not None:
                left = min(left, remaining())
            # Rounds start an interval apart (a round's own calls count towards the interval);
            # the last one may come early so that it lands just before the deadline, but a round
            # less than half an interval after the previous one is not worth its calls.
            due = policy.watch_interval - (now - last_check)
            if min(policy.watch_interval, left - policy.margin_seconds) < policy.watch_interval / 2:
                return
            wait_seconds = min(due, left - policy.margin_seconds)
            if wait_seconds > 0:
                self._sleep(wait_seconds)
            last_check = self._monotonic()
            report.watch_rounds += 1
            stored = dict(active)
            listed: dict[JobKey, JobSummary] = {}
            for name in sorted({key.project for key in active}):
                if run.out_of_time():
                    return
                for summary in self._list_jobs(Project(name), report) or []:
                    listed[summary.key] = summary
            stored.update(self.store.get_jobs([k for k in listed if k not in stored]))
            recheck = [k for k, s in sorted(listed.items()) if listing_differs(s, stored.get(k))]
            recheck += [k for k in sorted(active) if k not in listed]
            for key in recheck:
                if run.out_of_time():
                    return
                self._check_job(run, key, stored.get(key), {})
            self._flush(run)

    # -- steps ---------------------------------------------------------------------------
    def _retry_outbox(self, report: CycleReport) -> None:
        """Deliver what earlier invocations recorded but did not announce.

        Only entries whose writer's lease ran out (it died) or that it released (its publish
        failed) are pending, and each is claimed before it is published: an invocation running
        beside this one keeps publishing its own changes, and two retries never both send one.
        """
        now = self.clock()
        pending = self.store.pending(now)
        if not pending:
            return
        report.outbox_retried = len(pending)
        log.info("retrying undelivered changes", extra={"count": len(pending)})
        for publisher in self.publishers:
            wanted = [c for c, channels in pending if publisher.channel in channels]
            claimed = self.store.claim([c.event_id for c in wanted], publisher.channel, now)
            self._publish(publisher, [c for c in wanted if c.event_id in claimed], report)

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

    def _list_jobs(self, project: Project, report: CycleReport) -> list[JobSummary] | None:
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
            self._count_error(report, exc, project=project.name, job=None)
            report.listing_complete = False
            return None

    def _check_job(
        self,
        run: _Run,
        key: JobKey,
        stored: StoredJob | None,
        arns: dict[str, str | None],
    ) -> None:
        report = run.report
        if run.out_of_time():
            with run.lock:
                run.skipped.add(key.project)
            return
        try:
            description = self.source.describe_job(key)
        except ServiceUnreachableError:
            raise
        except ResourceNotFoundError:
            with run.lock:
                report.jobs_described += 1
            if stored is not None and not stored.removed:
                gone = removal(stored, observed_at=self.clock(), reason=REMOVED_REASON)
                self._record(run, gone, stored.version)
            return
        except MonitorError as exc:
            with run.lock:
                self._count_error(report, exc, project=key.project, job=key.job)
            return
        with run.lock:
            report.jobs_described += 1
        changes = detect_changes(
            stored,
            description,
            observed_at=self.clock(),
            baseline=report.baseline,
            project_arn=arns.get(key.project),
        )
        # A re-created job: the old incarnation's REMOVED, then the new one's DISCOVERED.
        expected = stored.version if stored else None
        for change in changes:
            if not self._record(run, change, expected):
                break
            expected = change.version
        if not changes and stored is not None and description.last_updated != stored.last_updated:
            self.store.refresh(stored, description.last_updated)

    def _record(self, run: _Run, change: Change, expected: int | None) -> bool:
        """Record ``change`` if the stored version is still ``expected``; False if it lost."""
        change = replace(change, observer=self.observer, correlation_id=self._correlation_id)
        if not self.store.record(change, expected):
            with run.lock:
                run.report.lost_races += 1
            log.info(
                "change already recorded by another invocation",
                extra={"project": change.key.project, "job": change.key.job},
            )
            return False
        with run.lock:
            run.report.recorded.append(change)
            if change.announce:
                run.undelivered.append(change)
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

    def _flush(self, run: _Run) -> None:
        with run.lock:
            changes, run.undelivered = run.undelivered, []
        for publisher in self.publishers:
            failed = self._publish(publisher, changes, run.report)
            if failed:  # let the next invocation retry them at once, not after the lease
                self.store.release(failed, publisher.channel)

    def _publish(
        self, publisher: ChangePublisher, changes: Sequence[Change], report: CycleReport
    ) -> set[str]:
        """Publish on one channel; the event ids that failed (they stay in the outbox)."""
        if not changes:
            return set()
        delivered = publisher.publish(changes)
        if delivered:
            self.store.mark_delivered(delivered, publisher.channel)
            report.delivered[publisher.channel] += len(delivered)
        failed = {c.event_id for c in changes} - delivered
        if failed:
            report.publish_failures[publisher.channel] += len(failed)
            log.warning(
                "publish failed; kept in the outbox for the next cycle",
                extra={"channel": publisher.channel, "failed": len(failed)},
            )
        return failed

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
