"""List-first detection and fair rotation under load (issue 13), over in-memory fakes.

Time is virtual and per operation: each worker (the lister on the calling thread, the
describer on its own) spends ``1 / rate`` seconds of its own timeline per call, as two quotas
used side by side would; ``remaining`` is read on the timeline of the thread that asks.  Each
call also takes a millisecond of real time, so that the two workers' timelines advance together
(as the wall clock makes them in Lambda) instead of one racing to the deadline alone.
"""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict
from collections.abc import Callable

from lfv_monitor.domain.cycle import CyclePolicy, CycleReport, PollCycle
from lfv_monitor.domain.errors import AccessDeniedError
from lfv_monitor.domain.models import ChangeType, JobDescription, JobKey, JobSummary, Project
from tests.fakes import FakeClock, FakeJobSource, FakePublisher, InMemorySnapshotStore

#: Real seconds per call: keeps the two workers' virtual timelines in step.
PACE_SECONDS = 0.001


class TimedSource(FakeJobSource):
    """A FakeJobSource whose calls cost ``1 / rate`` seconds on their worker's timeline."""

    def __init__(self, rate: float) -> None:
        super().__init__()
        self.rate = rate
        self.pace = PACE_SECONDS
        self.spent: dict[str, float] = defaultdict(float)
        self.checked: set[JobKey] = set()  # jobs listed or described this cycle
        self.listed_now: set[str] = set()
        self.described_now: set[JobKey] = set()

    def _spend(self) -> None:
        if self.pace:
            time.sleep(self.pace)
        self.spent[self._timeline()] += 1 / self.rate

    def elapsed(self) -> float:
        return self.spent[self._timeline()]

    def _timeline(self) -> str:
        """The calling thread's timeline; one that starts later in the cycle (the describer,
        after ListProjects) starts where the others stand, as the wall clock would."""
        name = threading.current_thread().name
        if name not in self.spent:
            self.spent[name] = max(self.spent.values(), default=0.0)
        return name

    def list_projects(self) -> list[Project]:
        self._spend()
        return super().list_projects()

    def list_jobs(self, project: str) -> list[JobSummary]:
        self._spend()
        jobs = super().list_jobs(project)
        self.listed_now.add(project)
        self.checked.update(j.key for j in jobs)
        return jobs

    def describe_job(self, key: JobKey) -> JobDescription:
        self._spend()
        self.checked.add(key)
        self.described_now.add(key)
        return super().describe_job(key)

    def new_cycle(self) -> None:
        self.spent.clear()
        self.checked.clear()
        self.listed_now.clear()
        self.described_now.clear()
        self.calls.clear()


def make(source: TimedSource, policy: CyclePolicy) -> tuple[PollCycle, FakeClock, FakePublisher]:
    clock = FakeClock()
    events = FakePublisher("events")
    cycle = PollCycle(
        source,
        InMemorySnapshotStore(),
        [events],
        clock=clock,
        policy=policy,
        monotonic=source.elapsed,
    )
    return cycle, clock, events


def tick(cycle: PollCycle, clock: FakeClock, source: TimedSource, usable: float) -> CycleReport:
    clock.advance(60)
    source.new_cycle()
    return cycle.run(lambda: usable + 5 - source.elapsed(), margin_seconds=5)


def first_scan(cycle: PollCycle, clock: FakeClock, source: TimedSource) -> None:
    """The first scan, given all the time it needs and no pacing (it describes every job)."""
    source.pace = 0
    while not cycle.store.is_initialized():
        tick(cycle, clock, source, 10_000)
    source.pace = PACE_SECONDS


def run_moving(
    cycle: PollCycle,
    clock: FakeClock,
    source: TimedSource,
    busy: list[JobKey],
    *,
    periods: int,
    every: int,
    usable: float,
) -> tuple[list[int], list[CycleReport], list[int]]:
    """Run ``periods`` periods, one in ``every`` jobs of ``busy`` moving before each.  Returns
    the runs of periods between checks of each job (the last one up to the end included), the
    reports, and per period the describes of jobs in progress whose project was listed (the
    describes the lists' changes needed)."""
    last_checked = dict.fromkeys(busy, 0)
    gaps: list[int] = []
    reports: list[CycleReport] = []
    moved_describes: list[int] = []
    for period in range(1, periods + 1):
        for key in busy[period % every :: every]:
            source.set(key.project, key.job, "RUNNING", f"step {period}", at=clock.now)
        reports.append(tick(cycle, clock, source, usable))
        listed_busy = {k for k in busy if k.project in source.listed_now}
        moved_describes.append(len(listed_busy & source.described_now))
        for key in set(busy) & source.checked:
            gaps.append(period - last_checked[key])
            last_checked[key] = period
    gaps += [periods + 1 - t for t in last_checked.values()]
    return gaps, reports, moved_describes


def spread_fleet(
    rate: float, budget: int, busy: Callable[[int], bool]
) -> tuple[TimedSource, PollCycle, FakeClock, list[JobKey]]:
    """Issue 13's P1000 shape, scaled down: 300 projects of 10 jobs, one job in progress in
    each project ``busy`` picks by index; FULL_SCAN_PERIODS 10, the slice ``budget``, the
    first scan done.  Returns the jobs in progress too."""
    source = TimedSource(rate=rate)
    names = [f"p{p:03d}" for p in range(300)]
    for p, name in enumerate(names):
        for j in range(9):
            source.set(name, f"done{j}", "SUCCEEDED")
        if busy(p):
            source.set(name, "busy", "RUNNING", "step 0")
    policy = CyclePolicy(full_scan_periods=10, list_budget=budget, rate_per_second=rate)
    cycle, clock, _ = make(source, policy)
    first_scan(cycle, clock, source)
    keys = sorted(JobKey(name, "busy") for p, name in enumerate(names) if busy(p))
    return source, cycle, clock, keys


def test_only_new_moved_or_vanished_jobs_are_described() -> None:
    source = TimedSource(rate=100)
    cycle, clock, _ = make(source, CyclePolicy())
    source.set("a", "still", "RUNNING", "step 1")
    source.set("a", "moves", "RUNNING", "step 1")
    source.set("a", "goes", "RUNNING", "step 1")
    source.set("a", "done", "SUCCEEDED")
    tick(cycle, clock, source, 1000)
    source.set("a", "moves", "RUNNING", "step 2", at=clock.now)
    del source.projects["a"]["goes"]
    source.set("a", "new", "CREATED")
    report = tick(cycle, clock, source, 1000)
    assert sorted(source.describes()) == ["a/goes", "a/moves", "a/new"]
    assert {c.change_type for c in report.recorded} == {
        ChangeType.STATUS_MESSAGE,
        ChangeType.REMOVED,
        ChangeType.DISCOVERED,
    }


def test_jobs_in_progress_in_a_project_that_cannot_be_listed_are_described_instead() -> None:
    source = TimedSource(rate=100)
    cycle, clock, events = make(source, CyclePolicy())
    source.set("a", "busy", "RUNNING")
    source.set("a", "done", "SUCCEEDED")
    tick(cycle, clock, source, 1000)
    source.errors["a"] = AccessDeniedError("denied since")
    source.set("a", "busy", "FAILED", "boom", at=clock.now)
    report = tick(cycle, clock, source, 1000)
    assert source.describes() == ["a/busy"]
    assert [c.status for c in events.published] == ["FAILED"]
    assert report.health == "denied"


def test_under_load_every_job_in_progress_and_every_project_is_checked_within_the_bound() -> None:
    # Given 80 projects with a job in progress each, 40 idle ones, and a rate that lets each
    # worker make 20 calls in the usable part of a period: more due than one period can check
    rate, usable, full_scan_periods = 1.0, 20.0, 4
    source = TimedSource(rate=rate)
    for p in range(120):
        source.set(f"p{p:03d}", "done", "SUCCEEDED")
        if p < 80:
            source.set(f"p{p:03d}", "busy", "RUNNING")
    policy = CyclePolicy(full_scan_periods=full_scan_periods, list_budget=16, rate_per_second=rate)
    cycle, clock, _ = make(source, policy)
    while not cycle.store.is_initialized():
        tick(cycle, clock, source, 10_000)  # the first scan, given all the time it needs
    busy = {JobKey(f"p{p:03d}", "busy") for p in range(80)}
    last_checked = dict.fromkeys(busy, 0)
    last_listed = {f"p{p:03d}": 0 for p in range(120)}
    gaps: list[int] = []
    project_gaps: dict[str, list[int]] = defaultdict(list)
    reports = []
    # When the schedule runs 16 periods
    for period in range(1, 17):
        reports.append(tick(cycle, clock, source, usable))
        for key in busy & source.checked:
            gaps.append(period - last_checked[key])
            last_checked[key] = period
        for name in source.listed_now:
            project_gaps[name].append(period - last_listed[name])
            last_listed[name] = period
    gaps += [17 - t for t in last_checked.values()]
    for name, t in last_listed.items():
        project_gaps[name].append(17 - t)
    # Then every job in progress was checked at least every ceil(N / (2 r T - s)) + 1 periods,
    # s being the rotation's slice (16 a period) and T the seconds usable after ListProjects
    usable_after_list_projects = usable - 1 / rate
    bound = math.ceil(len(busy) / (2 * rate * usable_after_list_projects - 16)) + 1
    assert max(gaps) <= bound, (max(gaps), bound)
    # And every idle project was listed within the rotation's periods + 1
    idle_gaps = [g for name, gs in project_gaps.items() if name >= "p080" for g in gs]
    assert max(idle_gaps) <= max(full_scan_periods, math.ceil(120 / 16)) + 1
    # And the cycles said they were overloaded, with the backlog and its age
    assert all(r.health == "partial" and r.backlog > 0 for r in reports[1:])
    assert max(r.oldest_check_age_seconds for r in reports) > 0
    # And both quotas were used side by side: nothing moved, so every describe is one the
    # describer took over from the lister; it made at least half the calls it could (not all:
    # on a loaded machine a thread can fall a few calls behind the pacing)
    assert all(r.jobs_described >= usable * rate / 2 for r in reports)


def test_listing_never_waits_behind_a_describe_backlog() -> None:
    # Given 150 jobs that moved in one project, and ten more projects with one moved job each
    source = TimedSource(rate=1.0)
    for j in range(150):
        source.set("p00", f"j{j:03d}", "RUNNING", "step 1")
    for p in range(1, 11):
        source.set(f"p{p:02d}", "j", "RUNNING", "step 1")
    cycle, clock, _ = make(source, CyclePolicy(rate_per_second=1.0))
    tick(cycle, clock, source, 10_000)
    for j in range(150):
        source.set("p00", f"j{j:03d}", "RUNNING", "step 2", at=clock.now)
    for p in range(1, 11):
        source.set(f"p{p:02d}", "j", "SUCCEEDED", "done", at=clock.now)
    # When a cycle has time for 20 calls per operation
    report = tick(cycle, clock, source, 20)
    # Then every project was listed while the describer worked through its backlog
    assert source.listed_now == {f"p{p:02d}" for p in range(11)}
    assert report.jobs_described >= 19 and report.backlog > 0 and report.health == "partial"


def test_projects_the_describer_takes_over_are_listed_in_their_slice_s_turn() -> None:
    # Given as many projects with a job in progress as both workers can check in one period
    # (19 list calls after ListProjects, 19 describes), less two calls' slack, and the
    # default slice budget (80 % of the lister's share: 15 projects)
    source = TimedSource(rate=1.0)
    for p in range(36):
        source.set(f"p{p:02d}", "busy", "RUNNING")
    cycle, clock, _ = make(source, CyclePolicy(rate_per_second=1.0, list_budget=15))
    tick(cycle, clock, source, 10_000)
    last_listed = {f"p{p:02d}": 0 for p in range(36)}
    gaps = []
    for period in range(1, 10):
        report = tick(cycle, clock, source, 20)
        # Then every job in progress is checked every period (listed or described)
        assert source.checked >= {JobKey(f"p{p:02d}", "busy") for p in range(36)}
        assert report.backlog == 0 and report.health == "healthy"
        for name in source.listed_now:
            gaps.append(period - last_listed[name])
            last_listed[name] = period
    # And every project is listed when its slice comes round (3 slices: within 3 + 1 periods),
    # not always described instead
    assert max(gaps + [10 - t for t in last_listed.values()]) <= math.ceil(36 / 15) + 1


def test_a_slice_larger_than_the_lister_s_share_is_shared_with_the_describer() -> None:
    # Given 36 projects with a job in progress and no slice budget (every project is due to
    # the lister every period, about twice what it can list)
    source = TimedSource(rate=1.0)
    for p in range(36):
        source.set(f"p{p:02d}", "busy", "RUNNING")
    cycle, clock, _ = make(source, CyclePolicy(rate_per_second=1.0))
    tick(cycle, clock, source, 10_000)
    for _ in range(3):
        report = tick(cycle, clock, source, 20)
        # Then the describer checks what the lister cannot reach: every job every period
        assert source.checked >= {JobKey(f"p{p:02d}", "busy") for p in range(36)}
        assert report.backlog == 0 and report.health == "healthy"


def test_jobs_in_progress_spread_one_per_project_are_not_starved() -> None:
    # Given issue 13's P1000 shape, scaled down: 300 projects of 10 jobs, one job in progress
    # in every other project (150: as many projects to list as jobs in progress), a tenth of
    # them moving each period, and a rate that checks about two thirds of them a period
    rate, usable, budget = 2.0, 30.0, 23
    source, cycle, clock, busy = spread_fleet(rate, budget, lambda p: p % 2 == 0)
    # When the schedule runs 12 periods, a tenth of the jobs in progress moving in each
    gaps, reports, moved_describes = run_moving(
        cycle, clock, source, busy, periods=12, every=10, usable=usable
    )
    assert all(r.health == "partial" and r.backlog > 0 for r in reports)
    # Then every job in progress was checked within ceil(N / (2 r T - s - C)) + 1 periods: T
    # the seconds usable after ListProjects, s the slice, C the describes the lists' changes
    # needed (the most of any period)
    capacity = 2 * rate * (usable - 1 / rate) - budget - max(moved_describes)
    bound = math.ceil(len(busy) / capacity) + 1
    assert max(gaps) <= bound, (max(gaps), bound, max(moved_describes))


def test_changes_the_deadline_leaves_undescribed_do_not_hold_the_rotation_back() -> None:
    # Given issue 13's L5 shape, scaled down: 60 projects of 6 jobs, two in progress in every
    # project, and more of them moving each period than the describer can describe
    rate, usable, full_scan_periods = 1.0, 30.0, 10
    source = TimedSource(rate=rate)
    names = [f"p{p:02d}" for p in range(60)]
    for name in names:
        for j in range(4):
            source.set(name, f"done{j}", "SUCCEEDED")
        for j in range(2):
            source.set(name, f"busy{j}", "RUNNING", "step 0")
    policy = CyclePolicy(full_scan_periods=full_scan_periods, rate_per_second=rate)
    cycle, clock, _ = make(source, policy)
    first_scan(cycle, clock, source)
    busy = sorted(JobKey(name, f"busy{j}") for name in names for j in range(2))
    # When the schedule runs 10 periods, half the jobs in progress moving in each
    gaps, reports, _ = run_moving(cycle, clock, source, busy, periods=10, every=2, usable=usable)
    assert all(r.backlog > 0 for r in reports)
    # Then the lister's share alone moves the rotation on: every job in progress is checked
    # within ceil(B / (r T - s)) + 1 periods (B projects with jobs in progress, s the slice: 6)
    bound = math.ceil(len(names) / (rate * (usable - 1 / rate) - 6)) + 1
    assert max(gaps) <= bound, (max(gaps), bound)


def test_a_slice_project_whose_new_job_s_describe_was_cut_is_listed_first_next_cycle() -> None:
    # Given 20 idle projects listed ten a period (two slices), and two new jobs in each project
    # of this period's slice: twenty describes, more than the describer can make in a period
    source = TimedSource(rate=1.0)
    names = [f"p{p:02d}" for p in range(20)]
    for name in names:
        source.set(name, "done", "SUCCEEDED")
    cycle, clock, _ = make(source, CyclePolicy(full_scan_periods=2, rate_per_second=1.0))
    first_scan(cycle, clock, source)
    period = int((clock.now.timestamp() + 60) // 60)
    due_now = names[:10] if period % 2 == 0 else names[10:]
    new = [JobKey(name, f"new{j}") for name in due_now for j in range(2)]
    for key in new:
        source.set(key.project, key.job, "RUNNING", "started", at=clock.now)
    assert tick(cycle, clock, source, 12).backlog > 0  # the deadline cut some describes
    # When the next period lists the other slice
    tick(cycle, clock, source, 12)
    # Then the projects whose new jobs' describes were cut were listed first and their new
    # jobs described: every new job is recorded within two periods, not when its slice
    # comes round again
    assert set(cycle.store.get_jobs(new)) == set(new)


def test_jobs_in_progress_are_checked_while_more_move_than_the_describer_can_describe() -> None:
    # Given jobs in progress spread one per project (issue 13's P1000 shape, scaled down: 300
    # projects of 10 jobs, one in progress in three projects of four) and all of them moving
    # every period: the lists find more changes than the describer can describe
    rate, usable, budget = 2.0, 30.0, 10
    source, cycle, clock, busy = spread_fleet(rate, budget, lambda p: p % 4 != 0)
    # When the schedule runs 12 periods
    gaps, reports, moved_describes = run_moving(
        cycle, clock, source, busy, periods=12, every=1, usable=usable
    )
    calls = rate * (usable - 1 / rate)  # per operation, after ListProjects
    assert all(r.backlog > 0 and r.health == "partial" for r in reports)
    # Then the changes did not take the whole describer: every job in progress was checked
    # within ceil(N / (2 r T - s - min(C, r T / 2))) + 1 periods, s the slice and C the
    # describes the changes needed (more than r T here); when the changes came first, the
    # rotation moved by the lister's share alone and a job waited 5 periods
    bound = math.ceil(len(busy) / (2 * calls - budget - calls / 2)) + 1
    assert max(gaps) <= bound, (max(gaps), bound)
    # And the changes were described all the same: at least a third of the describer's calls
    # each period went to them
    assert min(moved_describes) >= calls / 3, moved_describes


def test_a_new_job_in_a_slice_project_the_describer_took_is_found_the_next_period() -> None:
    # Given two slices of 20 projects (FULL_SCAN_PERIODS 2): a-projects holding four jobs in
    # progress each (too many for the describer to take), b-projects one each; the lister can
    # list about 18 projects a period, so when the b-slice is due the describer takes the
    # b-projects past the lister's reach
    source = TimedSource(rate=1.0)
    a_names = [f"a{p:02d}" for p in range(20)]
    b_names = [f"b{p:02d}" for p in range(20)]
    for name in a_names:
        for j in range(4):
            source.set(name, f"busy{j}", "RUNNING")
    for name in b_names:
        source.set(name, "busy", "RUNNING")
    cycle, clock, _ = make(source, CyclePolicy(full_scan_periods=2, rate_per_second=1.0))
    first_scan(cycle, clock, source)
    # When a new job starts in every b-project
    new = [JobKey(name, "new") for name in b_names]
    for key in new:
        source.set(key.project, key.job, "CREATED", at=clock.now)
    recorded_by = []
    for _ in range(6):
        tick(cycle, clock, source, 20)
        recorded_by.append(len(cycle.store.get_jobs(new)))
    # Then a b-project the describer took (its job in progress checked, but only a list finds
    # a new job) is listed first the next period, not left to its slice's next turn, where
    # the describer would take it again: every new job is recorded within four periods
    assert recorded_by[3] == len(new), recorded_by
