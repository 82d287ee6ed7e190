"""Runs the real cycle on a generated fleet and measures P1, P2, P3 (and P5 in a subprocess).

Everything goes through the public API: ``build_monitor`` from the environment a Lambda would
have (plus ``clock``/``monotonic``/``sleep`` following the simulator's virtual clock), cycles
through ``lambda_handler(event, context, service=monitor)`` (the schedule's event, or CloudTrail's
``StartModelPackagingJob`` event when discovery is on), the simulator's control API for time,
faults and call counts, and the store's public reads for what it held before each cycle.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import boto3

from benchmarks.fleet import (
    START_TIME,
    Fleet,
    FleetSpec,
    Stored,
    build_fleet,
    epoch,
    faults,
    in_progress_bound,
    issue_bound,
    minimum_calls,
    project_bound,
    scan_slice,
    slices,
    started_between,
)
from benchmarks.meter import Meter
from lfv_workbench.local.emulated import patched_environ

BUS = "lfv-bench-bus"
TOPIC = "lfv-bench-topic"
TABLE = "lfv-bench"
#: The client-side rate and the service quota of the issue (requests per second per operation).
CLIENT_RATE = 4.0
SERVICE_QUOTA = 5.0
LATENCY_MS = 50.0
#: Settings for seeding the baseline fast: the highest client rate the configuration accepts
#: and no service quota or latency.
SEED_RATE = 100.0
#: Seconds from a job's start to CloudTrail's event reaching the function (assumed: CloudTrail
#: delivers API-call events to EventBridge best-effort, typically within seconds).
CLOUDTRAIL_DELAY = 5.0
WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})
LFV_OPERATIONS = ("ListProjects", "ListModelPackagingJobs", "DescribeModelPackagingJob")

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Endpoints:
    simulator: str
    moto: str


@dataclass(frozen=True)
class Deployment:
    """The function's settings in a run: template.yaml's defaults unless said otherwise
    (Timeout 58, DeadlineMarginSeconds 5, LfvRatePerSecond 4, CloudTrailDiscovery ENABLED with
    FullScanPeriods 10, ActivePollIntervalSeconds 10)."""

    full_scan_periods: int = 10
    cloudtrail: bool = True
    timeout: float = 58.0
    margin: float = 5.0
    rate: float = CLIENT_RATE
    watch_interval: float = 10.0
    list_budget: int = 0  # LIST_BUDGET_PER_CYCLE; 0: derived from the rate and the period

    @property
    def label(self) -> str:
        trail = "CloudTrail on" if self.cloudtrail else "CloudTrail off"
        return f"FULL_SCAN_PERIODS={self.full_scan_periods}, {trail}"

    def budget(self, period: float) -> int:
        """Projects a cycle may list: config.py's rule (80% of what the rate allows)."""
        if self.list_budget:
            return self.list_budget
        return max(1, int((period - self.margin) * self.rate * 0.8))

    def env(self, *, watch: bool) -> dict[str, str]:
        return {
            "LFV_RATE_PER_SECOND": f"{self.rate:g}",
            "FULL_SCAN_PERIODS": str(self.full_scan_periods),
            "DEADLINE_MARGIN_SECONDS": f"{self.margin:g}",
            "LIST_BUDGET_PER_CYCLE": str(self.list_budget),
            "ACTIVE_POLL_INTERVAL": f"{self.watch_interval:g}" if watch else "0",
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "full_scan_periods": self.full_scan_periods,
            "cloudtrail": self.cloudtrail,
            "timeout_s": self.timeout,
            "margin_s": self.margin,
            "client_rate_per_s": self.rate,
            "watch_interval_s": self.watch_interval,
            "list_budget": self.list_budget or None,
        }


#: What the smoke test and ``make bench-smoke`` run (counts only: a high rate, no quota): the
#: code's defaults (every project every period, no CloudTrail), and the deployed defaults.
SMOKE_DEPLOYMENTS = {
    "scan every period": Deployment(full_scan_periods=1, cloudtrail=False, rate=50.0),
    "deployed (FULL_SCAN_PERIODS=10, CloudTrail)": Deployment(rate=50.0),
}

BASE_ENV = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_CONFIG_FILE": "/dev/null",
    "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    "POWERTOOLS_SERVICE_NAME": "lfv-monitor",
    "POWERTOOLS_METRICS_NAMESPACE": "LfvMonitorBench",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_TRACE_DISABLED": "true",
}


def lambda_env(
    endpoints: Endpoints, stack: Stack, *, rate: float, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment the function has in the template, pointed at the local endpoints."""
    return {
        **BASE_ENV,
        "AWS_ENDPOINT_URL": endpoints.moto,
        "AWS_ENDPOINT_URL_LOOKOUTVISION": endpoints.simulator,
        "TABLE_NAME": stack.table,
        "EVENT_BUS_NAME": stack.bus,
        "TOPIC_ARN": stack.topic_arn,
        "LFV_RATE_PER_SECOND": f"{rate:g}",
        **(extra or {}),
    }


class BenchTime:
    """The monitor's ``clock``, ``monotonic`` and ``sleep`` in a benchmark run.

    ``now`` is the simulator's virtual time; ``sleep`` (the watch's waits) advances the
    simulator's clock instead of waiting.  Three ways to run:

    * default: the simulator's clock is frozen between the harness's moves, so a cycle's slice
      and ``observedAt`` are deterministic; ``monotonic`` is real (the plain cycles);
    * ``realtime``: the simulator's clock also runs with the wall clock (``start_realtime``),
      so calls take their real time in virtual time too and only the waits are skipped;
      ``monotonic`` is real seconds plus the seconds slept (the per-fleet watch invocation);
    * ``virtual_monotonic``: calls are instant and ``monotonic`` counts only the seconds slept
      (the detection-latency scenario).
    """

    def __init__(
        self, control: Any, *, virtual_monotonic: bool = False, realtime: bool = False
    ) -> None:
        self.control = control
        self.virtual_monotonic = virtual_monotonic
        self.realtime = False
        self._realtime_wanted = realtime
        self.t = 0.0
        self.slept = 0.0
        self._anchor = time.monotonic()
        self.round_starts: list[float] = []

    def start_realtime(self) -> None:
        """From now on the simulator's clock runs at wall speed (``realtime`` runs only)."""
        if self._realtime_wanted:
            self.control.set_speed(1)
            self._anchor = time.monotonic()
            self.realtime = True

    def stop_realtime(self) -> None:
        if self.realtime:
            self.t = float(self.control.set_speed(0)["now"])
            self._anchor = time.monotonic()
            self.realtime = False

    def set(self, t: float) -> None:
        self.control.set_time(t)
        self.t = t
        self._anchor = time.monotonic()

    def now(self) -> datetime:
        running = time.monotonic() - self._anchor if self.realtime else 0.0
        return START_TIME + timedelta(seconds=self.t + running)

    def monotonic(self) -> float:
        return self.slept + (0.0 if self.virtual_monotonic else time.monotonic())

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.control.advance(seconds)
            self.t += seconds
            self.slept += seconds
        self.round_starts.append(self.monotonic())


def following_context(timeout: float, monotonic: Callable[[], float]) -> Any:
    """A ``LocalContext`` whose remaining time follows ``monotonic`` (real or virtual)."""
    from lfv_monitor.lambda_context import LocalContext

    @dataclass
    class FollowingContext(LocalContext):
        clock: Callable[[], float] = time.monotonic

        def __post_init__(self) -> None:
            self._started = self.clock()

        def get_remaining_time_in_millis(self) -> int:
            return int((self.timeout_seconds - (self.clock() - self._started)) * 1000)

    return FollowingContext(timeout_seconds=timeout, clock=monotonic)


def cloudtrail_event(project: str, job: str) -> dict[str, Any]:
    """CloudTrail's ``StartModelPackagingJob`` record as EventBridge delivers it."""
    return {
        "version": "0",
        "id": f"bench-{project}-{job}",
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.lookoutvision",
        "account": "123456789012",
        "region": "us-east-1",
        "resources": [],
        "detail": {
            "eventSource": "lookoutvision.amazonaws.com",
            "eventName": "StartModelPackagingJob",
            "requestParameters": {"projectName": project, "modelVersion": "1"},
            "responseElements": {"jobName": job},
        },
    }


class Stack:
    """The table, bus and topic on moto server (what template.yaml creates)."""

    def __init__(self, moto_url: str) -> None:
        from tests.support.table import create_monitor_table

        kwargs: dict[str, Any] = {
            "endpoint_url": moto_url,
            "region_name": "us-east-1",
            "aws_access_key_id": "bench",
            "aws_secret_access_key": "bench",
        }
        self.ddb = boto3.client("dynamodb", **kwargs)
        self.table = create_monitor_table(self.ddb, TABLE)
        self.bus = BUS
        boto3.client("events", **kwargs).create_event_bus(Name=BUS)
        self.topic_arn: str = boto3.client("sns", **kwargs).create_topic(Name=TOPIC)["TopicArn"]


def _control(url: str) -> Any:
    from lfv_workbench.simulator import SimulatorControl

    return SimulatorControl(url, timeout=300)


def run_cycle(
    monitor: Any,
    timeout: float,
    *,
    monotonic: Callable[[], float] = time.monotonic,
    event: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One invocation, as the Lambda runs it: the schedule's event unless ``event`` is given."""
    from lfv_monitor.handlers.poll import lambda_handler
    from lfv_monitor.lambda_context import scheduled_event

    result: dict[str, Any] = lambda_handler(
        event or scheduled_event(), following_context(timeout, monotonic), service=monitor
    )
    return result


def _stored(
    reader: Any, fleet: Fleet
) -> tuple[dict[tuple[str, str], Stored], set[tuple[str, str]]]:
    from lfv_monitor.domain.models import JobKey

    keys = [JobKey(p, j) for p, j in fleet.jobs]
    snapshot: dict[tuple[str, str], Stored] = {}
    for key, job in reader.get_jobs(keys).items():
        last = job.last_updated.timestamp() if isinstance(job.last_updated, datetime) else None
        snapshot[(key.project, key.job)] = Stored(
            job.status, job.status_message, last, bool(job.removed)
        )
    active = {(job.key.project, job.key.job) for job in reader.active_jobs()}
    return snapshot, active


def seed_baseline(
    fleet: Fleet, endpoints: Endpoints, stack: Stack, control: Any, progress: Progress
) -> dict[str, Any]:
    """The first (baseline) cycle, run fast: no quota or latency at the simulator, the client
    at its highest rate, and no deadline.  It records every job silently, as a fresh stack does."""
    from lfv_monitor.bootstrap import build_monitor

    control.set_faults(faults(latency_ms=0, quota=None))
    with patched_environ(lambda_env(endpoints, stack, rate=SEED_RATE)):
        monitor = build_monitor()
    started = time.perf_counter()
    summary = run_cycle(monitor, timeout=24 * 3600)
    seconds = time.perf_counter() - started
    if not summary.get("baseline") or summary.get("deadlineReached"):
        raise RuntimeError(f"the baseline cycle did not complete: {summary}")
    progress(f"  baseline: {summary['changesRecorded']} jobs recorded in {seconds:.1f} s")
    return {"seconds": round(seconds, 2), "recorded": summary["changesRecorded"]}


@dataclass
class _Calls:
    """What a group of invocations sent (simulator-side LFV counts, the meter's AWS counts)."""

    invocations: int = 0
    seconds: list[float] = field(default_factory=list)
    lfv: Counter[str] = field(default_factory=Counter)
    aws: Counter[str] = field(default_factory=Counter)
    read_units: float = 0.0
    write_units: float = 0.0
    events: int = 0
    sns: int = 0
    changes: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "invocations": self.invocations,
            "max_seconds": round(max(self.seconds, default=0.0), 3),
            "total_seconds": round(sum(self.seconds), 3),
            "lfv_calls": dict(self.lfv),
            "aws_calls": dict(sorted(self.aws.items())),
            "read_units": round(self.read_units, 1),
            "write_units": round(self.write_units, 1),
            "events": self.events,
            "sns_messages": self.sns,
            "changes": self.changes,
        }


def cloudtrail_checks(
    fleet: Fleet,
    start: float,
    end: float,
    *,
    monitor: Any,
    meter: Meter,
    control: Any,
    clock: BenchTime,
    timeout: float,
) -> _Calls:
    """The invocations CloudTrail's ``StartModelPackagingJob`` events cause for the jobs started
    in ``(start, end]``, each ``CLOUDTRAIL_DELAY`` after its start (before the tick ``end``)."""
    calls = _Calls()
    for at, project, job in started_between(fleet, start, end):
        clock.set(min(at + CLOUDTRAIL_DELAY, end))
        control.reset_counters()
        meter.reset()
        started = time.perf_counter()
        summary = run_cycle(monitor, timeout, event=cloudtrail_event(project, job))
        calls.seconds.append(time.perf_counter() - started)
        seen = meter.reset()
        calls.invocations += 1
        calls.lfv.update(control.state()["calls"])
        calls.aws.update(seen.aws_calls)
        calls.read_units += seen.read_units
        calls.write_units += seen.write_units
        calls.events += sum(seen.put_events_entries)
        calls.sns += sum(seen.sns_batch_entries)
        calls.changes += int(summary.get("changesRecorded", 0))
    return calls


def run_fleet(
    spec: FleetSpec,
    endpoints: Endpoints,
    *,
    deployment: Deployment | None = None,
    latency_ms: float = LATENCY_MS,
    quota: float | None = SERVICE_QUOTA,
    watch: bool = False,
    rss_probe: bool = False,
    only_rss: bool = False,
    progress: Progress = lambda _: None,
) -> dict[str, Any]:
    """Baseline, then ``spec.cycles`` plain cycles one period apart (one row each; with
    CloudTrail discovery, each job's start first reaches the function as CloudTrail's event),
    then with ``watch`` one invocation with the sub-minute watch on (its waits follow the
    simulator's clock; its calls take real time)."""
    from lfv_monitor.adapters.dynamodb import DynamoDBSnapshotStore
    from lfv_monitor.bootstrap import build_monitor

    deployment = deployment or Deployment()
    fleet = build_fleet(spec)
    control = _control(endpoints.simulator)
    control.load_scenario(fleet.scenario(latency_ms=latency_ms, quota=quota))
    control.set_speed(0)
    stack = Stack(endpoints.moto)
    baseline = seed_baseline(fleet, endpoints, stack, control, progress)
    control.set_faults(faults(latency_ms=latency_ms, quota=quota))

    clock = BenchTime(control)
    # P1-P3 measure one plain cycle per period: the watch is off in these.
    env = lambda_env(endpoints, stack, rate=deployment.rate, extra=deployment.env(watch=False))
    with patched_environ(env):
        monitor = build_monitor(clock=clock.now)
    meter = Meter().attach(monitor)
    reader = DynamoDBSnapshotStore(stack.table, client=stack.ddb)
    budget = deployment.budget(spec.period)

    rows = []
    listed_union: set[str] = set()
    gaps = Gaps()
    previous = 0.0
    for cycle in range(1, 0 if only_rss else spec.cycles + 1):
        t = spec.cycle_time(cycle)
        trail = _Calls()
        if deployment.cloudtrail:
            trail = cloudtrail_checks(
                fleet,
                previous,
                t,
                monitor=monitor,
                meter=meter,
                control=control,
                clock=clock,
                timeout=deployment.timeout,
            )
        previous = t
        row, seen = _scheduled_cycle(
            spec,
            fleet,
            cycle=cycle,
            monitor=monitor,
            meter=meter,
            control=control,
            clock=clock,
            reader=reader,
            deployment=deployment,
            budget=budget,
            gaps=gaps,
        )
        listed_union.update(seen.listed_projects)
        row["cloudtrail"] = trail.as_dict()
        rows.append(row)
        progress(_cycle_line(cycle, row, trail))

    result: dict[str, Any] = {
        "fleet": spec.name,
        "projects": spec.projects,
        "jobs": spec.jobs,
        "in_progress": spec.active,
        "period_s": spec.period,
        "deployment": deployment.as_dict(),
        "label": deployment.label,
        "timeout_s": deployment.timeout,
        "client_rate_per_s": deployment.rate,
        "service_quota_per_s": quota,
        "latency_ms": latency_ms,
        "baseline": baseline,
        "cycles": rows,
        "summary": summarize(spec, rows, deployment, len(listed_union)) if rows else None,
    }
    if rss_probe:
        control.set_faults(faults(latency_ms=0, quota=None))
        clock.set(spec.cycle_time(spec.cycles) + spec.period / 6)
        probe_env = lambda_env(endpoints, stack, rate=SEED_RATE, extra=deployment.env(watch=False))
        result["p5"] = measure_rss(probe_env, timeout=900.0)
        control.set_faults(faults(latency_ms=latency_ms, quota=quota))
        progress(f"  P5 peak RSS: {result['p5']['peak_rss_mb']} MB")
    if watch and not only_rss:
        result["watch"] = watch_invocation(
            spec,
            fleet,
            endpoints=endpoints,
            stack=stack,
            control=control,
            deployment=deployment,
            previous=previous,
        )
        w = result["watch"]
        progress(
            f"  watch: {w['seconds']:.1f} s, {w['rounds']} rounds at {w['round_starts_s']}, "
            f"LFV {w['lfv_calls']}, changes {w['changes']}, deadline {w['deadline_reached']}"
        )
    if rows:
        last = spec.cycle_time(spec.watch_cycle if watch else spec.cycles)
        catch_up = catch_up_cycles(
            monitor,
            clock,
            start=last,
            period=spec.period,
            deployment=deployment,
            projects=spec.projects,
        )
        end = last + catch_up * spec.period
        result["p6"] = fairness(
            spec, fleet, reader, gaps, deployment, end=end, catch_up=catch_up, rows=rows
        )
        progress(f"  P6 fairness: {result['p6']}")
    return result


def _cycle_line(cycle: int, row: dict[str, Any], trail: _Calls) -> str:
    sim_calls, seconds = row["p1"]["simulator_calls"], row["seconds"]
    return (
        f"  cycle {cycle} ({row['kind']}): {seconds:.1f} s, LFV {dict(sim_calls)}, "
        f"P1 {row['p1']['ratio']}, P3 {row['p3']['ratio']}, changes {row['changes']}, "
        f"CloudTrail checks {trail.invocations}"
    )


def _scheduled_cycle(
    spec: FleetSpec,
    fleet: Fleet,
    *,
    cycle: int,
    monitor: Any,
    meter: Meter,
    control: Any,
    clock: BenchTime,
    reader: Any,
    deployment: Deployment,
    budget: int,
    gaps: Gaps,
) -> tuple[dict[str, Any], Any]:
    """One scheduled cycle at its tick, measured against the oracle: its row, and what the
    meter saw."""
    t = spec.cycle_time(cycle)
    clock.set(t)
    stored, stored_active = _stored(reader, fleet)
    control.reset_counters()
    meter.reset()
    started = time.perf_counter()
    summary = run_cycle(monitor, deployment.timeout)
    seconds = time.perf_counter() - started
    sim_calls = Counter(control.state()["calls"])
    seen = meter.reset()
    expected = expected_listing(fleet, t, deployment, budget, stored_active)
    gaps.cycle(fleet.projects, stored_active, seen.listed_projects, seen.described)
    minimum = minimum_calls(
        fleet,
        t,
        listed_projects=expected,
        listed_all_projects=True,
        stored=stored,
        stored_active=stored_active,
    )
    row = cycle_row(
        spec,
        cycle=cycle,
        t=t,
        summary=summary,
        seconds=seconds,
        sim_calls=sim_calls,
        seen=seen,
        minimum=minimum,
        expected_slice=expected,
        stored_active=stored_active,
        rate=deployment.rate,
    )
    return row, seen


def expected_listing(
    fleet: Fleet,
    t: float,
    deployment: Deployment,
    budget: int,
    stored_active: set[tuple[str, str]],
) -> list[str]:
    """List-first: this period's slice, and every project holding a job in progress."""
    period_slice = scan_slice(
        fleet.projects,
        now=epoch(t),
        period=fleet.spec.period,
        list_budget=budget,
        full_scan_periods=deployment.full_scan_periods,
    )
    return sorted(set(period_slice) | {project for project, _ in stored_active})


def watch_invocation(
    spec: FleetSpec,
    fleet: Fleet,
    *,
    endpoints: Endpoints,
    stack: Stack,
    control: Any,
    deployment: Deployment,
    previous: float,
) -> dict[str, Any]:
    """One scheduled invocation with the sub-minute watch on (``ACTIVE_POLL_INTERVAL``), while
    the watch jobs run: the scan, then rounds every interval until the margin before the
    deadline.  The simulator's clock runs with the wall clock, so calls take their real time
    in virtual time too; the waits advance it at once instead of sleeping."""
    from lfv_monitor.bootstrap import build_monitor

    clock = BenchTime(control, realtime=True)
    env = lambda_env(endpoints, stack, rate=deployment.rate, extra=deployment.env(watch=True))
    with patched_environ(env):
        monitor = build_monitor(clock=clock.now, monotonic=clock.monotonic, sleep=clock.sleep)
    meter = Meter().attach(monitor)
    t = spec.cycle_time(spec.watch_cycle)
    trail = _Calls()
    if deployment.cloudtrail:
        trail = cloudtrail_checks(
            fleet,
            previous,
            t,
            monitor=monitor,
            meter=meter,
            control=control,
            clock=clock,
            timeout=deployment.timeout,
        )
    clock.set(t)
    control.reset_counters()
    meter.reset()
    clock.round_starts.clear()
    clock.start_realtime()
    start = clock.monotonic()
    summary = run_cycle(monitor, deployment.timeout, monotonic=clock.monotonic)
    elapsed = clock.monotonic() - start
    clock.stop_realtime()
    seen = meter.reset()
    ddb = {k.split(":", 1)[1]: v for k, v in seen.aws_calls.items() if k.startswith("dynamodb:")}
    rounds = [round(r - start, 1) for r in clock.round_starts]
    return {
        "t": t,
        "seconds": round(elapsed, 2),
        "timeout_s": deployment.timeout,
        "deadline_reached": bool(summary.get("deadlineReached")),
        "over_timeout": elapsed > deployment.timeout,
        "rounds": int(summary.get("watchRounds", 0)),
        "round_starts_s": rounds,
        "lfv_calls": dict(control.state()["calls"]),
        "dynamodb_calls": dict(sorted(ddb.items())),
        "read_units": round(seen.read_units, 1),
        "write_units": round(seen.write_units, 1),
        "events": sum(seen.put_events_entries),
        "sns_messages": sum(seen.sns_batch_entries),
        "changes": int(summary.get("changesRecorded", 0)),
        "jobs_described": int(summary.get("jobsDescribed", 0)),
        "cloudtrail": trail.as_dict(),
    }


def cycle_row(
    spec: FleetSpec,
    *,
    cycle: int,
    t: float,
    summary: Mapping[str, Any],
    seconds: float,
    sim_calls: Counter[str],
    seen: Any,
    minimum: Any,
    expected_slice: list[str],
    stored_active: set[tuple[str, str]],
    rate: float,
) -> dict[str, Any]:
    ddb = {k.split(":", 1)[1]: v for k, v in seen.aws_calls.items() if k.startswith("dynamodb:")}
    events = seen.aws_calls.get("events:PutEvents", 0)
    sns = seen.aws_calls.get("sns:PublishBatch", 0) + seen.aws_calls.get("sns:Publish", 0)
    changes = int(summary.get("changesRecorded", 0))
    announced = int(summary.get("announced", 0))
    tracked = int(summary.get("jobsSeen", 0))
    writes = sum(v for k, v in ddb.items() if k in WRITES)
    actual = {op: sim_calls.get(op, 0) for op in LFV_OPERATIONS}
    ratios = {
        op: (round(actual[op] / minimum.calls[op], 3) if minimum.calls[op] else None)
        for op in LFV_OPERATIONS
    }
    total_min = sum(minimum.calls.values())
    bound = max((n / rate for n in sim_calls.values()), default=0.0)
    kind = spec.kind(cycle)
    described = set(seen.described)
    checks = {
        "batch_get_within_bound": ddb.get("BatchGetItem", 0) <= math.ceil(tracked / 100),
        "one_transaction_per_change": ddb.get("TransactWriteItems", 0) == changes,
        "put_events_batched_by_10": events == math.ceil(announced / 10)
        and all(n <= 10 for n in seen.put_events_entries),
        "sns_batched_by_10": sns == math.ceil(announced / 10)
        and all(n <= 10 for n in seen.sns_batch_entries),
    }
    checks["changes_as_expected"] = changes == minimum.changes
    if minimum.changes == 0:
        # Nothing to record (an idle or quiet cycle, unless a slice brings a job that started
        # unseen): nothing written, nothing published.
        checks["idle_no_writes_no_publishes"] = writes == 0 and events == 0 and sns == 0
    return {
        "cycle": cycle,
        "t": t,
        "kind": kind,
        "seconds": round(seconds, 3),
        "deadline_reached": bool(summary.get("deadlineReached")),
        "listing_complete": bool(summary.get("listingComplete")),
        "jobs_seen": tracked,
        "jobs_described": int(summary.get("jobsDescribed", 0)),
        "changes": changes,
        "expected_changes": minimum.changes,
        "announced": announced,
        "throttles": int(summary.get("throttles", 0)),
        "projects_listed": len(seen.listed_projects),
        "listed_the_expected_slice": set(seen.listed_projects) == set(expected_slice)
        and all(n == 1 for n in seen.listed_projects.values()),
        "stored_in_progress": len(stored_active),
        "in_progress_all_checked": all(
            key in described or key[0] in seen.listed_projects for key in stored_active
        ),
        "p1": {
            "simulator_calls": dict(sim_calls),
            "client_attempts": dict(seen.lfv_attempts),
            "minimum": dict(minimum.calls),
            "by_operation": ratios,
            "ratio": round(sum(actual.values()) / total_min, 3) if total_min else None,
        },
        "p2": {
            "dynamodb_calls": dict(sorted(ddb.items())),
            "read_units": round(seen.read_units, 1),
            "write_units": round(seen.write_units, 1),
            "put_events_calls": events,
            "put_events_entries": list(seen.put_events_entries),
            "sns_calls": sns,
            "sns_entries": list(seen.sns_batch_entries),
            "checks": checks,
        },
        "p3": {
            "rate_bound_s": round(bound, 3),
            "ratio": round(seconds / bound, 3) if bound else None,
        },
    }


def summarize(
    spec: FleetSpec, rows: list[dict[str, Any]], deployment: Deployment, listed_union: int
) -> dict[str, Any]:
    """Per-fleet figures: worst P1/P3, P2 checks, in-progress checks, discovery delay."""
    p1 = [r["p1"]["ratio"] for r in rows if r["p1"]["ratio"] is not None]
    p3 = [r["p3"]["ratio"] for r in rows if r["p3"]["ratio"] is not None]
    names = {k for r in rows for k in r["p2"]["checks"]}
    checks = {k: all(r["p2"]["checks"].get(k, True) for r in rows) for k in sorted(names)}
    per_cycle, periods = slices(
        spec.projects,
        list_budget=deployment.budget(spec.period),
        full_scan_periods=deployment.full_scan_periods,
    )
    cycle_s = max(r["seconds"] for r in rows)
    every_period = all(r["in_progress_all_checked"] for r in rows)
    return {
        "p1_worst": max(p1, default=None),
        "p1_best": min(p1, default=None),
        "p2_checks": checks,
        "p3_worst": max(p3, default=None),
        "p3_median": sorted(p3)[len(p3) // 2] if p3 else None,
        "mean_cycle_s": round(sum(r["seconds"] for r in rows) / len(rows), 3),
        "slices_as_expected": all(r["listed_the_expected_slice"] for r in rows),
        "projects_per_cycle": per_cycle,
        "full_scan_pages": spec.projects,
        "full_scan_periods": periods,
        "in_progress_checked_every_period": every_period,
        "in_progress_checked_every_s": spec.period if every_period else None,
        # A job started just after its project's slice was listed waits for that slice's next
        # turn: ``periods`` periods, plus at most one cycle's listing time.
        "discovery_worst_s_without_cloudtrail": round(periods * spec.period + cycle_s, 1),
        "projects_listed_over_all_cycles": listed_union,
        "deadline_reached_cycles": sum(1 for r in rows if r["deadline_reached"]),
        "timeout_s": deployment.timeout,
        "cloudtrail_check_max_s": max(
            (r["cloudtrail"]["max_seconds"] for r in rows if r["cloudtrail"]["invocations"]),
            default=None,
        ),
        "cloudtrail_invocations": sum(r["cloudtrail"]["invocations"] for r in rows),
    }


def catch_up_cycles(
    monitor: Any,
    clock: BenchTime,
    *,
    start: float,
    period: float,
    deployment: Deployment,
    projects: int,
) -> int:
    """After the measured cycles, plain cycles one period apart until one leaves nothing for
    the next (at most 10): what an overloaded fleet owed is then recorded, or counted missed.
    Without CloudTrail a new job is found only when its project's slice comes round, so then
    at least a full scan's periods run first (the jobs the last cycles started are due)."""
    _, periods = slices(
        projects,
        list_budget=deployment.budget(period),
        full_scan_periods=deployment.full_scan_periods,
    )
    least = 1 if deployment.cloudtrail else periods
    for n in range(1, max(11, least + 1)):
        clock.set(start + n * period)
        summary = run_cycle(monitor, deployment.timeout)
        if n >= least and not summary.get("backlog"):
            return n
    return max(10, least)


@dataclass
class Gaps:
    """Runs of consecutive cycles in which a job the store held in progress was neither listed
    with its project nor described, and in which a project was not listed."""

    job_run: dict[tuple[str, str], int] = field(default_factory=dict)
    project_run: dict[str, int] = field(default_factory=dict)
    longest_job: int = 0
    longest_project: int = 0
    cycles: int = 0

    def cycle(
        self,
        projects: list[str],
        stored_active: set[tuple[str, str]],
        listed: Mapping[str, int],
        described: Iterable[tuple[str, str]],
    ) -> None:
        self.cycles += 1
        checked = set(described)
        for key in stored_active:
            if key[0] in listed or key in checked:
                self.job_run[key] = 0
            else:
                self.job_run[key] = self.job_run.get(key, 0) + 1
                self.longest_job = max(self.longest_job, self.job_run[key])
        for project in projects:
            self.project_run[project] = (
                0 if project in listed else (self.project_run.get(project, 0) + 1)
            )
            self.longest_project = max(self.longest_project, self.project_run[project])


def fairness(
    spec: FleetSpec,
    fleet: Fleet,
    reader: Any,
    gaps: Gaps,
    deployment: Deployment,
    *,
    end: float,
    catch_up: int,
    rows: list[dict[str, Any]],
) -> dict[str, Any]:
    """P6 (issue 13): the longest run of periods any job in progress or project went
    unchecked, against the bounds; terminal states missed (not recorded by ``end``, after the
    catch-up cycles); new jobs announced late (later than the job bound, or without CloudTrail
    the project bound) or never."""
    from lfv_monitor.domain.models import JobKey

    per_cycle, periods = slices(
        spec.projects,
        list_budget=deployment.budget(spec.period),
        full_scan_periods=deployment.full_scan_periods,
    )
    usable = deployment.timeout - deployment.margin
    describes = max(r["p1"]["minimum"].get("DescribeModelPackagingJob", 0) for r in rows)
    bound = in_progress_bound(
        spec, rate=deployment.rate, usable_s=usable, slice_size=per_cycle, describes=describes
    )
    projects_bound = project_bound(periods)
    keys = [JobKey(p, j) for p, j in fleet.jobs]
    stored = reader.get_jobs(keys)
    missed = 0
    for key in keys:
        state = fleet.jobs[(key.project, key.job)].state(end)
        if state is not None and state.status in {"SUCCEEDED", "FAILED"}:
            job = stored.get(key)
            missed += job is None or job.status != state.status
    # A new job is due within the job bound with CloudTrail (at once, in fact), else when its
    # project's slice comes round. Periods are counted as the gaps are, in cycles: from the
    # first cycle after the job started to the cycle that recorded it, both included.
    due = bound if deployment.cloudtrail else max(bound, projects_bound)
    late = never = latest = 0
    for at, project, name in started_between(fleet, 0, end):
        history = reader.history(JobKey(project, name))
        if not history:
            never += 1
            continue
        observed = (history[0].observed_at - START_TIME).total_seconds()
        within = math.floor(observed / spec.period) - math.ceil(at / spec.period) + 1
        latest = max(latest, within)
        late += within > due
    return {
        "longest_job_gap_periods": gaps.longest_job + 1,
        "job_gap_bound_periods": bound,
        "job_gap_issue_bound_periods": issue_bound(spec, rate=deployment.rate, usable_s=usable),
        "most_describes_due_in_a_cycle": describes,
        "longest_project_gap_periods": gaps.longest_project + 1,
        "project_gap_bound_periods": projects_bound,
        "catch_up_cycles": catch_up,
        "cycles_observed": gaps.cycles,
        "terminal_states_missed": missed,
        "new_jobs_announced_late": late,
        "new_jobs_never_recorded": never,
        "new_jobs_latest_periods": latest,
    }


def measure_rss(env: Mapping[str, str], *, timeout: float) -> dict[str, Any]:
    """P5: one cycle in a fresh process (the Lambda's cold container); its peak RSS."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "rss.json"
        subprocess.run(
            [sys.executable, "-m", "benchmarks.rss_probe", "--timeout", str(timeout), str(out)],
            env={**os.environ, **env},
            check=True,
            stdout=subprocess.DEVNULL,
        )
        data: dict[str, Any] = json.loads(out.read_text())
    return data
