"""Generated fleets and their scenarios, plus the oracle that says what a cycle must call.

A job's state at a time and the final statuses come from the expected-states oracle the demo and
the soak use too (``lfv_workbench.oracle``); the P1 oracle here adds what a cycle must call.

A fleet is ``projects x jobs_per_project`` settled jobs (finished long before the start) plus
``active`` in-progress *slots* (1% of the jobs, at least 3).  The measured cycles run at
``T = c * period`` (c = 1, 2, ...), in phases (``FleetSpec.kind``):

* *busy*: some slots' jobs finish and a new job starts in the same project (so the fleet stays
  1% in progress), and other slots' jobs change their StatusMessage;
* *idle*: nothing changes (jobs still in progress, but unchanged);
* *drain*: every job in progress finishes (half a period before the tick);
* *quiet*: nothing is in progress and nothing changes (the deployed stack's "idle");
* *watch* (run only by the full benchmark, with the sub-minute watch on): one new job per slot
  starts 20 s before the tick, runs at +15 s and finishes at +35 s, inside the watch's window.

Everything is deterministic: the same spec gives the same scenario, byte for byte.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from lfv_workbench.oracle import step_at

START_TIME = datetime(2026, 11, 1, tzinfo=UTC)
PAGE_SIZE = 100


@dataclass(frozen=True)
class FleetSpec:
    name: str
    projects: int
    jobs_per_project: int
    busy_cycles: int = 3
    idle_cycles: int = 1
    period: float = 60.0
    #: Percent of the jobs in progress at any time (at least 3 jobs).
    active_percent: float = 1.0
    #: Offsets (seconds after the watch cycle's tick) of the watch jobs' steps.
    watch_steps: tuple[float, float, float] = (-20.0, 15.0, 35.0)

    @property
    def jobs(self) -> int:
        return self.projects * self.jobs_per_project

    @property
    def active(self) -> int:
        """Jobs in progress at any time: ``active_percent`` of the fleet, at least 3."""
        return max(3, math.ceil(self.jobs * self.active_percent / 100))

    @property
    def cycles(self) -> int:
        """The plain (unwatched) cycles: busy, idle, drain, quiet."""
        return self.busy_cycles + self.idle_cycles + 2

    @property
    def drain_cycle(self) -> int:
        return self.busy_cycles + self.idle_cycles + 1

    @property
    def watch_cycle(self) -> int:
        return self.cycles + 1

    def kind(self, cycle: int) -> str:
        if cycle <= self.busy_cycles:
            return "busy"
        if cycle < self.drain_cycle:
            return "idle"
        if cycle == self.drain_cycle:
            return "drain"
        return "quiet" if cycle <= self.cycles else "watch"

    def cycle_time(self, cycle: int) -> float:
        """Virtual offset of steady cycle ``cycle`` (the baseline cycle is 0)."""
        return cycle * self.period


FLEETS: dict[str, FleetSpec] = {
    "S": FleetSpec("S", 10, 5),
    "M": FleetSpec("M", 100, 10),
    "L": FleetSpec("L", 1000, 10),
    # Issue 13's loads: 300 projects of ~33 jobs with 5 % and 10 % in progress (495 and 990
    # jobs, in every project), and 1,000 projects with 5 % in progress (500, one in every
    # other project).
    "L5": FleetSpec("L5", 300, 33, active_percent=5.0),
    "L10": FleetSpec("L10", 300, 33, active_percent=10.0),
    "P1000": FleetSpec("P1000", 1000, 10, active_percent=5.0),
}


@dataclass(frozen=True)
class Step:
    at: float
    status: str
    message: str


@dataclass
class JobPlan:
    project: str
    name: str
    steps: list[Step]

    def state(self, t: float) -> Step | None:
        """The job's state at virtual offset ``t`` (None: it does not exist yet)."""
        return step_at(self.steps, t)


@dataclass
class Fleet:
    """A generated fleet: its scenario document and the plan the oracle reads."""

    spec: FleetSpec
    jobs: dict[tuple[str, str], JobPlan] = field(default_factory=dict)
    projects: list[str] = field(default_factory=list)

    def scenario(self, *, latency_ms: float = 50.0, quota: float | None = 5.0) -> dict[str, Any]:
        by_project: dict[str, list[dict[str, Any]]] = {p: [] for p in self.projects}
        for plan in self.jobs.values():
            by_project[plan.project].append(
                {
                    "name": plan.name,
                    "timeline": [
                        {"at": s.at, "status": s.status, "message": s.message} for s in plan.steps
                    ],
                }
            )
        return {
            "start_time": START_TIME.isoformat().replace("+00:00", "Z"),
            "seed": 7,
            "projects": [{"name": p, "jobs": by_project[p]} for p in self.projects],
            "faults": faults(latency_ms=latency_ms, quota=quota),
        }

    def transitions(self, start: float, end: float) -> list[tuple[JobPlan, Step]]:
        """Every step with ``start < at <= end``."""
        return [
            (plan, step)
            for plan in self.jobs.values()
            for step in plan.steps
            if start < step.at <= end
        ]

    def visible_jobs(self, project: str, t: float) -> list[JobPlan]:
        return [p for p in self.jobs.values() if p.project == project and p.state(t) is not None]


def faults(*, latency_ms: float, quota: float | None) -> dict[str, Any]:
    """The simulator's faults document: latency per call, and the service quota (None: none)."""
    return {"*": {"latency_ms": latency_ms, "rate_per_second": quota}}


def epoch(offset: float) -> float:
    return round((START_TIME + timedelta(seconds=offset)).timestamp(), 3)


def build_fleet(spec: FleetSpec) -> Fleet:
    fleet = Fleet(spec)
    fleet.projects = [f"proj-{i:04d}" for i in range(spec.projects)]
    period = spec.period
    stride = spec.jobs // spec.active
    active_indexes = [a * stride for a in range(spec.active)]
    active_set = set(active_indexes)
    # Settled jobs: finished two hours before the start; every 7th failed.
    for index in range(spec.jobs):
        project = fleet.projects[index // spec.jobs_per_project]
        name = f"job-{index % spec.jobs_per_project:03d}"
        if index in active_set:
            continue
        end = "FAILED" if index % 7 == 0 else "SUCCEEDED"
        fleet.jobs[(project, name)] = JobPlan(
            project,
            name,
            [
                Step(-7200, "CREATED", "Model packaging job created."),
                Step(-7100, "RUNNING", "Packaging model version 1."),
                Step(-6900, end, f"Packaging {end.lower()}."),
            ],
        )
    # Active slots: the job in progress now, and its successors.
    for slot, index in enumerate(active_indexes):
        project = fleet.projects[index // spec.jobs_per_project]
        name = f"job-{index % spec.jobs_per_project:03d}"
        steps = [
            Step(-900, "CREATED", "Model packaging job created."),
            Step(-600, "RUNNING", "Packaging (step 0)."),
        ]
        generation = 0
        for cycle in range(1, spec.busy_cycles + 1):
            t = spec.cycle_time(cycle)
            if slot % 4 == cycle % 4:
                # This slot's job finishes; a new job starts in the same project.
                end = "FAILED" if (slot + cycle) % 2 else "SUCCEEDED"
                steps.append(Step(t - period / 2, end, f"Packaging {end.lower()} ({cycle})."))
                fleet.jobs[(project, name)] = JobPlan(project, name, steps)
                generation += 1
                name = f"new-{slot:04d}-{generation}"
                steps = [Step(t - period / 3, "CREATED", "Model packaging job created.")]
                if cycle < spec.busy_cycles:
                    steps.append(Step(t + period / 2 + 5, "RUNNING", "Packaging (step 0)."))
            elif slot % 4 == (cycle + 2) % 4:
                steps.append(Step(t - 2 * period / 3, "RUNNING", f"Packaging (step {cycle})."))
        # The drain: whatever is in progress finishes half a period before the drain's tick.
        drained = spec.cycle_time(spec.drain_cycle) - period / 2
        steps.append(Step(drained, "SUCCEEDED", "Packaging succeeded."))
        steps.sort(key=lambda s: s.at)
        fleet.jobs[(project, name)] = JobPlan(project, name, steps)
        # The watch cycle's job in the same project.
        t = spec.cycle_time(spec.watch_cycle)
        created, running, ended = (t + offset for offset in spec.watch_steps)
        end = "FAILED" if slot % 5 == 0 else "SUCCEEDED"
        fleet.jobs[(project, f"watch-{slot:04d}")] = JobPlan(
            project,
            f"watch-{slot:04d}",
            [
                Step(created, "CREATED", "Model packaging job created."),
                Step(running, "RUNNING", "Packaging (step 0)."),
                Step(ended, end, f"Packaging {end.lower()} (watch)."),
            ],
        )
    return fleet


def started_between(fleet: Fleet, start: float, end: float) -> list[tuple[float, str, str]]:
    """Jobs whose first step (StartModelPackagingJob) is in ``(start, end]``, in time order:
    ``(at, project, job)``; what CloudTrail would report."""
    return sorted(
        (plan.steps[0].at, plan.project, plan.name)
        for plan in fleet.jobs.values()
        if start < plan.steps[0].at <= end
    )


def scan_slice(
    projects: Iterable[str],
    *,
    now: float,
    period: float,
    list_budget: int | None,
    full_scan_periods: int,
) -> list[str]:
    """The projects a scheduled cycle lists at epoch ``now``, by the rule of
    docs/architecture.md ("Fleets beyond one period"), written out independently of the cycle:
    projects sorted by name are cut into slices of ``min(ceil(n / full_scan_periods),
    list_budget)``, and the cycle lists slice ``floor(now / period) mod slices``."""
    ordered = sorted(projects)
    budget = math.ceil(len(ordered) / max(1, full_scan_periods))
    if list_budget:
        budget = min(budget, list_budget)
    if not budget or len(ordered) <= budget:
        return ordered
    slices = math.ceil(len(ordered) / budget)
    index = int(now // period) % slices
    return ordered[index * budget : (index + 1) * budget]


def slices(projects: int, *, list_budget: int | None, full_scan_periods: int) -> tuple[int, int]:
    """``(projects listed per cycle, periods per full scan)`` under the same rule."""
    budget = math.ceil(projects / max(1, full_scan_periods))
    if list_budget:
        budget = min(budget, list_budget)
    if not budget or projects <= budget:
        return projects, 1
    return budget, math.ceil(projects / budget)


# -- the oracle -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stored:
    """What the store held for a job before a cycle (read through the store's public API)."""

    status: str | None
    message: str | None
    last_updated: float | None
    removed: bool


@dataclass
class Minimum:
    """The calls a cycle needs, by operation, given what it chose to list, and the changes it
    must record (described jobs whose Status or StatusMessage differ from the snapshot, or
    that the store does not hold)."""

    calls: dict[str, int]
    describes: set[tuple[str, str]]
    changes: int = 0


def minimum_calls(
    fleet: Fleet,
    t: float,
    *,
    listed_projects: Iterable[str],
    listed_all_projects: bool,
    stored: Mapping[tuple[str, str], Stored],
    stored_active: Iterable[tuple[str, str]],
) -> Minimum:
    """The cycle's list-first rule (docs/architecture.md, "The poll cycle"): ListProjects pages
    (when it listed them), the list pages of the projects it lists this period
    (``listed_projects``: this period's slice, see ``scan_slice``, and every project holding a
    job the store has in progress), and describes of exactly the jobs that need one.

    A listed job needs a describe when the store has no snapshot of it (or holds it as
    removed), or when its Status, StatusMessage or LastUpdatedTimestamp differ from the
    snapshot; a job the store holds in progress needs one when it is not in its project's list
    (deleted), or when its project is not listed.
    """
    listed = sorted(set(listed_projects))
    pages = 0
    needed: set[tuple[str, str]] = set()
    visible_keys: set[tuple[str, str]] = set()
    for project in listed:
        visible = fleet.visible_jobs(project, t)
        pages += max(1, math.ceil(len(visible) / PAGE_SIZE))
        for plan in visible:
            key = (plan.project, plan.name)
            visible_keys.add(key)
            if _listing_moved(plan, t, stored.get(key)):
                needed.add(key)
    needed |= {key for key in stored_active if key not in visible_keys}
    project_pages = max(1, math.ceil(len(fleet.projects) / PAGE_SIZE)) if listed_all_projects else 0
    return Minimum(
        changes=sum(_is_change(fleet, key, t, stored.get(key)) for key in needed),
        calls={
            "ListProjects": project_pages,
            "ListModelPackagingJobs": pages,
            "DescribeModelPackagingJob": len(needed),
        },
        describes=needed,
    )


def _listing_moved(plan: JobPlan, t: float, snapshot: Stored | None) -> bool:
    state = plan.state(t)
    assert state is not None
    if snapshot is None or snapshot.removed:
        return True
    last = epoch(max(s.at for s in plan.steps if s.at <= t))
    return (
        snapshot.status != state.status
        or snapshot.message != state.message
        or snapshot.last_updated is None
        or abs(snapshot.last_updated - last) > 1e-3
    )


def _is_change(fleet: Fleet, key: tuple[str, str], t: float, snapshot: Stored | None) -> bool:
    current = fleet.jobs[key].state(t) if key in fleet.jobs else None
    if current is None:
        return snapshot is not None and not snapshot.removed  # gone: REMOVED
    if snapshot is None or snapshot.removed:
        return True
    return snapshot.status != current.status or snapshot.message != current.message


def in_progress_bound(
    spec: FleetSpec, *, rate: float, usable_s: float, slice_size: int, describes: int
) -> int:
    """docs/architecture.md's bound: every job in progress is checked at least every
    ``ceil(min(B / (r T - s), N / (2 r T - s - min(C, r T / 2)))) + 1`` periods (N jobs in
    progress in B projects, r the rate per operation, T the seconds usable after ListProjects,
    s the rotation's slice, C the describes the lists' changes need: ``describes``, the most
    of any cycle's list-first minimum; under load the describer gives them at most half its
    calls while it has projects to take)."""
    calls = _calls_per_operation(spec, rate=rate, usable_s=usable_s)
    busy = min(spec.projects, spec.active)
    by_projects = busy / max(1.0, calls - slice_size)
    by_jobs = spec.active / max(1.0, 2 * calls - slice_size - min(describes, calls / 2))
    return math.ceil(min(by_projects, by_jobs)) + 1


def issue_bound(spec: FleetSpec, *, rate: float, usable_s: float) -> int:
    """Issue 13's own figure, ``ceil(N / (2 r T)) + 1`` periods (T after ListProjects), which
    leaves out the slice and the changes' describes: shown beside the bound above."""
    calls = _calls_per_operation(spec, rate=rate, usable_s=usable_s)
    return math.ceil(spec.active / max(1.0, 2 * calls)) + 1


def _calls_per_operation(spec: FleetSpec, *, rate: float, usable_s: float) -> float:
    """r T: the calls one operation can make in a period, T being the seconds usable after
    the ListProjects pages."""
    return rate * (usable_s - math.ceil(spec.projects / PAGE_SIZE) / rate)


def project_bound(periods: int) -> int:
    """docs/architecture.md's bound: every project is listed within ``periods + 1`` periods
    (periods per full scan: its slice comes round, and the slice is the lister's own), as
    long as the slice fits in the lister's share (``s <= r T``, which the default budget of
    80 % guarantees)."""
    return periods + 1
