"""``python -m benchmarks.run [--fleets S M L] [--smoke]``: the fleet benchmarks of issue 7.

Prints a table and writes ``benchmarks/results/<date>-<host>.json`` and ``.md`` (the machine's
platform, CPU count and Python version are in both).  ``--smoke`` runs fleet S only, checks the
P1 and P2 counts exactly and writes nothing (what ``make bench-smoke`` runs).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import cost
from benchmarks.harness import BASE_ENV, CLIENT_RATE, DEFAULT_TIMEOUT, LATENCY_MS

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
        where = f"fleet {result['fleet']} cycle {row['cycle']} ({row['kind']})"
        p1 = row["p1"]
        for op, minimum in p1["minimum"].items():
            actual = p1["simulator_calls"].get(op, 0)
            if actual != minimum:
                problems.append(f"{where}: P1 {op} made {actual} calls, the minimum is {minimum}")
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
        "| fleet | projects x jobs | cycle | LFV calls (ListProjects/ListJobs/Describe) | minimum "
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
                f"| {r['fleet']} | {r['projects']} x {r['jobs'] // r['projects']} "
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
        "| fleet | P1 worst | P2 checks | P3 worst | list pages / cycle | full scan (pages) "
        "| periods per full scan | in-progress job checked every | new job found within "
        "(no CloudTrail) | with CloudTrail | P5 peak RSS MB |",
        "|" + "---|" * 11,
    ]
    for r in results:
        s = r["summary"]
        checks = (
            "all pass"
            if all(s["p2_checks"].values())
            else ", ".join(k for k, ok in s["p2_checks"].items() if not ok) + " FAIL"
        )
        every = s["in_progress_checked_every_s"]
        found = s["discovery_worst_s_without_cloudtrail"]
        lines.append(
            f"| {r['fleet']} | {_fmt(s['p1_worst'])} | {checks} | {_fmt(s['p3_worst'])} "
            f"| {s['list_pages_per_cycle']} | {s['full_scan_pages']} "
            f"| {_fmt(s['full_scan_periods']) if s['full_scan_periods'] else 'never'} "
            f"| {f'{every:.0f} s' if every else 'never'} "
            f"| {f'{found:.0f} s' if found else 'never'} "
            f"| CloudTrail delivery + next invocation "
            f"| {_fmt(r.get('p5', {}).get('peak_rss_mb'))} |"
        )
    return lines


def markdown(report: dict[str, Any]) -> str:
    m = report["machine"]
    out = [
        f"# Fleet benchmarks, {report['date']}",
        "",
        f"Machine: {m['platform']}, {m['cpu_count']} CPUs, Python {m['python']}. "
        f"Client rate {report['client_rate_per_s']:g}/s per operation, service quota 5/s, "
        f"simulator latency {report['latency_ms']:g} ms, function timeout "
        f"{report['timeout_s']:g} s, one invocation per 60 s. Commit {report.get('commit')}.",
        "",
        "## Per fleet",
        "",
        *summary_table(report["fleets"]),
        "",
        "## Per cycle (steady state; the baseline cycle is seeded apart)",
        "",
        *fleet_table(report["fleets"]),
        "",
    ]
    out += [
        "## Monthly cost from these counts (see docs/cost.md)",
        "",
        f"128 MB x86 Lambda, one invocation per period, prices {cost.PRICES_DATE}.",
        "",
        *cost.cost_table(report),
        "",
    ]
    if "coldstart" in report:
        c = report["coldstart"]
        out += [
            "## P4 cold start (median of fresh processes)",
            "",
            f"import handler + build_monitor: {c['monitor_ms']} ms; baseline (boto3 + Powertools "
            f"Logger/Metrics + 4 clients): {c['baseline_ms']} ms; ratio {c['ratio']} "
            f"({c['runs']} runs each, interleaved).",
            "",
        ]
    if "latency" in report:
        lat = report["latency"]
        out += [
            "## Detection latency (virtual time)",
            "",
            f"{lat['mode']}: {lat['transitions']} transitions, {lat['announced']} announced "
            f"as their own state ({lat['not_seen_as_own_state']} passed between two looks); "
            f"p50 {lat['p50_s']} s, p95 {lat['p95_s']} s, max {lat['max_s']} s.",
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fleets", nargs="+", default=["S", "M", "L"], choices=["S", "M", "L"])
    parser.add_argument("--smoke", action="store_true", help="fleet S, exact P1/P2 checks")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT)
    parser.add_argument("--rate", type=float, default=CLIENT_RATE)
    parser.add_argument("--no-coldstart", action="store_true")
    parser.add_argument("--no-latency", action="store_true")
    parser.add_argument(
        "--watch", action="store_true", help="measure detection latency with watching on"
    )
    parser.add_argument(
        "--p5-into", type=Path, help="measure P5 at fleet L only and store it in this results JSON"
    )
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

    if args.p5_into:
        with servers() as endpoints:
            only = run_fleet(FLEETS["L"], endpoints, rss_probe=True, only_rss=True)
        saved = json.loads(args.p5_into.read_text())
        for fleet in saved["fleets"]:
            if fleet["fleet"] == "L":
                fleet["p5"] = only["p5"]
        args.p5_into.write_text(json.dumps(saved, indent=1) + "\n")
        args.p5_into.with_suffix(".md").write_text(markdown(saved) + "\n")
        print(only["p5"])
        return 0
    fleets = ["S"] if args.smoke else args.fleets
    results = []
    for name in fleets:
        print(f"fleet {name}", flush=True)
        with servers() as endpoints:
            results.append(
                run_fleet(
                    FLEETS[name],
                    endpoints,
                    rate=args.rate,
                    timeout=args.timeout,
                    rss_probe=name == "L" and not args.smoke,
                    progress=lambda line: print(line, flush=True),
                )
            )
    report: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": machine(),
        "commit": _commit(),
        "client_rate_per_s": args.rate,
        "latency_ms": LATENCY_MS,
        "timeout_s": args.timeout,
        "fleets": results,
    }
    if args.smoke:
        print("\n".join(fleet_table(results)))
        problems = [p for r in results for p in smoke_failures(r)]
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1 if problems else 0
    if not args.no_coldstart:
        print("P4 cold start", flush=True)
        report["coldstart"] = coldstart.measure(BASE_ENV)
    if not args.no_latency:
        print("detection latency", flush=True)
        with servers() as endpoints:
            report["latency"] = latency.measure(endpoints, watch=args.watch)
    text = markdown(report)
    print(text)
    RESULTS.mkdir(exist_ok=True)
    stem = f"{report['date'][:10]}-{socket.gethostname()}"
    (RESULTS / f"{stem}.json").write_text(json.dumps(report, indent=1) + "\n")
    (RESULTS / f"{stem}.md").write_text(text + "\n")
    print(f"wrote {RESULTS / stem}.json and .md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
