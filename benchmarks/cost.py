"""The monthly cost model of docs/cost.md, computed from a benchmark report's measured counts.

Per invocation, from the steady cycles of each fleet (``busy``: the mean of the busy cycles;
``idle``: the idle cycle): duration, DynamoDB read and write units, events put, SNS messages.
Per month: ``N = 30 * 24 * 3600 / period`` invocations.  Prices: us-east-1, on-demand, without
free tiers (see ``PRICES``).
"""

from __future__ import annotations

from typing import Any

PRICES_DATE = "2026-11 (as published on the AWS pricing pages; check before relying on them)"
PRICES = {
    "lambda_request": 0.20 / 1e6,
    "lambda_gb_s_x86": 0.0000166667,
    "scheduler_invocation": 1.00 / 1e6,
    "ddb_read_unit": 0.125 / 1e6,
    "ddb_write_unit": 0.625 / 1e6,
    "put_events_event": 1.00 / 1e6,
    "sns_publish": 0.50 / 1e6,
}
MEMORY_GB = 0.125  # 128 MB, the smallest Lambda size (P5's goal)
MONTH_S = 30 * 24 * 3600
#: With sub-minute detection an invocation with jobs in progress keeps watching until this many
#: seconds before the next tick (the cycle's deadline margin), re-checking every interval.
WATCH_MARGIN_S = 10.0
WATCH_INTERVAL_S = 10.0


def per_invocation(rows: list[dict[str, Any]], kind: str) -> dict[str, float] | None:
    chosen = [r for r in rows if r["kind"] == kind]
    if not chosen:
        return None
    n = len(chosen)
    return {
        "seconds": sum(r["seconds"] for r in chosen) / n,
        "read_units": sum(r["p2"]["read_units"] for r in chosen) / n,
        "write_units": sum(r["p2"]["write_units"] for r in chosen) / n,
        "events": sum(sum(r["p2"]["put_events_entries"]) for r in chosen) / n,
        "sns": sum(sum(r["p2"]["sns_entries"]) for r in chosen) / n,
        "describes": sum(
            r["p1"]["simulator_calls"].get("DescribeModelPackagingJob", 0) for r in chosen
        )
        / n,
    }


def monthly(inv: dict[str, float], *, period: float, watch: bool, busy: bool) -> dict[str, float]:
    n = MONTH_S / period
    seconds = inv["seconds"]
    reads = inv["read_units"]
    if watch and busy:
        # Watching: the invocation lasts until the margin before the next tick, and re-reads the
        # in-progress jobs' state on every re-check (one consistent read unit each).
        rechecks = max(0.0, (period - WATCH_MARGIN_S - seconds) / WATCH_INTERVAL_S)
        seconds = max(seconds, period - WATCH_MARGIN_S)
        reads += rechecks * inv["describes"]
    p = PRICES
    costs = {
        "lambda_requests": n * p["lambda_request"],
        "lambda_compute": n * seconds * MEMORY_GB * p["lambda_gb_s_x86"],
        "scheduler": n * p["scheduler_invocation"],
        "dynamodb": n * (reads * p["ddb_read_unit"] + inv["write_units"] * p["ddb_write_unit"]),
        "put_events": n * inv["events"] * p["put_events_event"],
        "sns": n * inv["sns"] * p["sns_publish"],
    }
    costs["total"] = sum(costs.values())
    return costs


def cost_table(report: dict[str, Any]) -> list[str]:
    lines = [
        "| fleet | load | sub-minute | s / invocation | RRU | WRU | events | SNS msgs "
        "| Lambda requests $ | Lambda GB-s $ | Scheduler $ | DynamoDB $ | PutEvents $ | SNS $ "
        "| total $/month |",
        "|" + "---|" * 15,
    ]
    for fleet in report["fleets"]:
        for kind in ("idle", "busy"):
            inv = per_invocation(fleet["cycles"], kind)
            if inv is None:
                continue
            for watch in (False, True):
                c = monthly(inv, period=fleet["period_s"], watch=watch, busy=kind == "busy")
                lines.append(
                    f"| {fleet['fleet']} | {kind} | {'yes' if watch else 'no'} "
                    f"| {inv['seconds']:.1f} | {inv['read_units']:.1f} | {inv['write_units']:.1f} "
                    f"| {inv['events']:.1f} | {inv['sns']:.1f} | {c['lambda_requests']:.3f} "
                    f"| {c['lambda_compute']:.2f} | {c['scheduler']:.3f} | {c['dynamodb']:.2f} "
                    f"| {c['put_events']:.3f} | {c['sns']:.3f} | **{c['total']:.2f}** |"
                )
    return lines
