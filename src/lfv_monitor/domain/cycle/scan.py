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
from datetime import datetime

from lfv_monitor.domain.changes import needs_describe
from lfv_monitor.domain.cycle.invocation import Invocation
from lfv_monitor.domain.cycle.report import CyclePolicy
from lfv_monitor.domain.models import JobKey, JobSummary, Project, StoredJob

log = logging.getLogger("lfv_monitor.cycle")

#: Stored states are read in batches of this many keys (DynamoDB BatchGetItem's limit).
BATCH = 100
#: The lister waits while this many describes are queued: listing further would only find work
#: the deadline cannot reach (a baseline, or a burst of changes).
BACKLOG = 100


def scan(inv: Invocation, policy: CyclePolicy) -> None:
    """One period's scan (or a part of the baseline)."""
    report = inv.report
    projects = sorted(inv.list_projects(), key=lambda p: p.name)
    if report.baseline:
        cursor = inv.store.baseline_cursor()
        chosen = [p for p in projects if cursor is None or p.name > cursor]
    else:
        chosen = slice_of(projects, policy, inv.clock())
    listed_projects = _Scan(inv, {p.name: p.arn for p in projects}).run(chosen)
    report.projects_listed = len(listed_projects)
    if len(listed_projects) < len(chosen):
        report.listing_complete = False
    if report.baseline:
        advance_baseline(inv, chosen, listed_projects)


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


def advance_baseline(inv: Invocation, chosen: list[Project], listed: list[str]) -> None:
    """Mark the baseline complete, or remember the last project it fully recorded."""
    done = None
    for project, name in zip(chosen, listed, strict=False):
        if project.name != name or name in inv.skipped:
            break
        done = name
    if done is not None and done == (chosen[-1].name if chosen else None):
        inv.store.mark_initialized(inv.clock())
        log.info("baseline complete", extra={"projects": len(listed)})
    elif not chosen and inv.report.listing_complete:
        inv.store.mark_initialized(inv.clock())
    elif done is not None:
        inv.store.save_baseline_cursor(done)
        log.info("baseline continues next cycle", extra={"through": done})


class _Scan:
    """The lister (this thread) and one describe worker, side by side."""

    def __init__(self, inv: Invocation, arns: dict[str, str | None]) -> None:
        self.inv = inv
        self.arns = arns
        self.stored: dict[JobKey, StoredJob] = {}
        self.queued: set[JobKey] = set()
        self.futures: list[Future[None]] = []
        self.listed: dict[JobKey, JobSummary] = {}
        self.waiting: list[JobKey] = []  # listed jobs whose snapshot is still to be read
        self.worker: ThreadPoolExecutor | None = None

    def run(self, chosen: list[Project]) -> list[str]:
        """Describe the stored in-progress jobs and list ``chosen``; the projects listed."""
        active = {job.key: job for job in self.inv.store.active_jobs()}
        self.stored.update(active)
        listed_projects: list[str] = []
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="describe") as worker:
            self.worker = worker
            try:
                for key in sorted(active):
                    self._submit(key)
                listed_projects = self._list(chosen)
                self._resolve()
            finally:
                for future in self.futures:
                    future.result()  # re-raises ServiceUnreachableError from the worker
        self.inv.report.jobs_seen = len(self.listed)
        return listed_projects

    def _list(self, chosen: list[Project]) -> list[str]:
        listed_projects: list[str] = []
        for project in chosen:
            while len(pending := self._backlog()) >= BACKLOG and not self.inv.out_of_time():
                wait(pending, timeout=1.0, return_when=FIRST_COMPLETED)
            if self.inv.out_of_time():
                break
            jobs = self.inv.list_jobs(project)
            if jobs is None:
                continue
            listed_projects.append(project.name)
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
        return listed_projects

    def _submit(self, key: JobKey) -> None:
        if key in self.queued or self.worker is None:
            return
        self.queued.add(key)
        self.futures.append(
            self.worker.submit(self.inv.check_job, key, self.stored.get(key), self.arns)
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
