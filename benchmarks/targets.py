"""The multi-target fleet (issue 15): 20 accounts and regions polled in parallel, one period at a
time, as Lambda runs them (one invocation per target from the FIFO queue, concurrently).

``python -m benchmarks.targets [--targets 20]`` (``make bench`` runs it after the fleets).

Each target is its own simulated account and region (the simulator's ``accounts``, reached with
the access key = the account id and the credential scope's region) with its own fleet of 4 to 20
projects of 5 jobs (1% in progress, at least 3; the fleet benchmark's busy, idle, drain and quiet
cycles), its own table, and the deployed client settings (4 requests/s per operation, 50 ms per
call, the service's 5/s quota per operation *per account and region*). Every project is listed
every period (``FULL_SCAN_PERIODS=1``, no CloudTrail), so the minimum is the fleet benchmark's
rule on the whole fleet.

Per period it measures each target's invocation (wall seconds, Lookout for Vision calls counted
by the simulator for that target's world) and the period's wall time with all targets polled at
once by a pool of threads (the calls wait on the network and the rate limiter, so threads stand
for concurrent invocations here). It reports the period's wall time against the slowest target
and against the sum, and each target's calls against the single-account minimum.

Not measured: the dispatcher (one short invocation per period, whatever the targets) and STS
(one AssumeRole per target per credential lifetime, an hour by default: free, and not per
period); both are in the per-target cost of docs/cost.md.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from benchmarks import cost
from benchmarks.fleet import START_TIME, Fleet, FleetSpec, build_fleet, faults, minimum_calls
from benchmarks.harness import (
    BASE_ENV,
    CLIENT_RATE,
    LATENCY_MS,
    LFV_OPERATIONS,
    SERVICE_QUOTA,
    Endpoints,
    _stored,
    run_cycle,
)

TARGETS = 20
REGIONS = ("eu-west-1", "us-east-1")
JOBS_PER_PROJECT = 5
SEED_RATE = 100.0
#: What a 60 s Lambda invocation per target may take (the template's Timeout).
TIMEOUT_S = 58.0


def target_account(index: int) -> str:
    return f"{100000000000 + index + 1:012d}"


@dataclass
class Target:
    """One account and region: its fleet, its table and its warm monitor."""

    account: str
    region: str
    fleet: Fleet
    table: str
    monitor: Any = None

    @property
    def id(self) -> str:
        return f"{self.account}:{self.region}"


def plan_targets(count: int) -> list[Target]:
    """``count`` targets of 4 to 20 projects (so the slowest is well apart from the mean)."""
    out = []
    for i in range(count):
        spec = FleetSpec(f"T{i:02d}", projects=4 + (i % 5) * 4, jobs_per_project=JOBS_PER_PROJECT)
        out.append(
            Target(target_account(i), REGIONS[i % 2], build_fleet(spec), f"lfv-bench-t{i:02d}")
        )
    return out


def org_scenario(
    targets: list[Target], *, latency_ms: float, quota: float | None
) -> dict[str, Any]:
    """The simulator's scenario: an empty default world, one ``accounts`` entry per target."""
    entries = []
    for target in targets:
        scenario = target.fleet.scenario(latency_ms=latency_ms, quota=quota)
        entries.append(
            {
                "account": target.account,
                "region": target.region,
                "projects": scenario["projects"],
                "faults": scenario["faults"],
            }
        )
    return {
        "start_time": START_TIME.isoformat().replace("+00:00", "Z"),
        "seed": 7,
        "accounts": entries,
    }


class _Clock:
    """The monitors' shared virtual time (the simulator's clock is frozen between periods)."""

    def __init__(self) -> None:
        self.t = 0.0

    def now(self) -> datetime:
        return START_TIME + timedelta(seconds=self.t)


def _build_monitor(target: Target, endpoints: Endpoints, rate: float, clock: _Clock) -> Any:
    import boto3

    from lfv_monitor.bootstrap import build_monitor
    from lfv_monitor.clients import register_service_model
    from lfv_workbench.local.emulated import create_monitor_table

    session = register_service_model(
        boto3.Session(
            # the simulator reads a 12-digit access key as that account
            aws_access_key_id=target.account,
            aws_secret_access_key="bench",
            region_name=target.region,
        )
    )
    make: Any = session.client
    if target.monitor is None:  # the first build creates the target's table
        create_monitor_table(make("dynamodb", endpoint_url=endpoints.moto), target.table)
    sns = make("sns", endpoint_url=endpoints.moto)  # CreateTopic is idempotent
    environ = {
        **BASE_ENV,
        "AWS_ENDPOINT_URL": endpoints.moto,
        "AWS_ENDPOINT_URL_LOOKOUTVISION": endpoints.simulator,
        "AWS_REGION": target.region,
        "TABLE_NAME": target.table,
        "EVENT_BUS_NAME": "default",
        "TOPIC_ARN": sns.create_topic(Name=target.table)["TopicArn"],
        "LFV_RATE_PER_SECOND": f"{rate:g}",
        "FULL_SCAN_PERIODS": "1",
        "ACTIVE_POLL_INTERVAL": "0",
    }
    return build_monitor(session=session, environ=environ, clock=clock.now)


def _world_calls(control: Any) -> dict[tuple[str, str], dict[str, int]]:
    return {(w["account"], w["region"]): dict(w["calls"]) for w in control.worlds()}


def _timed_cycle(target: Target) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    summary = run_cycle(target.monitor, TIMEOUT_S)
    return time.perf_counter() - started, summary


def run_period(targets: list[Target], control: Any, clock: _Clock, t: float) -> dict[str, Any]:
    """Every target polled once at virtual time ``t``, all at once; the period's figures."""
    control.set_time(t)
    clock.t = t
    minimums = {}
    for target in targets:
        stored, active = _stored(target.monitor.cycle.store, target.fleet)
        minimums[target.id] = minimum_calls(
            target.fleet,
            t,
            listed_projects=target.fleet.projects,
            listed_all_projects=True,
            stored=stored,
            stored_active=active,
        )
    before = _world_calls(control)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(targets)) as pool:
        timed = list(pool.map(_timed_cycle, targets))
    wall = time.perf_counter() - started
    after = _world_calls(control)
    rows = []
    for target, (seconds, summary) in zip(targets, timed, strict=True):
        key = (target.account, target.region)
        calls = {
            op: after.get(key, {}).get(op, 0) - before.get(key, {}).get(op, 0)
            for op in LFV_OPERATIONS
        }
        minimum = minimums[target.id].calls
        rows.append(
            {
                "target": target.id,
                "projects": len(target.fleet.projects),
                "seconds": round(seconds, 2),
                "calls": calls,
                "minimum": minimum,
                "at_minimum": calls == minimum,
                "changes": summary.get("changesRecorded"),
                "deadline_reached": bool(summary.get("deadlineReached")),
            }
        )
    durations = [float(r["seconds"]) for r in rows]  # type: ignore[arg-type]
    return {
        "t": t,
        "wall_s": round(wall, 2),
        "slowest_target_s": max(durations),
        "sum_of_targets_s": round(sum(durations), 2),
        "targets": rows,
    }


def run_targets(
    endpoints: Endpoints,
    *,
    count: int = TARGETS,
    rate: float = CLIENT_RATE,
    latency_ms: float = LATENCY_MS,
    quota: float | None = SERVICE_QUOTA,
    progress: Callable[[str], None] = lambda line: None,
) -> dict[str, Any]:
    """Seed every target's baseline fast, then run the fleet's cycles with all targets in
    parallel; return the periods and a summary."""
    from lfv_workbench.simulator import SimulatorControl

    # The monitors' clients take their endpoints from the SDK's environment, as in Lambda.
    expected = {
        "AWS_ENDPOINT_URL": endpoints.moto,
        "AWS_ENDPOINT_URL_LOOKOUTVISION": (endpoints.simulator),
    }
    wrong = [name for name, url in expected.items() if os.environ.get(name) != url]
    if wrong:
        raise RuntimeError(f"set {', '.join(wrong)} to the local endpoints first")
    targets = plan_targets(count)
    control = SimulatorControl(endpoints.simulator, timeout=300)
    clock = _Clock()
    control.load_scenario(org_scenario(targets, latency_ms=0, quota=None))
    for target in targets:
        target.monitor = _build_monitor(target, endpoints, SEED_RATE, clock)
        run_cycle(target.monitor, 24 * 3600)  # the silent baseline
    progress(f"  {count} targets baselined ({sum(len(t.fleet.jobs) for t in targets)} jobs)")
    for target in targets:
        target.monitor = _build_monitor(target, endpoints, rate, clock)
        control.set_faults(
            faults(latency_ms=latency_ms, quota=quota), account=target.account, region=target.region
        )
    spec = targets[0].fleet.spec
    periods = []
    for cycle in range(1, spec.cycles + 1):
        period = run_period(targets, control, clock, spec.cycle_time(cycle))
        period["cycle"] = cycle
        period["kind"] = spec.kind(cycle)
        periods.append(period)
        progress(
            f"  cycle {cycle} ({period['kind']}): wall {period['wall_s']:.1f} s, slowest target "
            f"{period['slowest_target_s']:.1f} s, sum {period['sum_of_targets_s']:.1f} s, "
            f"targets at the minimum {sum(r['at_minimum'] for r in period['targets'])}/{count}"
        )
    return {
        "targets": count,
        "rate": rate,
        "latency_ms": latency_ms,
        "periods": periods,
        "summary": summarize(periods),
    }


def summarize(periods: list[dict[str, Any]]) -> dict[str, Any]:
    rows = [r for p in periods for r in p["targets"]]
    return {
        "all_at_minimum": all(r["at_minimum"] for r in rows),
        "worst_wall_over_slowest": round(
            max(p["wall_s"] / max(p["slowest_target_s"], 1e-9) for p in periods), 2
        ),
        "best_sum_over_wall": round(
            min(p["sum_of_targets_s"] / max(p["wall_s"], 1e-9) for p in periods), 2
        ),
        "mean_target_s": round(sum(r["seconds"] for r in rows) / len(rows), 2),
        "deadline_reached": any(r["deadline_reached"] for r in rows),
    }


#: SQS FIFO requests, per 1M (64 KB chunks), from memory like the rest of ``cost.PRICES``.
SQS_FIFO_REQUEST = 0.50 / 1e6
#: SQS requests per target per period: the dispatcher's SendMessageBatch (10 a call), the
#: event source mapping's receive and its delete.
SQS_REQUESTS_PER_TARGET = 0.1 + 1 + 1


def per_target_cost(seconds: float, *, period: float = 60.0) -> dict[str, float]:
    """What one more target adds per month, with its invocation lasting ``seconds``: its
    poller invocations, the SQS messages that start them, and its metrics (every custom metric
    again with the ``target`` dimension). Its DynamoDB, events and SNS are those of a
    single-account fleet of its size (docs/cost.md); STS AssumeRole is free."""
    n = cost.MONTH_S / period
    p = cost.PRICES
    costs = {
        "lambda_requests": n * p["lambda_request"],
        "lambda_compute": n * seconds * cost.MEMORY_GB * p["lambda_gb_s_arm64"],
        "sqs": n * SQS_REQUESTS_PER_TARGET * SQS_FIFO_REQUEST,
        "metrics": cost.CUSTOM_METRICS * p["cloudwatch_metric_month"],
    }
    costs["total"] = sum(costs.values())
    return costs


def cost_lines(result: dict[str, Any]) -> list[str]:
    seconds = result["summary"]["mean_target_s"]
    c = per_target_cost(seconds)
    return [
        f"per target and month (mean invocation {seconds:g} s, 256 MB arm64, one a minute): "
        f"Lambda requests ${c['lambda_requests']:.3f}, compute ${c['lambda_compute']:.2f}, "
        f"SQS FIFO ${c['sqs']:.3f}, {cost.CUSTOM_METRICS} per-target metrics "
        f"${c['metrics']:.2f}: **${c['total']:.2f}** (without the metrics "
        f"${c['total'] - c['metrics']:.2f})"
    ]


def table(result: dict[str, Any]) -> list[str]:
    lines = [
        f"{result['targets']} targets, {result['rate']:g} requests/s per operation each, "
        f"{result['latency_ms']:g} ms per call, quota 5/s per operation per account and region",
        "| cycle | wall s (all targets) | slowest target s | sum of targets s "
        "| LFV calls (all targets) | targets at the single-account minimum |",
        "|---|---|---|---|---|---|",
    ]
    for p in result["periods"]:
        calls = sum(sum(r["calls"].values()) for r in p["targets"])
        at_min = sum(r["at_minimum"] for r in p["targets"])
        lines.append(
            f"| {p['cycle']} {p['kind']} | {p['wall_s']:.1f} | {p['slowest_target_s']:.1f} "
            f"| {p['sum_of_targets_s']:.1f} | {calls} | {at_min}/{len(p['targets'])} |"
        )
    s = result["summary"]
    lines.append(
        f"wall / slowest target: at most {s['worst_wall_over_slowest']}; sum / wall: at least "
        f"{s['best_sum_over_wall']}; every target at the minimum: "
        f"{'yes' if s['all_at_minimum'] else 'NO'}; mean seconds per target invocation "
        f"{s['mean_target_s']}"
    )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=TARGETS)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    os.environ.update(BASE_ENV)
    from benchmarks.servers import servers

    out = sys.stdout
    with servers() as endpoints, contextlib.redirect_stdout(io.StringIO()):
        # Powertools prints the ColdStart metric even when metrics are disabled: kept out.
        os.environ["AWS_ENDPOINT_URL"] = endpoints.moto
        os.environ["AWS_ENDPOINT_URL_LOOKOUTVISION"] = endpoints.simulator
        print(f"{args.targets}-target fleet", file=out, flush=True)
        result = run_targets(
            endpoints, count=args.targets, progress=lambda line: print(line, file=out, flush=True)
        )
    print(
        json.dumps(result, indent=1) if args.json else "\n".join(table(result) + cost_lines(result))
    )
    ok = result["summary"]["all_at_minimum"] and not result["summary"]["deadline_reached"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
