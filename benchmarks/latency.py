"""Detection latency: the simulator's change time -> the event's ``observedAt``, in virtual time.

A scenario of jobs whose transitions happen at random (seeded) virtual times is polled by the
schedule, one invocation per period.  Each event sent to EventBridge is matched to the timeline
step it announces; its latency is the virtual time it was observed minus the step's time.

``watch=False`` (today): one plain cycle per period; the simulator's clock is frozen during the
cycle, so an event observed ``w`` wall seconds into the cycle at tick ``T`` was observed at
virtual ``T + w``.  ``watch=True`` (issue 7's sub-minute detection): the monitor is built with
``clock=`` and ``sleep=`` following the simulator's virtual clock and ``ACTIVE_POLL_INTERVAL``
set, so its waits advance virtual time and ``observedAt`` is virtual already.
"""

from __future__ import annotations

import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from benchmarks.fleet import START_TIME, Fleet, FleetSpec, JobPlan, Step, faults
from benchmarks.harness import SEED_RATE, Endpoints, Stack, environment, lambda_env, run_cycle
from benchmarks.meter import Meter

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


class VirtualTime:
    """The monitor's clock and sleep, following the simulator's virtual clock (watch mode)."""

    def __init__(self, control: Any) -> None:
        self.control = control
        self.offset = 0.0

    def now(self) -> datetime:
        return START_TIME + timedelta(seconds=self.offset)

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.control.advance(seconds)
            self.offset += seconds

    def tick(self, t: float) -> None:
        if t > self.offset:
            self.control.set_time(t)
            self.offset = t


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def measure(endpoints: Endpoints, *, watch: bool = False, interval: float = 10.0) -> dict[str, Any]:
    from lfv_monitor.bootstrap import build_monitor
    from lfv_monitor.simulator import SimulatorControl

    fleet = latency_fleet()
    control = SimulatorControl(endpoints.simulator, timeout=60)
    control.load_scenario(fleet.scenario(latency_ms=0, quota=None))
    control.set_faults(faults(latency_ms=0, quota=None))
    control.set_speed(0)
    stack = Stack(endpoints.moto)
    extra = {"ACTIVE_POLL_INTERVAL": f"{interval:g}" if watch else "0"}
    clock = VirtualTime(control)
    with environment(lambda_env(endpoints, stack, rate=SEED_RATE, extra=extra)):
        # Sub-minute detection: the monitor's waits follow the simulator's virtual clock.
        kwargs: dict[str, Any] = {"clock": clock.now, "sleep": clock.sleep} if watch else {}
        try:
            monitor = build_monitor(**kwargs)
        except TypeError as exc:
            raise RuntimeError(
                f"watch mode needs build_monitor(clock=..., sleep=...) (issue 7): {exc}"
            ) from exc
    meter = Meter().attach(monitor)
    horizon = max(s.at for plan in fleet.jobs.values() for s in plan.steps) + 2 * PERIOD
    latencies: list[float] = []
    t = 0.0
    while t <= horizon:
        clock.tick(t)
        wall = time.time()
        run_cycle(monitor, timeout=PERIOD)
        for detail in meter.reset().details:
            observed = _parse(detail["observedAt"])
            if watch:
                virtual = (observed - START_TIME).total_seconds()
            else:
                virtual = t + (observed.timestamp() - wall)
            plan = fleet.jobs.get((detail["projectName"], detail["jobName"]))
            if plan is None:
                continue
            steps = [
                s
                for s in plan.steps
                if s.status == detail.get("status")
                and s.message == detail.get("statusMessage")
                and s.at <= virtual + 1e-6
            ]
            if steps:
                latencies.append(virtual - steps[-1].at)
        t += PERIOD
    transitions = len(fleet.transitions(0, horizon))
    quantiles = statistics.quantiles(latencies, n=20, method="inclusive")
    return {
        "mode": f"watch every {interval:g} s" if watch else "plain cycle every 60 s",
        "transitions": transitions,
        "announced": len(latencies),
        "not_seen_as_own_state": transitions - len(latencies),
        "p50_s": round(statistics.median(latencies), 1),
        "p95_s": round(quantiles[18], 1),
        "max_s": round(max(latencies), 1),
    }
