"""The scan: list projects and (a slice of) their jobs while one worker describes, side by side
(each operation has its own quota): first the jobs the store holds as in progress, then the
listed jobs in progress or differing from their snapshot.

A fleet too large to list in one period is scanned in slices: each cycle lists ``list_budget``
projects, the slice chosen by the period number, so the full scan rotates over several periods
with no state to write; jobs in progress are still described every cycle.  The very first scan
(the silent baseline) keeps a cursor in the store instead, so it can span cycles without losing
its place.
"""

from __future__ import annotations

import logging
import math
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from datetime import datetime

from lfv_monitor.domain.changes import needs_describe
from lfv_monitor.domain.cycle.invocation import Invocation
from lfv_monitor.domain.cycle.report import CyclePolicy
from lfv_monitor.domain.models import JobKey, JobSummary, Project, ProjectRecord, StoredJob

log = logging.getLogger("lfv_monitor.cycle")

#: Stored states are read in batches of this many keys (DynamoDB BatchGetItem's limit).
BATCH = 100
#: The lister waits while this many describes are queued: listing further would only find work
#: the deadline cannot reach (a baseline, or a burst of changes).
BACKLOG = 100


def scan(inv: Invocation, policy: CyclePolicy) -> None:
    """One period's scan (or a part of the first scan)."""
    report = inv.report
    projects = sorted(inv.list_projects(), key=lambda p: p.name)
    records = inv.store.project_records()
    pending = {name for name, r in records.items() if r.baseline_pending}
    if report.baseline:
        cursor = inv.store.baseline_cursor()
        chosen = [p for p in projects if cursor is None or p.name > cursor]
        first_scan = {p.name for p in chosen}
    else:
        chosen = slice_of(projects, policy, inv.clock())
        # A project denied during the first scan is tried every cycle until it is baselined.
        chosen += [p for p in projects if p.name in pending and p not in chosen]
        first_scan = pending
    outcome = _Scan(inv, {p.name: p.arn for p in projects}, first_scan).run(chosen)
    report.projects_listed = len(outcome.listed)
    if len(outcome.listed) < len(chosen):
        report.listing_complete = False
    _remember_projects(inv, records, outcome, first_scan)
    if report.baseline:
        advance_baseline(inv, chosen, outcome)
    _measure(inv, chosen, outcome)


@dataclass
class Outcome:
    """What the lister did with the projects it was given."""

    listed: list[str] = field(default_factory=list)  # listed, in order
    failed: list[str] = field(default_factory=list)  # the listing failed
    due_jobs: int = 0  # describes queued

    def reached(self, name: str) -> bool:
        return name in self.listed or name in self.failed


def _remember_projects(
    inv: Invocation, records: dict[str, ProjectRecord], outcome: Outcome, first_scan: set[str]
) -> None:
    """Count each project's consecutive failures; a project whose first scan could not be
    completed (listing failed, a write failed, the deadline cut a describe) stays pending."""
    updated: dict[str, ProjectRecord] = {}
    for name in outcome.failed:
        old = records.get(name, ProjectRecord(name))
        updated[name] = replace(
            old,
            failures=old.failures + 1,
            baseline_pending=old.baseline_pending or name in first_scan,
        )
    for name in outcome.listed:
        old = records.get(name, ProjectRecord(name))
        incomplete = name in inv.skipped or name in inv.write_failed
        pending = name in first_scan and incomplete and not inv.report.baseline
        # During the first scan a project cut by the deadline is continued from the cursor;
        # one whose write failed is set aside as pending, so it cannot hold back the others.
        if inv.report.baseline and name in inv.write_failed:
            pending = True
        updated[name] = replace(old, failures=0, baseline_pending=pending)
    for name, record in updated.items():
        if record != records.get(name, ProjectRecord(name)):
            inv.store.save_project_record(record)
        records[name] = record
    inv.report.project_failure_streak = max((r.failures for r in records.values()), default=0)


def _measure(inv: Invocation, chosen: list[Project], outcome: Outcome) -> None:
    """Coverage (projects listed of those due, jobs checked of those due) and the backlog."""
    report = inv.report
    unreached = sum(1 for p in chosen if not outcome.reached(p.name))
    report.backlog = unreached + inv.skipped_jobs
    ratios = []
    if chosen:
        ratios.append(len(outcome.listed) / len(chosen))
    if outcome.due_jobs:
        ratios.append(min(1.0, report.jobs_described / outcome.due_jobs))
    report.coverage_percent = 100.0 * min(ratios, default=1.0)
    if report.baseline and report.deadline_reached and report.backlog:
        report.baseline_cut = True


def slice_of(projects: list[Project], policy: CyclePolicy, now: datetime) -> list[Project]:
    """This period's share of the full scan: the rate's budget, or less when the scan is
    spread over ``full_scan_periods`` (new jobs then come from CloudTrail at once)."""
    budget = math.ceil(len(projects) / max(1, policy.full_scan_periods))
    if policy.list_budget:
        budget = min(budget, policy.list_budget)
    if not budget or len(projects) <= budget:
        return projects
    slices = math.ceil(len(projects) / budget)
    index = int(now.timestamp() // policy.period_seconds) % slices
    return projects[index * budget : (index + 1) * budget]


def advance_baseline(inv: Invocation, chosen: list[Project], outcome: Outcome) -> None:
    """Mark the first scan complete, or remember the last project it covered.  A project is
    covered once its jobs were all recorded, or once it was set aside as pending (its listing
    or a write failed): a project that cannot be read never holds back the others."""
    done = None
    for project in chosen:
        name = project.name
        if not outcome.reached(name) or (name in inv.skipped and name not in inv.write_failed):
            break
        done = name
    if done is not None and done == chosen[-1].name:
        inv.store.mark_initialized(inv.clock())
        log.info("baseline complete", extra={"projects": len(outcome.listed)})
    elif not chosen and not inv.report.listing_denied and inv.report.listing_complete:
        inv.store.mark_initialized(inv.clock())
    elif done is not None:
        inv.store.save_baseline_cursor(done)
        log.info("baseline continues next cycle", extra={"through": done})


class _Scan:
    """The lister (this thread) and one describe worker, side by side."""

    def __init__(self, inv: Invocation, arns: dict[str, str | None], first_scan: set[str]) -> None:
        self.inv = inv
        self.arns = arns
        self.first_scan = first_scan
        self.outcome = Outcome()
        self.stored: dict[JobKey, StoredJob] = {}
        self.queued: set[JobKey] = set()
        self.futures: list[Future[None]] = []
        self.listed: dict[JobKey, JobSummary] = {}
        self.waiting: list[JobKey] = []  # listed jobs whose snapshot is still to be read
        self.worker: ThreadPoolExecutor | None = None

    def run(self, chosen: list[Project]) -> Outcome:
        """Describe the stored in-progress jobs and list ``chosen``."""
        active = {job.key: job for job in self.inv.store.active_jobs()}
        self.stored.update(active)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="describe") as worker:
            self.worker = worker
            try:
                for key in sorted(active):
                    self._submit(key)
                self._list(chosen)
                self._resolve()
            finally:
                for future in self.futures:
                    future.result()  # re-raises ServiceUnreachableError from the worker
        self.inv.report.jobs_seen = len(self.listed)
        self.outcome.due_jobs = len(self.queued)
        return self.outcome

    def _list(self, chosen: list[Project]) -> None:
        for project in chosen:
            while len(pending := self._backlog()) >= BACKLOG and not self.inv.out_of_time():
                wait(pending, timeout=1.0, return_when=FIRST_COMPLETED)
            if self.inv.out_of_time():
                break
            jobs = self.inv.list_jobs(project)
            if jobs is None:
                self.outcome.failed.append(project.name)
                continue
            self.outcome.listed.append(project.name)
            for summary in jobs:
                self.listed[summary.key] = summary
                if summary.key not in self.queued:
                    self.waiting.append(summary.key)
            # Full batches keep reads at ceil(jobs / 100) a cycle; a baseline, which
            # describes nearly every job, feeds an idle describer at once instead.
            if self.inv.report.baseline and not self._backlog():
                self._resolve()
            elif len(self.waiting) >= BATCH:
                self._resolve(full_batches_only=True)

    def _submit(self, key: JobKey) -> None:
        if key in self.queued or self.worker is None:
            return
        self.queued.add(key)
        self.futures.append(
            self.worker.submit(
                self.inv.check_job,
                key,
                self.stored.get(key),
                self.arns,
                baseline=key.project in self.first_scan,
            )
        )

    def _resolve(self, *, full_batches_only: bool = False) -> None:
        """Read the waiting snapshots, 100 keys a call; queue what needs describing.
        While listing, only full batches are read, so a cycle makes ⌈jobs / 100⌉ calls."""
        while len(self.waiting) >= (BATCH if full_batches_only else 1):
            batch = self.waiting[:BATCH]
            del self.waiting[:BATCH]
            self.stored.update(self.inv.store.get_jobs(batch))
            for key in batch:
                if needs_describe(self.listed[key], self.stored.get(key)):
                    self._submit(key)

    def _backlog(self) -> set[Future[None]]:
        return {f for f in self.futures if not f.done()}
