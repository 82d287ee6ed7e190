"""The scan's two workers, side by side, each on its own operation's quota, never waiting on
each other: the lister (the calling thread) works through the projects due, oldest first; the
describer (one thread) describes the jobs the lists flagged, oldest change first.  When the
lister cannot reach the end of its queue before the deadline at the configured rate, the
describer also takes the projects just past the lister's reach that hold few jobs in progress,
and describes those jobs after the flagged ones.

A listed job is flagged when the store does not hold it, or its listed Status, StatusMessage or
LastUpdatedTimestamp moved; a job the store holds in progress is flagged when it vanished from
its project's list, or when its project could not be listed.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime

from lfv_monitor.domain.changes import listing_differs
from lfv_monitor.domain.cycle.invocation import Invocation
from lfv_monitor.domain.models import JobKey, JobSummary, Project, StoredJob

#: Stored states are read in batches of this many keys (DynamoDB BatchGetItem's limit).
BATCH = 100
#: During a first scan the lister waits while this many describes are queued: a baseline's
#: work is describing, and listing far ahead would only be repeated next cycle.
BASELINE_BACKLOG = 100
#: The describer takes over a project from the lister only when it holds at most this many jobs
#: in progress (one list call would check more at once).
STEAL_MAX_JOBS = 3
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class Outcome:
    """What the two workers did with the projects and jobs due."""

    listed: list[str] = field(default_factory=list)  # listed, in order
    failed: list[str] = field(default_factory=list)  # the listing failed
    described: set[str] = field(default_factory=set)  # projects taken over by the describer
    due_jobs: int = 0  # jobs flagged for a describe
    left_jobs: int = 0  # flagged jobs the deadline left undescribed

    def reached(self, name: str) -> bool:
        return name in self.listed or name in self.failed or name in self.described


class Workers:
    """One cycle's lister and describer over the same plan."""

    def __init__(
        self,
        inv: Invocation,
        arns: dict[str, str | None],
        active: dict[JobKey, StoredJob],
        first_scan: set[str],
        rate_per_second: float | None = None,
    ) -> None:
        self.inv = inv
        self.rate = rate_per_second
        self.arns = arns
        self.stored: dict[JobKey, StoredJob] = dict(active)
        self.active_by_project: dict[str, list[JobKey]] = {}
        for key in sorted(active):
            self.active_by_project.setdefault(key.project, []).append(key)
        self.first_scan = first_scan
        self.outcome = Outcome()
        self.queue: deque[Project] = deque()
        # A heap: what the lists flagged (0) before what was taken over (1); oldest change first.
        self.flagged: list[tuple[int, datetime, int, JobKey]] = []
        self.flagged_keys: set[JobKey] = set()
        self.listed: dict[JobKey, JobSummary] = {}
        self.waiting: list[JobKey] = []  # listed jobs whose snapshot is still to be read
        self.cond = threading.Condition()
        self.lister_done = False
        self.in_flight = 0
        self.failure: BaseException | None = None
        self.seq = itertools.count()

    # -- the whole scan ------------------------------------------------------------------
    def run(self, order: list[Project], *, busy_first: bool = False) -> Outcome:
        self.queue.extend(order)
        self._share(busy_first=busy_first)
        describer = threading.Thread(target=self._describer, name="describe", daemon=True)
        describer.start()
        try:
            self._lister()
        finally:
            with self.cond:
                self.lister_done = True
                self.cond.notify_all()
            describer.join()
        if self.failure is not None:
            raise self.failure  # ServiceUnreachableError or StoreError from the describer
        self.inv.report.jobs_seen = len(self.listed)
        self.outcome.due_jobs = len(self.flagged_keys)
        return self.outcome

    def _share(self, *, busy_first: bool) -> None:
        """When the lister cannot list every project due before the deadline (at the
        configured rate), the describer takes projects that hold few jobs in progress, as many
        as it can check, so both quotas check jobs in progress: those just past the lister's
        reach, or (``busy_first``, every other period) the first ones of the rotation, so that
        a project the describer took is listed the next time."""
        left = self.inv.time_left()
        if left is None or not self.rate or self.inv.report.baseline:
            return
        reach = int(left * self.rate)
        queue = list(self.queue)
        if len(queue) <= reach:
            return
        start = reach
        if busy_first:
            start = next((i for i, p in enumerate(queue) if p.name in self.active_by_project), 0)
        budget, taken = reach, set[str]()
        for project in queue[start:]:
            active = self.active_by_project.get(project.name, [])
            if len(queue) - len(taken) <= reach:
                break
            small = bool(active) and len(active) <= min(STEAL_MAX_JOBS, budget)
            if small and project.name not in self.first_scan:
                self._take_over(project)
                taken.add(project.name)
                budget -= len(active)
        self.queue = deque(p for p in queue if p.name not in taken)

    # -- the lister ----------------------------------------------------------------------
    def _lister(self) -> None:
        while not self.inv.out_of_time() and self.failure is None:
            with self.cond:
                if not self.queue:
                    break
                project = self.queue.popleft()
            if project.name in self.first_scan and self.inv.report.baseline:
                self._wait_for_describer()
            self._listed(project, self.inv.list_jobs(project))
        self._resolve()

    def _wait_for_describer(self) -> None:
        with self.cond:
            while (
                len(self.flagged) + self.in_flight >= BASELINE_BACKLOG
                and self.failure is None
                and not self.inv.out_of_time()
            ):
                self.cond.wait(timeout=1.0)

    def _listed(self, project: Project, jobs: list[JobSummary] | None) -> None:
        active = self.active_by_project.get(project.name, [])
        if jobs is None:
            self.outcome.failed.append(project.name)
            self._flag(active)  # never left unchecked: described instead
            return
        self.outcome.listed.append(project.name)
        seen = set()
        for summary in jobs:
            self.listed[summary.key] = summary
            seen.add(summary.key)
            self.waiting.append(summary.key)
        self._flag([key for key in active if key not in seen])  # vanished from the list
        # Full batches keep reads at ceil(jobs / 100) a cycle; a first scan, which describes
        # every job, feeds the describer at once instead.
        full_only = not (project.name in self.first_scan and not self.flagged)
        self._resolve(full_batches_only=full_only)

    def _resolve(self, *, full_batches_only: bool = False) -> None:
        """Read the waiting snapshots, 100 keys a call; flag what the list shows moved."""
        while len(self.waiting) >= (BATCH if full_batches_only else 1):
            batch = [k for k in self.waiting[:BATCH] if k not in self.stored]
            keys = self.waiting[:BATCH]
            del self.waiting[:BATCH]
            if batch:
                self.stored.update(self.inv.store.get_jobs(batch))
            self._flag([k for k in keys if listing_differs(self.listed[k], self.stored.get(k))])

    def _flag(self, keys: list[JobKey]) -> None:
        with self.cond:
            for key in keys:
                if key in self.flagged_keys:
                    continue
                self.flagged_keys.add(key)
                heapq.heappush(self.flagged, (0, self._changed_at(key), next(self.seq), key))
            self.cond.notify_all()

    def _changed_at(self, key: JobKey) -> datetime:
        """When the job's listing last moved (its staleness); unknown sorts first."""
        summary, stored = self.listed.get(key), self.stored.get(key)
        moment = (summary.last_updated if summary else None) or (
            stored.last_updated if stored else None
        )
        return moment or _EPOCH

    # -- the describer -------------------------------------------------------------------
    def _describer(self) -> None:
        try:
            while (key := self._next_job()) is not None:
                self.inv.check_job(
                    key,
                    self.stored.get(key),
                    self.arns,
                    baseline=key.project in self.first_scan,
                )
                with self.cond:
                    self.in_flight -= 1
                    self.cond.notify_all()
        except BaseException as exc:  # re-raised by run() on the lister's thread
            with self.cond:
                self.failure = exc
                self.cond.notify_all()

    def _next_job(self) -> JobKey | None:
        with self.cond:
            while True:
                if self.inv.out_of_time():
                    self._leave_flagged()
                    return None
                if self.flagged:
                    self.in_flight += 1
                    return heapq.heappop(self.flagged)[3]
                if self.lister_done:
                    return None
                self.cond.wait(timeout=0.05)

    def _leave_flagged(self) -> None:
        """The deadline came: what is still flagged is left for the next cycle (cond held)."""
        self.outcome.left_jobs = len(self.flagged)
        with self.inv.lock:
            for *_, key in self.flagged:
                self.inv.skipped.add(key.project)
            self.inv.skipped_jobs += len(self.flagged)
        self.flagged.clear()

    def _take_over(self, project: Project) -> None:
        """The describer checks this project's jobs in progress instead of the lister; after
        what the lists flagged (those are known changes)."""
        self.outcome.described.add(project.name)
        for key in self.active_by_project.get(project.name, []):
            if key not in self.flagged_keys:
                self.flagged_keys.add(key)
                heapq.heappush(self.flagged, (1, self._changed_at(key), next(self.seq), key))
