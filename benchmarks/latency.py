"""Detection latency: the simulator's change time -> the event's ``observedAt``, in virtual time.

A scenario of jobs whose transitions happen at random (seeded) virtual times is polled by the
schedule, one invocation per period, through the Lambda handler.  The monitor is built with
``clock``, ``monotonic`` and ``sleep`` following the simulator's virtual clock (``BenchTime``,
calls instant) and a context whose remaining time follows it too, so the watch's rounds land
where they would in a 58 s invocation.  Each event sent to EventBridge is matched to the
timeline step it announces; its latency is its ``observedAt`` minus the step's time.

With CloudTrail discovery on, each job's start reaches the function ``CLOUDTRAIL_DELAY`` seconds
later as CloudTrail's event; with reserved concurrency 1 an event that arrives while a watching
invocation runs is handled when it returns (Lambda's retry back-off for throttled asynchronous
events is not modelled: an optimistic assumption).
"""

from __future__ import annotations

import math
import random
import statistics
from datetime import UTC, datetime
from typing import Any

from benchmarks.fleet import START_TIME, Fleet, FleetSpec, JobPlan, Step, faults, started_between
from benchmarks.harness import (
    CLOUDTRAIL_DELAY,
    SEED_RATE,
    BenchTime,
    Deployment,
    Endpoints,
    Stack,
    cloudtrail_event,
    lambda_env,
    run_cycle,
)
from benchmarks.meter import Meter
from lfv_workbench.local.emulated import patched_environ

PERIOD = 60.0


def latency_fleet(jobs: int = 25, seed: int = 11) -> Fleet:
    """``jobs`` jobs, each CREATED -> RUNNING -> SUCCEEDED/FAILED at random times (3 transitions
    each), plus one settled job per project."""
    rng = random.Random(seed)
    fleet = Fleet(FleetSpec("latency", 5, jobs // 5 + 1))
    fleet.projects = [f"lat-{i:02d}" for i in range(5)]
    for project in fleet.projects:
        fleet.jobs[(project, "settled")] = JobPlan(
            project, "settled", [Step(-7200, "SUCCEEDED", "Packaging succeeded.")]
        )
    for i in range(jobs):
        project = fleet.projects[i % 5]
        created = round(rng.uniform(5, 600), 1)
        running = round(created + rng.uniform(15, 150), 1)
        end = round(running + rng.uniform(15, 300), 1)
        final = "FAILED" if rng.random() < 0.2 else "SUCCEEDED"
        fleet.jobs[(project, f"job-{i:03d}")] = JobPlan(
            project,
            f"job-{i:03d}",
            [
                Step(created, "CREATED", "Model packaging job created."),
                Step(running, "RUNNING", "Packaging model version 1."),
                Step(end, final, f"Packaging {final.lower()}."),
            ],
        )
    return fleet


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


#: The modes ``measure`` runs: (label, deployment, watch on).
MODES: dict[str, tuple[Deployment, bool]] = {
    "plain cycle every 60 s": (Deployment(full_scan_periods=1, cloudtrail=False), False),
    "watch every 10 s (FULL_SCAN_PERIODS=1, no CloudTrail)": (
        Deployment(full_scan_periods=1, cloudtrail=False),
        True,
    ),
    "watch every 10 s, deployed (FULL_SCAN_PERIODS=10, CloudTrail)": (Deployment(), True),
    "no watch, deployed scan (FULL_SCAN_PERIODS=10, CloudTrail)": (Deployment(), False),
}
#: The deployed mode again, with CloudTrail's events handled by a second container while the
#: first watches (what ReservedConcurrentExecutions 2 would allow).
CONCURRENT = "watch every 10 s, deployed, CloudTrail checks beside the watch (concurrency 2)"


class _Interleaved(BenchTime):
    """``BenchTime`` whose sleep stops at each due CloudTrail event and lets ``handle`` run it
    (a second container handling the event while the first one waits)."""

    def __init__(self, control: Any, handle: Any, starts: list[tuple[float, str, str]]) -> None:
        super().__init__(control, virtual_monotonic=True)
        self.handle = handle
        self.starts = starts

    def sleep(self, seconds: float) -> None:
        until = self.t + max(0.0, seconds)
        while self.starts and self.starts[0][0] + CLOUDTRAIL_DELAY <= until:
            at, project, job = self.starts.pop(0)
            due = max(at + CLOUDTRAIL_DELAY, self.t)
            super().sleep(due - self.t)
            self.round_starts.pop()
            self.handle(project, job)
        super().sleep(until - self.t)


def _latency(fleet: Any, detail: dict[str, Any]) -> tuple[float, bool] | None:
    """(seconds from the state's start to its announcement, whether it was the job's first
    state) for an announced change, or None when it is not a state the fleet's plan made."""
    virtual = (_parse(detail["observedAt"]) - START_TIME).total_seconds()
    plan = fleet.jobs.get((detail["projectName"], detail["jobName"]))
    if plan is None:
        return None
    steps = [
        s
        for s in plan.steps
        if s.status == detail.get("status")
        and s.message == detail.get("statusMessage")
        and s.at <= virtual + 1e-6
    ]
    if not steps:
        return None
    return virtual - steps[-1].at, steps[-1] is plan.steps[0]


def measure(
    endpoints: Endpoints, *, deployment: Deployment, watch: bool, concurrent: bool = False
) -> dict[str, Any]:
    from lfv_monitor.bootstrap import build_monitor
    from lfv_workbench.simulator import SimulatorControl

    fleet = latency_fleet()
    control = SimulatorControl(endpoints.simulator, timeout=60)
    control.load_scenario(fleet.scenario(latency_ms=0, quota=None))
    control.set_faults(faults(latency_ms=0, quota=None))
    control.set_speed(0)
    stack = Stack(endpoints.moto)
    horizon = max(s.at for plan in fleet.jobs.values() for s in plan.steps) + 2 * PERIOD
    starts = started_between(fleet, 0.0, horizon) if deployment.cloudtrail else []
    monitors: list[Any] = []

    def handle(project: str, job: str) -> None:
        run_cycle(
            monitors[-1],
            deployment.timeout,
            monotonic=clock.monotonic,
            event=cloudtrail_event(project, job),
        )

    clock = (
        _Interleaved(control, handle, starts)
        if concurrent
        else BenchTime(control, virtual_monotonic=True)
    )
    # The calls are instant in virtual time, so the client rate only costs wall time.
    fast = Deployment(
        full_scan_periods=deployment.full_scan_periods,
        cloudtrail=deployment.cloudtrail,
        timeout=deployment.timeout,
        margin=deployment.margin,
        watch_interval=deployment.watch_interval,
        list_budget=deployment.budget(PERIOD),
        rate=SEED_RATE,
    )
    with patched_environ(lambda_env(endpoints, stack, rate=SEED_RATE, extra=fast.env(watch=watch))):
        monitor = build_monitor(clock=clock.now, monotonic=clock.monotonic, sleep=clock.sleep)
        # The container that handles CloudTrail's events (the same one unless ``concurrent``).
        monitors.append(build_monitor(clock=clock.now) if concurrent else monitor)
    meter = Meter().attach(monitor)
    if concurrent:
        meter.attach(monitors[-1])
    latencies: list[float] = []
    discovery: list[float] = []

    def collect() -> None:
        for detail in meter.reset().details:
            seen = _latency(fleet, detail)
            if seen is not None:
                latencies.append(seen[0])
                if seen[1]:
                    discovery.append(seen[0])

    t = 0.0
    invocations = 0
    while t <= horizon:
        # CloudTrail's events due before this tick, each when the function is free.
        while starts and starts[0][0] + CLOUDTRAIL_DELAY <= t:
            at, project, job = starts.pop(0)
            clock.set(max(at + CLOUDTRAIL_DELAY, clock.t))
            handle(project, job)
            collect()
        clock.set(t)
        run_cycle(monitor, deployment.timeout, monotonic=clock.monotonic)
        invocations += 1
        collect()
        t += PERIOD
    transitions = len(fleet.transitions(0, horizon))
    quantiles = statistics.quantiles(latencies, n=20, method="inclusive")
    tracked = sorted(latencies)
    for value in discovery:
        tracked.remove(value)
    return {
        "watch": watch,
        "concurrent_checks": concurrent,
        "deployment": deployment.as_dict(),
        "transitions": transitions,
        "announced": len(latencies),
        "not_seen_as_own_state": transitions - len(latencies),
        "p50_s": round(statistics.median(latencies), 1),
        "p95_s": round(quantiles[18], 1),
        "max_s": round(max(latencies), 1),
        "mean_s": round(statistics.fmean(latencies), 1),
        "new_jobs": _spread(discovery),
        "tracked_jobs": _spread(tracked),
        "scheduled_invocations": invocations,
        "cloudtrail_invocations": len(started_between(fleet, 0.0, horizon))
        if deployment.cloudtrail
        else 0,
    }


def measure_all(endpoints_factory: Any) -> dict[str, dict[str, Any]]:
    """Every mode of ``MODES``, each on fresh servers from ``endpoints_factory()``."""
    results = {}
    for label, (deployment, watch) in MODES.items():
        with endpoints_factory() as endpoints:
            results[label] = measure(endpoints, deployment=deployment, watch=watch)
    with endpoints_factory() as endpoints:
        results[CONCURRENT] = measure(
            endpoints, deployment=Deployment(), watch=True, concurrent=True
        )
    return results


def _spread(values: list[float]) -> dict[str, Any]:
    """Count, p50, p95 and max of ``values`` (seconds)."""
    if not values:
        return {"count": 0}
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]
    return {
        "count": len(values),
        "p50_s": round(statistics.median(values), 1),
        "p95_s": round(p95, 1),
        "max_s": round(ordered[-1], 1),
    }
