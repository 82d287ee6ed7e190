"""The monthly cost model of docs/cost.md, computed from a benchmark report's measured counts.

Per invocation, from each fleet's measured cycles: duration, DynamoDB read and write units,
events put, SNS messages, plus the invocations CloudTrail's ``StartModelPackagingJob`` events
caused in the same period.  Loads (``LOADS``):

* ``quiet``: nothing in progress (the deployed stack's idle; the watch has nothing to do);
* ``idle 1%``: 1% of jobs in progress but unchanged, no watch;
* ``busy``: the mean of the busy cycles (jobs finish, start and change every minute), no watch;
* ``busy + watch``: the measured watch invocation (scan, then a round every 10 s while jobs are
  in progress), as if every period were like it.

Per month: ``N = 30 * 24 * 3600 / period`` scheduled invocations.  Prices: us-east-1,
on-demand, without free tiers (``PRICES``).
"""

from __future__ import annotations

from typing import Any

PRICES_DATE = (
    "us-east-1 on-demand list prices as of late 2024 (DynamoDB after its 2024-11-01 on-demand "
    "cut), from memory, not fetched: check the AWS pricing pages before relying on them"
)
PRICES = {
    "lambda_request": 0.20 / 1e6,
    "lambda_gb_s_arm64": 0.0000133334,
    "lambda_gb_s_x86": 0.0000166667,
    "scheduler_invocation": 1.00 / 1e6,
    "ddb_read_unit": 0.125 / 1e6,
    "ddb_write_unit": 0.625 / 1e6,
    "put_events_event": 1.00 / 1e6,
    "sns_publish": 0.50 / 1e6,
    "cloudwatch_metric_month": 0.30,
    "cloudwatch_alarm_month": 0.10,
    "cloudwatch_dashboard_month": 3.00,
}
MEMORY_GB = 0.25  # template.yaml: MemorySize 256, arm64
MONTH_S = 30 * 24 * 3600
#: The handler's EMF metrics (handlers/poll.py: 13, plus Powertools' ColdStart), one custom
#: metric each (name + dimensions); the template's alarms and dashboard.
CUSTOM_METRICS = 14
ALARMS = 6
DASHBOARDS = 1
LOADS = ("quiet", "idle 1%", "busy", "busy + watch")


def _row(row: dict[str, Any]) -> dict[str, float]:
    """One plain cycle and the CloudTrail invocations before it."""
    trail = row["cloudtrail"]
    return {
        "requests": 1 + trail["invocations"],
        "seconds": row["seconds"] + trail["total_seconds"],
        "read_units": row["p2"]["read_units"] + trail["read_units"],
        "write_units": row["p2"]["write_units"] + trail["write_units"],
        "events": sum(row["p2"]["put_events_entries"]) + trail["events"],
        "sns": sum(row["p2"]["sns_entries"]) + trail["sns_messages"],
    }


def _mean(rows: list[dict[str, float]]) -> dict[str, float] | None:
    if not rows:
        return None
    return {k: sum(r[k] for r in rows) / len(rows) for k in rows[0]}


def per_invocation(fleet: dict[str, Any], load: str) -> dict[str, float] | None:
    """Mean counts per period for ``load`` (see ``LOADS``)."""
    cycles = fleet["cycles"]
    if load == "busy + watch":
        w = fleet.get("watch")
        if not w:
            return None
        trail = w["cloudtrail"]
        return {
            "requests": 1 + trail["invocations"],
            "seconds": w["seconds"] + trail["total_seconds"],
            "read_units": w["read_units"] + trail["read_units"],
            "write_units": w["write_units"] + trail["write_units"],
            "events": w["events"] + trail["events"],
            "sns": w["sns_messages"] + trail["sns_messages"],
        }
    kind = {"quiet": "quiet", "idle 1%": "idle", "busy": "busy"}[load]
    return _mean([_row(r) for r in cycles if r["kind"] == kind])


def monthly(inv: dict[str, float], *, period: float) -> dict[str, float]:
    n = MONTH_S / period
    p = PRICES
    costs = {
        "lambda_requests": n * inv["requests"] * p["lambda_request"],
        "lambda_compute": n * inv["seconds"] * MEMORY_GB * p["lambda_gb_s_arm64"],
        "scheduler": n * p["scheduler_invocation"],
        "dynamodb": n
        * (inv["read_units"] * p["ddb_read_unit"] + inv["write_units"] * p["ddb_write_unit"]),
        "put_events": n * inv["events"] * p["put_events_event"],
        "sns": n * inv["sns"] * p["sns_publish"],
    }
    costs["total"] = sum(costs.values())
    return costs


def cloudwatch() -> dict[str, float]:
    """The monitor's own observability, the same whatever the fleet (no free tier)."""
    p = PRICES
    costs = {
        "custom_metrics": CUSTOM_METRICS * p["cloudwatch_metric_month"],
        "alarms": ALARMS * p["cloudwatch_alarm_month"],
        "dashboard": DASHBOARDS * p["cloudwatch_dashboard_month"],
    }
    costs["total"] = sum(costs.values())
    return costs


def cost_table(report: dict[str, Any]) -> list[str]:
    lines = [
        "| fleet | settings | load | invocations / period | s / period | RRU | WRU | events "
        "| SNS msgs | Lambda requests $ | Lambda GB-s $ | Scheduler $ | DynamoDB $ | PutEvents $ "
        "| SNS $ | total $/month |",
        "|" + "---|" * 16,
    ]
    overloaded = [f for f in report["fleets"] if any(r["deadline_reached"] for r in f["cycles"])]
    for fleet in report["fleets"]:
        if fleet in overloaded:
            continue
        for load in LOADS:
            inv = per_invocation(fleet, load)
            if inv is None:
                continue
            c = monthly(inv, period=fleet["period_s"])
            lines.append(
                f"| {fleet['fleet']} | {fleet.get('label', '')} | {load} "
                f"| {inv['requests']:.2f} | {inv['seconds']:.1f} | {inv['read_units']:.1f} "
                f"| {inv['write_units']:.1f} | {inv['events']:.1f} | {inv['sns']:.1f} "
                f"| {c['lambda_requests']:.3f} | {c['lambda_compute']:.2f} "
                f"| {c['scheduler']:.3f} | {c['dynamodb']:.2f} | {c['put_events']:.3f} "
                f"| {c['sns']:.3f} | **{c['total']:.2f}** |"
            )
    cw = cloudwatch()
    if overloaded:
        names = ", ".join(sorted({f"{f['fleet']} ({f.get('label', '')})" for f in overloaded}))
        lines += [
            "",
            f"Left out: {names}. Their cycles reached the deadline (more work than one period "
            "can check), so none of them is quiet or idle and every one costs a whole "
            "invocation: 58 s of Lambda a minute, about $8.4 a month of compute at 256 MB.",
        ]
    lines += [
        "",
        f"Not in the totals: CloudWatch for the monitor itself, ${cw['total']:.2f}/month "
        f"whatever the fleet: {CUSTOM_METRICS} custom metrics ${cw['custom_metrics']:.2f}, "
        f"{ALARMS} alarms ${cw['alarms']:.2f}, {DASHBOARDS} dashboard ${cw['dashboard']:.2f} "
        "(before CloudWatch's free tier of 10 metrics, 10 alarms and 3 dashboards).",
    ]
    return lines
