"""Runs the real cycle on a generated fleet and measures P1, P2, P3 (and P5 in a subprocess).

Everything goes through the public API: ``build_monitor`` from the environment a Lambda would
have, cycles through ``lambda_handler(scheduled_event(), LocalContext(...), service=monitor)``,
the simulator's control API for time, faults and call counts, and the store's public reads for
what it held before each cycle.
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
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3

from benchmarks.fleet import Fleet, FleetSpec, Stored, build_fleet, faults, minimum_calls
from benchmarks.meter import Meter

BUS = "lfv-bench-bus"
TOPIC = "lfv-bench-topic"
TABLE = "lfv-bench"
#: The client-side rate and the service quota of the issue (requests per second per operation).
CLIENT_RATE = 4.0
SERVICE_QUOTA = 5.0
LATENCY_MS = 50.0
#: One Lambda invocation per minute; the function's timeout (the cycle stops starting work
#: DEADLINE_MARGIN_SECONDS before it).
DEFAULT_TIMEOUT = 60.0
#: Settings for seeding the baseline fast: the highest client rate the configuration accepts
#: and no service quota or latency.
SEED_RATE = 100.0
WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})
LFV_OPERATIONS = ("ListProjects", "ListModelPackagingJobs", "DescribeModelPackagingJob")

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Endpoints:
    simulator: str
    moto: str


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


@contextmanager
def environment(values: Mapping[str, str]) -> Iterator[None]:
    """Set ``values`` in ``os.environ`` (boto3 reads endpoints from it); restore afterwards."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


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
    from lfv_monitor.simulator import SimulatorControl

    return SimulatorControl(url, timeout=300)


def run_cycle(monitor: Any, timeout: float) -> dict[str, Any]:
    """One scheduled invocation, as the Lambda runs it."""
    from lfv_monitor.handlers.poll import lambda_handler
    from lfv_monitor.lambda_context import LocalContext, scheduled_event

    result: dict[str, Any] = lambda_handler(
        scheduled_event(), LocalContext(timeout_seconds=timeout), service=monitor
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
    with environment(lambda_env(endpoints, stack, rate=SEED_RATE)):
        monitor = build_monitor()
    started = time.perf_counter()
    summary = run_cycle(monitor, timeout=24 * 3600)
    seconds = time.perf_counter() - started
    if not summary.get("baseline") or summary.get("deadlineReached"):
        raise RuntimeError(f"the baseline cycle did not complete: {summary}")
    progress(f"  baseline: {summary['changesRecorded']} jobs recorded in {seconds:.1f} s")
    return {"seconds": round(seconds, 2), "recorded": summary["changesRecorded"]}


def run_fleet(
    spec: FleetSpec,
    endpoints: Endpoints,
    *,
    rate: float = CLIENT_RATE,
    latency_ms: float = LATENCY_MS,
    quota: float | None = SERVICE_QUOTA,
    timeout: float = DEFAULT_TIMEOUT,
    extra_env: Mapping[str, str] | None = None,
    rss_probe: bool = False,
    only_rss: bool = False,
    progress: Progress = lambda _: None,
) -> dict[str, Any]:
    """Baseline, then ``spec.cycles`` steady cycles one period apart; one row per cycle."""
    from lfv_monitor.adapters.dynamodb import DynamoDBSnapshotStore
    from lfv_monitor.bootstrap import build_monitor

    fleet = build_fleet(spec)
    control = _control(endpoints.simulator)
    control.load_scenario(fleet.scenario(latency_ms=latency_ms, quota=quota))
    control.set_speed(0)
    stack = Stack(endpoints.moto)
    baseline = seed_baseline(fleet, endpoints, stack, control, progress)
    control.set_faults(faults(latency_ms=latency_ms, quota=quota))

    # Watching (sub-minute detection) is off here: P1-P3 measure one plain cycle per period.
    env = lambda_env(
        endpoints, stack, rate=rate, extra={"ACTIVE_POLL_INTERVAL": "0", **(extra_env or {})}
    )
    with environment(env):
        monitor = build_monitor()
    meter = Meter().attach(monitor)
    reader = DynamoDBSnapshotStore(stack.table, client=stack.ddb)

    rows = []
    listed_union: set[str] = set()
    for cycle in range(1, 0 if only_rss else spec.cycles + 1):
        t = spec.cycle_time(cycle)
        control.set_time(t)
        stored, stored_active = _stored(reader, fleet)
        control.reset_counters()
        meter.reset()
        started = time.perf_counter()
        summary = run_cycle(monitor, timeout)
        seconds = time.perf_counter() - started
        sim_calls = Counter(control.state()["calls"])
        seen = meter.reset()
        listed_union.update(seen.listed_projects)
        minimum = minimum_calls(
            fleet,
            t,
            listed_projects=seen.listed_projects,
            listed_all_projects=seen.lfv_attempts["ListProjects"] > 0,
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
            stored_active=stored_active,
            rate=rate,
        )
        rows.append(row)
        progress(
            f"  cycle {cycle} ({row['kind']}): {seconds:.1f} s, LFV {dict(sim_calls)}, "
            f"P1 {row['p1']['ratio']}, P3 {row['p3']['ratio']}, changes {row['changes']}"
        )

    result: dict[str, Any] = {
        "fleet": spec.name,
        "projects": spec.projects,
        "jobs": spec.jobs,
        "in_progress": spec.active,
        "period_s": spec.period,
        "timeout_s": timeout,
        "client_rate_per_s": rate,
        "service_quota_per_s": quota,
        "latency_ms": latency_ms,
        "baseline": baseline,
        "cycles": rows,
        "summary": summarize(spec, rows, timeout, len(listed_union)) if rows else None,
    }
    if rss_probe:
        control.set_faults(faults(latency_ms=0, quota=None))
        control.set_time(spec.cycle_time(spec.cycles + 1))
        probe_env = lambda_env(endpoints, stack, rate=SEED_RATE, extra=extra_env)
        result["p5"] = measure_rss(probe_env, timeout=max(timeout, 900.0))
        progress(f"  P5 peak RSS: {result['p5']['peak_rss_mb']} MB")
    return result


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
    idle = cycle > spec.busy_cycles
    checks = {
        "batch_get_within_bound": ddb.get("BatchGetItem", 0) <= math.ceil(tracked / 100),
        "one_transaction_per_change": ddb.get("TransactWriteItems", 0) == changes,
        "put_events_batched_by_10": events == math.ceil(announced / 10)
        and all(n <= 10 for n in seen.put_events_entries),
        "sns_batched_by_10": sns == math.ceil(announced / 10)
        and all(n <= 10 for n in seen.sns_batch_entries),
    }
    if idle:
        checks["idle_no_writes_no_publishes"] = writes == 0 and events == 0 and sns == 0
    return {
        "cycle": cycle,
        "t": t,
        "kind": "idle" if idle else "busy",
        "seconds": round(seconds, 3),
        "deadline_reached": bool(summary.get("deadlineReached")),
        "listing_complete": bool(summary.get("listingComplete")),
        "jobs_seen": tracked,
        "jobs_described": int(summary.get("jobsDescribed", 0)),
        "changes": changes,
        "announced": announced,
        "throttles": int(summary.get("throttles", 0)),
        "projects_listed": len(seen.listed_projects),
        "stored_in_progress": len(stored_active),
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
    spec: FleetSpec, rows: list[dict[str, Any]], timeout: float, listed_union: int
) -> dict[str, Any]:
    """Per-fleet figures: worst P1/P3, P2 checks, in-progress check interval, discovery delay."""
    p1 = [r["p1"]["ratio"] for r in rows if r["p1"]["ratio"] is not None]
    p3 = [r["p3"]["ratio"] for r in rows if r["p3"]["ratio"] is not None]
    checks = {k: all(r["p2"]["checks"].get(k, True) for r in rows) for k in rows[0]["p2"]["checks"]}
    checks["idle_no_writes_no_publishes"] = all(
        r["p2"]["checks"].get("idle_no_writes_no_publishes", True) for r in rows
    )
    list_pages = [r["p1"]["simulator_calls"].get("ListModelPackagingJobs", 0) for r in rows]
    budget = min(list_pages) if list_pages else 0
    full_scan = spec.projects  # one page per project (at most 100 jobs each)
    # In-progress jobs: checked every period when every job the store held as in progress was
    # described in every cycle; otherwise the share that was.
    active_checked = [
        min(1.0, r["jobs_described"] / r["stored_in_progress"]) if r["stored_in_progress"] else 1.0
        for r in rows
    ]
    worst_share = min(active_checked)
    period = spec.period
    check_every = period if worst_share >= 1.0 else (period / worst_share if worst_share else None)
    cycle_s = max(r["seconds"] for r in rows)
    if budget >= full_scan:
        periods = 1
    elif budget:
        periods = math.ceil(full_scan / budget)
    else:
        periods = None
    if budget < full_scan and listed_union <= budget:
        periods = None  # later cycles list the same projects again: the scan never rotates
    return {
        "p1_worst": max(p1, default=None),
        "p1_best": min(p1, default=None),
        "p2_checks": checks,
        "p3_worst": max(p3, default=None),
        "p3_median": sorted(p3)[len(p3) // 2] if p3 else None,
        "mean_cycle_s": round(sum(r["seconds"] for r in rows) / len(rows), 3),
        "list_pages_per_cycle": budget,
        "full_scan_pages": full_scan,
        "full_scan_periods": periods,
        "in_progress_checked_every_s": check_every,
        "discovery_worst_s_without_cloudtrail": (
            round(periods * period + cycle_s, 1) if periods is not None else None
        ),
        "projects_listed_over_all_cycles": listed_union,
        "deadline_reached_cycles": sum(1 for r in rows if r["deadline_reached"]),
        "timeout_s": timeout,
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
