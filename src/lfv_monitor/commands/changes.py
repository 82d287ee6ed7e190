"""``lfv-monitor changes``: changes in a time range, in one project and/or to one status."""

from __future__ import annotations

import argparse
from typing import Any

EXAMPLES = """\
examples:
  lfv-monitor changes --project widgets --since 7d
  lfv-monitor changes --project widgets --since 2026-11-01 --until 2026-11-08
  lfv-monitor changes --status FAILED --since 7d          # every project
  lfv-monitor changes --status FAILED --since 2026-11-01 --output csv --all
  lfv-monitor changes --project widgets --status FAILED --since 24h
"""


def register(sub: Any) -> None:
    from lfv_monitor.commands.audit_common import TIME_HELP, add_common_options

    parser = sub.add_parser(
        "changes",
        help="changes in a time range: one project's, or every project's to one status",
        description=(
            "Print the recorded changes in a time range, ordered by the time the monitor "
            "observed them: every change in one project (--project), every change to one status "
            "across all projects (--status), or both. Without --since/--until the range is the "
            "whole history. Exits 1 when the table holds no history for the project, 2 for a "
            "bad range."
        ),
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--project", help="only this project's changes")
    parser.add_argument(
        "--status", help="only changes to this status (CREATED, RUNNING, SUCCEEDED, FAILED, ...)"
    )
    parser.add_argument("--since", metavar="WHEN", help=f"from this time on: {TIME_HELP}")
    parser.add_argument(
        "--until", metavar="WHEN", help=f"up to this time (default: now): {TIME_HELP}"
    )
    add_common_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import sys
    from datetime import UTC, datetime

    from lfv_monitor.audit import InvalidTimeError
    from lfv_monitor.audit.timespec import parse_range
    from lfv_monitor.commands.audit_common import render_changes, run_query

    prog = "lfv-monitor changes"
    if not args.project and not args.status:
        print(f"{prog}: give --project, --status or both", file=sys.stderr)
        return 2
    try:
        since, until = parse_range(args.since, args.until, now=datetime.now(UTC))
    except InvalidTimeError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2

    def ask(q: Any, token: str | None) -> Any:
        if args.project:
            return q.project_changes(
                args.project,
                since=since,
                until=until,
                status=args.status,
                limit=args.limit,
                next_token=token,
                account=args.job_account,
                region=args.job_region,
            )
        return q.status_changes(
            args.status,
            since=since,
            until=until,
            limit=args.limit,
            next_token=token,
            account=args.job_account,
            region=args.job_region,
        )

    what = " ".join(
        part
        for part in (
            f"project {args.project}" if args.project else "all projects",
            f"status {args.status.upper()}" if args.status else "",
            f"since {since:%Y-%m-%d %H:%M}" if since else "",
            f"until {until:%Y-%m-%d %H:%M}" if until else "",
        )
        if part
    )
    return run_query(
        args,
        prog,
        ask,
        lambda items, out: render_changes(items, out, title=f"Changes: {what}"),
    )
