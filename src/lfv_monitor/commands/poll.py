"""``lfv-monitor poll``: run one poll cycle from a terminal, through the Lambda handler."""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
from typing import Any


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "poll",
        help="run one poll cycle (the Lambda handler's code) against AWS or any endpoints",
        description=(
            "Run one poll cycle, exactly as the scheduled Lambda function does, and print what it "
            "saw and did. Configuration comes from the same environment variables as the "
            "function (TABLE_NAME, EVENT_BUS_NAME, TOPIC_ARN, ...) or the flags below. Exits 0 "
            "when the cycle was healthy (it saw everything it had to), 1 when it was not (the "
            "health verdict and its reason on stderr, one line: unreachable, store, denied, "
            "deadline or partial), 2 for bad configuration."
        ),
    )
    parser.add_argument("--table", help="DynamoDB table (default: TABLE_NAME)")
    parser.add_argument("--event-bus", help="EventBridge bus name or ARN (default: EVENT_BUS_NAME)")
    parser.add_argument("--topic-arn", help="SNS topic ARN (default: TOPIC_ARN)")
    parser.add_argument(
        "--timeout", type=float, default=900.0, help="the cycle's deadline in seconds (900)"
    )
    parser.add_argument(
        "--watch",
        action="store_true",
        help="after the cycle, keep re-checking jobs in progress every ACTIVE_POLL_INTERVAL "
        "seconds until the next tick, as the function does (default: one cycle and exit)",
    )
    parser.add_argument("--json", action="store_true", help="print the cycle report as JSON")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="show the function's logs (on stderr)"
    )
    from lfv_monitor.commands.aws_options import add_aws_options

    add_aws_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lfv_monitor.commands.aws_options import apply_aws_options

    apply_aws_options(args)
    for flag, variable in (
        ("table", "TABLE_NAME"),
        ("event_bus", "EVENT_BUS_NAME"),
        ("topic_arn", "TOPIC_ARN"),
    ):
        if getattr(args, flag):
            os.environ[variable] = getattr(args, flag)
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    if not args.watch:
        os.environ["ACTIVE_POLL_INTERVAL"] = "0"

    from lfv_monitor import bootstrap
    from lfv_monitor.commands.safe_output import json_text
    from lfv_monitor.commands.streams import logs_to_stderr
    from lfv_monitor.domain.errors import ConfigurationError
    from lfv_monitor.handlers.poll import lambda_handler
    from lfv_monitor.lambda_context import LocalContext, scheduled_event
    from lfv_monitor.observability import logger

    logger.setLevel("DEBUG" if args.verbose else "WARNING")
    logs_to_stderr(verbose=args.verbose)
    try:
        monitor = bootstrap.build_monitor()
        monitor.settings.check_timeout(args.timeout)
    except ConfigurationError as exc:
        print(f"lfv-monitor poll: {exc}", file=sys.stderr)
        print("Set the variables or pass --table/--event-bus/--topic-arn.", file=sys.stderr)
        return 2
    context = LocalContext(timeout_seconds=args.timeout)
    # The function's own output (JSON logs, metric blobs) is for CloudWatch; -v shows it, on
    # stderr: stdout carries only the report.
    with contextlib.redirect_stdout(sys.stderr if args.verbose else io.StringIO()):
        summary = lambda_handler(scheduled_event(), context, service=monitor)
    report = monitor.last_report
    if args.json:
        print(json_text(summary))
    else:
        print(render_report(summary))
        for change in report.recorded if report else []:
            print(change_line(change))
    if summary.get("configError"):
        print(f"lfv-monitor poll: {summary['configError']}", file=sys.stderr)
        return 2
    if report is not None and not report.succeeded:
        print(f"lfv-monitor poll: not healthy: {report.reason()}", file=sys.stderr)
        return 1
    return 0


def change_line(change: Any) -> str:
    """One recorded change, its service text escaped for the terminal."""
    from lfv_monitor.commands.safe_output import one_line, printable

    return printable(
        f"  {change.change_type.value:<15} {change.key}  "
        f"{one_line(change.previous_status, 40) or '-'} -> {one_line(change.status, 40)}"
    ) + (f"  ({one_line(change.status_message, 80)})" if change.status_message else "")


def render_report(summary: dict[str, Any]) -> str:
    if summary.get("unreachable"):
        return (
            "Lookout for Vision could not be reached: the cycle ended early. "
            "(AWS ended the service on 2025-10-31; point AWS_ENDPOINT_URL_LOOKOUTVISION or "
            "--lfv-endpoint-url at a simulator or a service that still serves it.)"
        )
    parts = [
        "baseline cycle" if summary.get("baseline") else "cycle",
        f"{summary['projectsSeen']} projects",
        f"{summary['jobsSeen']} jobs",
        f"{summary['jobsDescribed']} described",
        f"{summary['changesRecorded']} changes recorded",
        f"{summary['announced']} announced",
    ]
    if summary.get("publishFailures"):
        parts.append(f"publish failures {summary['publishFailures']} (kept in the outbox)")
    if summary.get("errors"):
        parts.append(f"errors {summary['errors']}")
    if summary.get("deadlineReached"):
        parts.append("deadline reached: the rest is picked up next cycle")
    return ", ".join(parts) + f" in {summary['durationSeconds']}s"
