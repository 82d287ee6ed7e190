"""``python -m benchmarks.run [--fleets S M L] [--smoke]``: the fleet benchmarks of issue 7.

Every fleet runs with the deployed stack's settings (template.yaml's defaults: FULL_SCAN_PERIODS
10 with CloudTrail discovery, Timeout 58, margin 5, 4 requests/s), plus, for comparison, fleet L
with FULL_SCAN_PERIODS 1 and no CloudTrail.  Prints a table and writes
``benchmarks/results/<date>-<host>.json`` and ``.md`` (the machine's platform, CPU count and
Python version are in both).  ``--smoke`` runs fleet S only (once with every project listed every
period, once with the deployed slicing), checks the P1 and P2 counts exactly and writes nothing
(what ``make bench-smoke`` runs).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import sys
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

from benchmarks import cost
from benchmarks.harness import BASE_ENV, LATENCY_MS, SMOKE_DEPLOYMENTS, Deployment

RESULTS = Path(__file__).parent / "results"


def machine() -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor() or None,
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "hostname": socket.gethostname(),
    }


def smoke_failures(result: dict[str, Any]) -> list[str]:
    """P1 and P2 checks of one fleet's cycles (deterministic: exact counts)."""
    problems = []
    for row in result["cycles"]:
        where = f"fleet {result['fleet']} [{result['label']}] cycle {row['cycle']} ({row['kind']})"
        p1 = row["p1"]
        for op, minimum in p1["minimum"].items():
            actual = p1["simulator_calls"].get(op, 0)
            if actual != minimum:
                problems.append(f"{where}: P1 {op} made {actual} calls, the minimum is {minimum}")
        if not row["listed_the_expected_slice"]:
            problems.append(f"{where}: it did not list exactly this period's slice")
        if not row["in_progress_all_checked"]:
            problems.append(
                f"{where}: a job the store held in progress was neither listed nor described"
            )
        for check, ok in row["p2"]["checks"].items():
            if not ok:
                problems.append(f"{where}: P2 {check} failed: {row['p2']}")
    return problems


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def fleet_table(results: list[dict[str, Any]]) -> list[str]:
    head = (
        "| fleet | settings | cycle | LFV calls (ListProjects/ListJobs/Describe) | minimum "
        "| P1 | DynamoDB calls | RRU | WRU | changes | PutEvents | SNS | time s | rate-bound s "
        "| P3 | deadline |"
    )
    lines = [head, "|" + "---|" * 16]
    for r in results:
        for row in r["cycles"]:
            p1 = row["p1"]
            calls = p1["simulator_calls"]
            mins = p1["minimum"]
            ops = ("ListProjects", "ListModelPackagingJobs", "DescribeModelPackagingJob")
            ddb = ", ".join(f"{k} {v}" for k, v in row["p2"]["dynamodb_calls"].items())
            lines.append(
                f"| {r['fleet']} | {r['label']} "
                f"| {row['cycle']} {row['kind']} "
                f"| {'/'.join(str(calls.get(o, 0)) for o in ops)} "
                f"| {'/'.join(str(mins[o]) for o in ops)} | {_fmt(p1['ratio'])} | {ddb} "
                f"| {row['p2']['read_units']:g} | {row['p2']['write_units']:g} | {row['changes']} "
                f"| {row['p2']['put_events_calls']} | {row['p2']['sns_calls']} "
                f"| {row['seconds']:.1f} | {row['p3']['rate_bound_s']:.1f} "
                f"| {_fmt(row['p3']['ratio'])} | {'yes' if row['deadline_reached'] else 'no'} |"
            )
    return lines


def summary_table(results: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| fleet | settings | P1 worst | P2 checks | P3 worst | listed the expected slice "
        "| projects listed / cycle | periods per full scan | in-progress job checked "
        "| new job found within, no CloudTrail | CloudTrail check (one invocation) "
        "| P5 peak RSS MB |",
        "|" + "---|" * 12,
    ]
    for r in results:
        s = r["summary"]
        checks = (
            "all pass"
            if all(s["p2_checks"].values())
            else ", ".join(k for k, ok in s["p2_checks"].items() if not ok) + " FAIL"
        )
        described = "every period" if s["in_progress_checked_every_period"] else "NOT always"
        trail = s.get("cloudtrail_check_max_s")
        lines.append(
            f"| {r['fleet']} | {r['label']} | {_fmt(s['p1_worst'])} | {checks} "
            f"| {_fmt(s['p3_worst'])} | {'yes' if s['slices_as_expected'] else 'NO'} "
            f"| {s['projects_per_cycle']} of {r['projects']} | {s['full_scan_periods']} "
            f"| {described} | {s['discovery_worst_s_without_cloudtrail']:.0f} s "
            f"| {f'{trail:.2f} s' if trail is not None else 'off'} "
            f"| {_fmt(r.get('p5', {}).get('peak_rss_mb'))} |"
        )
    return lines


def fairness_table(results: list[dict[str, Any]]) -> list[str]:
    """P6 (issue 13): calls per operation against the list-first minimum (worst cycle), the
    longest unchecked runs against the bounds, terminal states missed, new jobs late, peak RSS."""
    lines = [
        "| fleet | settings | in progress | P1 worst per operation (List/Describe) "
        "| longest job gap / bound / issue 13's (periods) (C) "
        "| longest project gap / bound (periods) "
        "| terminal states missed (catch-up cycles) | new jobs late / never (latest, periods) "
        "| P3 worst "
        "| P5 peak RSS MB |",
        "|" + "---|" * 10,
    ]
    for r in results:
        f = r.get("p6")
        if not f:
            continue
        worst: dict[str, float] = {}
        for row in r["cycles"]:
            for op, ratio in row["p1"]["by_operation"].items():
                if ratio is not None:
                    worst[op] = max(worst.get(op, 0.0), ratio)
        ops = ("ListModelPackagingJobs", "DescribeModelPackagingJob")
        lines.append(
            f"| {r['fleet']} | {r['label']} | {r['in_progress']} "
            f"| {'/'.join(_fmt(worst.get(op)) for op in ops)} "
            f"| {f['longest_job_gap_periods']} / {f['job_gap_bound_periods']} "
            f"/ {f.get('job_gap_issue_bound_periods', '-')} "
            f"({f.get('most_describes_due_in_a_cycle', '-')}) "
            f"| {f['longest_project_gap_periods']} / {f['project_gap_bound_periods']} "
            f"(over {f['cycles_observed']} cycles) | {f['terminal_states_missed']} "
            f"({f['catch_up_cycles']}) "
            f"| {f['new_jobs_announced_late']} / {f['new_jobs_never_recorded']} "
            f"({f.get('new_jobs_latest_periods', '-')}) "
            f"| {_fmt(r['summary']['p3_worst'])} | {_fmt(r.get('p5', {}).get('peak_rss_mb'))} |"
        )
    return lines


def watch_table(results: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| fleet | settings | invocation s (timeout) | watch rounds | rounds start at s "
        "| largest gap between checks while jobs ran | LFV calls | DynamoDB calls | RRU | WRU "
        "| changes "
        "| deadline reached |",
        "|" + "---|" * 12,
    ]
    for r in results:
        w = r.get("watch")
        if not w:
            continue
        ddb = ", ".join(f"{k} {v}" for k, v in w["dynamodb_calls"].items())
        lfv = ", ".join(f"{k} {v}" for k, v in sorted(w["lfv_calls"].items()))
        over = " **over the timeout**" if w["over_timeout"] else ""
        checks = [0.0, *w["round_starts_s"]]
        if w["seconds"] >= w["timeout_s"] - 10:  # it ran to the margin with jobs in progress
            checks.append(r["period_s"])
        gap = max(b - a for a, b in pairwise(checks)) if len(checks) > 1 else None
        deadline = "yes" if w["deadline_reached"] else "no"
        lines.append(
            f"| {r['fleet']} | {r['label']} | {w['seconds']:.1f} ({w['timeout_s']:g}){over} "
            f"| {w['rounds']} | {', '.join(f'{x:g}' for x in w['round_starts_s'])} "
            f"| {_fmt(gap)} s | {lfv} | {ddb} | {w['read_units']:g} "
            f"| {w['write_units']:g} | {w['changes']} | {deadline} |"
        )
    return lines


def latency_table(latency: dict[str, dict[str, Any]]) -> list[str]:
    lines = [
        "| mode | transitions | announced as own state | p50 s | p95 s | max s "
        "| new jobs p50 / p95 / max s | tracked jobs p50 / p95 / max s |",
        "|" + "---|" * 8,
    ]
    for label, lat in latency.items():
        new, tracked = lat["new_jobs"], lat["tracked_jobs"]

        def spread(d: dict[str, Any]) -> str:
            return f"{d['p50_s']} / {d['p95_s']} / {d['max_s']}" if d.get("count") else "n/a"

        lines.append(
            f"| {label} | {lat['transitions']} | {lat['announced']} | {lat['p50_s']} "
            f"| **{lat['p95_s']}** | {lat['max_s']} | {spread(new)} | {spread(tracked)} |"
        )
    return lines


def markdown(report: dict[str, Any]) -> str:
    m = report["machine"]
    out = [
        f"# Fleet benchmarks, {report['date']}",
        "",
        f"Machine: {m['platform']}, {m['cpu_count']} CPUs, Python {m['python']}. "
        f"Commit {report.get('commit')}. Simulator latency {report['latency_ms']:g} ms per call, "
        "service quota 5/s per operation; the function as template.yaml deploys it: client rate "
        "4/s per operation, Timeout 58 s, DEADLINE_MARGIN_SECONDS 5, one invocation per 60 s, "
        "CloudTrail discovery on with FULL_SCAN_PERIODS 10 (each job's start reaches the "
        "function as CloudTrail's event 5 s later), unless the settings column says otherwise.",
        "",
        *([report["note"], ""] if report.get("note") else []),
        "Cycles: 1-3 busy (jobs finish, start, change message), 4 idle (1% of jobs in progress, "
        "nothing changes), 5 drain (everything in progress finishes), 6 quiet (nothing in "
        "progress: the deployed stack's idle). The watch invocation (cycle 7) runs with "
        "ACTIVE_POLL_INTERVAL 10 while one new job per slot starts, runs and finishes.",
        "",
        "## Per fleet",
        "",
        *summary_table(report["fleets"]),
        "",
        "## Fairness under load (issue 13)",
        "",
        "P1 here is per operation against the list-first minimum of what was due (below 1.00 "
        "when a cycle could not make every call it needed); the job bound is "
        "ceil(min(B / (r T - s), N / (2 r T - s - min(C, r T / 2)))) + 1, C being the most "
        "describes any cycle's changes needed, T the seconds usable after ListProjects "
        '(docs/architecture.md, "Fleets beyond one period"); issue 13\'s own figure, '
        "ceil(N / (2 r T)) + 1, leaves out the slice s and the changes' describes; the "
        "project bound is the periods per full scan + 1. A new job is late when the cycle that "
        "recorded it comes after that many cycles from its start (the job bound with CloudTrail, "
        "else the larger of the two), counted as the gaps are: from the first cycle after it "
        "started, both included.",
        "",
        *fairness_table(report["fleets"]),
        "",
        "With CloudTrail a new job is checked one CloudTrail delivery (best effort, typically "
        "seconds) after it starts, by one invocation of the time shown; see the detection "
        "latency below for what reserved concurrency 1 does to that while a watch runs.",
        "",
        "## Sub-minute watch: one invocation with jobs in progress",
        "",
        "Waits follow the simulator's clock (no wall-clock sleeping); calls take their real "
        "time at 4/s and 50 ms. A job in progress is checked by the scan (start) and by every "
        "round (its project is listed; it is described when its entry moved).",
        "",
        *watch_table(report["fleets"]),
        "",
        "## Per cycle (the baseline cycle is seeded apart)",
        "",
        *fleet_table(report["fleets"]),
        "",
    ]
    out += [
        "## Monthly cost from these counts (see docs/cost.md)",
        "",
        f"256 MB arm64 Lambda, one invocation per 60 s, prices {cost.PRICES_DATE}.",
        "",
        *cost.cost_table(report),
        "",
    ]
    if "coldstart" in report:
        out += ["## P4 cold start (median of fresh processes)", ""]
        for label, c in report["coldstart"].items():
            out.append(
                f"- {label}: import handler + build_monitor {c['monitor_ms']} ms; baseline "
                f"(boto3 + Powertools Logger/Metrics + 4 clients) {c['baseline_ms']} ms; "
                f"ratio **{c['ratio']}** ({c['runs']} runs each, interleaved)."
            )
        out.append("")
    if "latency" in report:
        out += [
            "## Detection latency (virtual time, 5 projects, 25 jobs, 75 transitions)",
            "",
            *latency_table(report["latency"]),
            "",
        ]
    return "\n".join(out)


def _commit() -> str | None:
    import subprocess

    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


#: Fleet L again with every project listed as often as the rate allows and no CloudTrail.
COMPARISON = Deployment(full_scan_periods=1, cloudtrail=False)


def smoke(run_fleet: Any, spec: Any, servers: Any) -> int:
    """Fleet S with each smoke deployment; exact P1/P2 checks; 1 on any problem."""
    results = []
    for label, deployment in SMOKE_DEPLOYMENTS.items():
        print(f"fleet S, {label}", flush=True)
        with servers() as endpoints:
            results.append(
                run_fleet(
                    spec,
                    endpoints,
                    deployment=deployment,
                    latency_ms=0.0,
                    quota=None,
                    progress=lambda line: print(line, flush=True),
                )
            )
    print("\n".join(fleet_table(results)))
    problems = [p for r in results for p in smoke_failures(r)]
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    names = ["S", "M", "L", "L5", "L10", "P1000"]
    parser.add_argument("--fleets", nargs="*", default=names, choices=names)
    parser.add_argument("--smoke", action="store_true", help="fleet S, exact P1/P2 checks")
    parser.add_argument(
        "--compare",
        nargs="*",
        default=["L"],
        choices=names,
        help="fleets also run with FULL_SCAN_PERIODS=1 and no CloudTrail (default: L)",
    )
    parser.add_argument(
        "--into",
        type=Path,
        help="add this run's fleets to an existing results JSON (and its markdown) and stop",
    )
    parser.add_argument("--no-coldstart", action="store_true")
    parser.add_argument("--no-latency", action="store_true")
    parser.add_argument(
        "--render", type=Path, help="rewrite the markdown of an existing results JSON and stop"
    )
    args = parser.parse_args(argv)
    if args.render:
        text = markdown(json.loads(args.render.read_text()))
        args.render.with_suffix(".md").write_text(text + "\n")
        print(text)
        return 0
    os.environ.update(BASE_ENV)
    # Imported after the environment is set (Powertools reads it at import).
    from benchmarks import coldstart, latency
    from benchmarks.fleet import FLEETS
    from benchmarks.harness import run_fleet
    from benchmarks.servers import servers

    def progress(line: str) -> None:
        print(line, flush=True)

    if args.smoke:
        return smoke(run_fleet, FLEETS["S"], servers)
    results = []
    runs = [(name, Deployment()) for name in args.fleets]
    runs += [(name, COMPARISON) for name in args.compare]
    for name, deployment in runs:
        print(f"fleet {name}, {deployment.label}", flush=True)
        with servers() as endpoints:
            results.append(
                run_fleet(
                    FLEETS[name],
                    endpoints,
                    deployment=deployment,
                    watch=True,
                    rss_probe=name in ("L", "L10"),
                    progress=progress,
                )
            )
    if args.into:
        saved = json.loads(args.into.read_text())
        fresh = {(r["fleet"], r["label"]) for r in results}
        saved["fleets"] = [
            f for f in saved["fleets"] if (f["fleet"], f["label"]) not in fresh
        ] + results
        args.into.write_text(json.dumps(saved, indent=1) + "\n")
        args.into.with_suffix(".md").write_text(markdown(saved) + "\n")
        return 0
    report: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": machine(),
        "commit": _commit(),
        "latency_ms": LATENCY_MS,
        "fleets": results,
    }
    if not args.no_coldstart:
        print("P4 cold start", flush=True)
        report["coldstart"] = {
            "outside Lambda (no tracer)": coldstart.measure(BASE_ENV),
            "as in Lambda (AWS_LAMBDA_FUNCTION_NAME set, Tracing Active: X-Ray SDK loaded)": (
                coldstart.measure(BASE_ENV, in_lambda=True)
            ),
        }
    if not args.no_latency:
        print("detection latency", flush=True)
        report["latency"] = latency.measure_all(servers)
    RESULTS.mkdir(exist_ok=True)
    stem = f"{report['date'][:10]}-{socket.gethostname()}"
    (RESULTS / f"{stem}.json").write_text(json.dumps(report, indent=1) + "\n")
    text = markdown(report)
    print(text)
    (RESULTS / f"{stem}.md").write_text(text + "\n")
    print(f"wrote {RESULTS / stem}.json and .md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
