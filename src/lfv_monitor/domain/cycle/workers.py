"""The scan's two workers, side by side, each on its own operation's quota, never waiting on
each other: the lister (the calling thread) works through the projects due, oldest first; the
describer (one thread) describes the jobs the lists flagged, new jobs first (never recorded),
then oldest change first.  When the lister cannot reach the end of its queue before the
deadline at the configured rate, the describer also takes projects with few jobs in progress
from the front of the rotation (the stalest), as the lister does, and describes their jobs:
what the deadline leaves is then one run of the rotation, where the next cycle starts.  While
both kinds of work wait, the describer gives them its calls in turn (half each), so that
neither the changes the lists found nor the jobs the lister cannot reach wait on the other.
The projects due by the slice (and the owed and pending ones) are the lister's own, so every
project is still listed in its turn; the describer takes one of them only when the lister
cannot reach it (a slice larger than the lister's share).

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
    new_left: set[str] = field(default_factory=set)  # projects with a new job left undescribed

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
        *,
        rate_per_second: float | None = None,
        owed: frozenset[str] = frozenset(),
    ) -> None:
        self.inv = inv
        self.rate = rate_per_second
        self.arns = arns
        self.stored: dict[JobKey, StoredJob] = dict(active)
        self.active_by_project: dict[str, list[JobKey]] = {}
        for key in sorted(active):
            self.active_by_project.setdefault(key.project, []).append(key)
        self.first_scan = first_scan
        #: Projects owed by an earlier cycle (a new job's describe was cut there, or the
        #: project was not reached): their snapshots are read at once, not in a full batch,
        #: so that their new jobs are flagged before the describer takes other work.
        self.owed = owed
        self.outcome = Outcome()
        self.queue: deque[Project] = deque()  # the lister's alone
        self.rotation: deque[Project] = deque()  # projects with jobs in progress, shared
        # A heap of what the lists flagged: new jobs (never recorded, outside a first scan),
        # then oldest change first.
        self.flagged: list[tuple[bool, datetime, int, JobKey]] = []
        self.flagged_keys: set[JobKey] = set()
        self.listed: dict[JobKey, JobSummary] = {}
        self.waiting: list[JobKey] = []  # listed jobs whose snapshot is still to be read
        self.cond = threading.Condition()
        self.lister_done = False
        self.in_flight = 0
        self.failure: BaseException | None = None
        self.seq = itertools.count()
        # The describer's calls under load, flagged jobs against taken projects' jobs.
        self.flagged_calls = 0
        self.taken_calls = 0

    # -- the whole scan ------------------------------------------------------------------
    def run(self, own: list[Project], rotation: list[Project]) -> Outcome:
        """List ``own`` (the lister's alone) then ``rotation`` (shared with the describer
        under load), oldest first."""
        self.queue.extend(own)
        self.rotation.extend(rotation)
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

    def _next_project(self) -> Project | None:
        """The lister's next project: its own first, then the front of the rotation (cond held)."""
        if self.queue:
            return self.queue.popleft()
        if self.rotation:
            return self.rotation.popleft()
        return None

    def _reach(self) -> int | None:
        """How many more projects the lister can take before the deadline at the configured
        rate, after the call it has in flight (None: no deadline or rate; cond held)."""
        left = self.inv.time_left()
        if left is None or not self.rate or self.inv.report.baseline:
            return None
        return max(0, int(left * self.rate) - 1)

    def _takeable(self, project: Project) -> bool:
        active = self.active_by_project.get(project.name, [])
        return (
            bool(active) and len(active) <= STEAL_MAX_JOBS and project.name not in self.first_scan
        )

    def _load(self) -> int | None:
        """The lister's reach when it cannot reach the end of its work before the deadline
        (the describer may then take projects), else None (cond held)."""
        reach = self._reach()
        if reach is None or len(self.queue) + len(self.rotation) <= reach:
            return None
        return reach

    def _take(self, reach: int) -> Project | None:
        """Under load, a project the describer can check instead of the lister (few jobs in
        progress, first scan done): the first of the rotation, else one of the lister's own
        beyond its ``reach`` (only when the slice is larger than the lister's share; cond
        held)."""
        for i, project in enumerate(self.rotation):
            if self._takeable(project):
                del self.rotation[i]
                return project
        for i in range(len(self.queue) - 1, reach - 1, -1):
            if self._takeable(self.queue[i]):
                project = self.queue[i]
                del self.queue[i]
                return project
        return None

    # -- the lister ----------------------------------------------------------------------
    def _lister(self) -> None:
        while not self.inv.out_of_time() and self.failure is None:
            with self.cond:
                project = self._next_project()
            if project is None:
                break
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
        seen, known = set(), []
        for summary in jobs:
            self.listed[summary.key] = summary
            seen.add(summary.key)
            if summary.key in self.stored:
                known.append(summary.key)  # in progress: its snapshot is already at hand
            else:
                self.waiting.append(summary.key)
        self._flag([key for key in active if key not in seen])  # vanished from the list
        self._flag([k for k in known if listing_differs(self.listed[k], self.stored[k])])
        # Full batches keep reads at ceil(jobs / 100) a cycle; a first scan, which describes
        # every job, feeds the describer at once instead.
        urgent = project.name in self.owed or (project.name in self.first_scan and not self.flagged)
        full_only = not urgent
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
                # A new job goes first; a first scan's jobs (recorded silently) do not.
                later = key in self.stored or key.project in self.first_scan
                heapq.heappush(self.flagged, (later, self._changed_at(key), next(self.seq), key))
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
            while (work := self._next_work()) is not None:
                if isinstance(work, Project):
                    self._describe_project(work)
                else:
                    self._describe(work)
        except BaseException as exc:  # re-raised by run() on the lister's thread
            with self.cond:
                self.failure = exc
                self.cond.notify_all()

    def _describe(self, key: JobKey) -> None:
        self.inv.check_job(
            key, self.stored.get(key), self.arns, baseline=key.project in self.first_scan
        )
        with self.cond:
            self.in_flight -= 1
            self.cond.notify_all()

    def _describe_project(self, project: Project) -> None:
        """Check a project's jobs in progress instead of the lister; the project counts as
        checked only when all of them were described (else the next cycle starts there)."""
        keys = self.active_by_project.get(project.name, [])
        for i, key in enumerate(keys):
            if self.inv.out_of_time():
                with self.inv.lock:
                    self.inv.skipped.add(project.name)
                    self.inv.skipped_jobs += len(keys) - i
                return
            self.inv.check_job(key, self.stored.get(key), self.arns, baseline=False)
        with self.cond:
            self.outcome.described.add(project.name)

    def _next_work(self) -> JobKey | Project | None:
        """A new job first (it was never recorded: the stalest of all), then a flagged job
        (oldest change first) or, under load, a project taken from the rotation's front, in
        turn while both wait (half the describer's calls each); else wait for the lister;
        None at the deadline or when done."""
        with self.cond:
            while True:
                if self.inv.out_of_time():
                    self._leave_flagged()
                    return None
                reach = self._load()
                loaded = reach is not None
                takes_turn = loaded and self.taken_calls < self.flagged_calls
                if self.flagged and not self.flagged[0][0]:  # a new job, to be announced
                    return self._pop_flagged()
                if self.flagged and not takes_turn:
                    self.flagged_calls += int(loaded)
                    return self._pop_flagged()
                if reach is not None and (project := self._take(reach)) is not None:
                    keys = self.active_by_project[project.name]
                    self.taken_calls += len(keys)
                    self.flagged_keys.update(keys)
                    return project
                if self.flagged:  # nothing the describer can take
                    return self._pop_flagged()
                if self.lister_done:
                    return None
                self.cond.wait(timeout=0.05)

    def _pop_flagged(self) -> JobKey:
        self.in_flight += 1
        return heapq.heappop(self.flagged)[-1]

    def _leave_flagged(self) -> None:
        """The deadline came: what is still flagged is left for the next cycle (cond held)."""
        self.outcome.left_jobs = len(self.flagged)
        with self.inv.lock:
            for *_, key in self.flagged:
                self.inv.skipped.add(key.project)
                if key not in self.stored:
                    self.outcome.new_left.add(key.project)
            self.inv.skipped_jobs += len(self.flagged)
        self.flagged.clear()
