"""``lfv-monitor jobs``: the current state of the tracked jobs with one status."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

EXAMPLES = """\
examples:
  lfv-monitor jobs --status RUNNING
  lfv-monitor jobs --status FAILED --project widgets
  lfv-monitor jobs --status SUCCEEDED --output json --all
"""


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "jobs",
        help="current state of every tracked job with a status (e.g. what is RUNNING now)",
        description=(
            "Print the current state the monitor holds for every tracked job with the given "
            "status, ordered by project and job. Exits 1 when --project names a project the "
            "table holds no history for."
        ),
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--status",
        required=True,
        help="CREATED, RUNNING, SUCCEEDED, FAILED or REMOVED (any case)",
    )
    parser.add_argument("--project", help="only this project's jobs")
    from lfv_monitor.commands.audit_common import add_common_options

    add_common_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lfv_monitor.commands.audit_common import run_query

    return run_query(
        args,
        "lfv-monitor jobs",
        lambda q, token: q.jobs(
            args.status,
            project=args.project,
            limit=args.limit,
            next_token=token,
            account=args.job_account,
            region=args.job_region,
        ),
        lambda items, out: render_jobs(items, out, title=f"Jobs now {args.status.upper()}"),
    )


def render_jobs(items: list[Any], out: TextIO, *, title: str) -> None:
    from rich.table import Table

    from lfv_monitor.commands.audit_common import console, short, when
    from lfv_monitor.commands.safe_output import printable

    table = Table(title=printable(title), title_justify="left")
    for column in ("project", "job", "created (UTC)", "status", "since (UTC)", "v", "message"):
        table.add_column(column, overflow="fold" if column == "message" else "ellipsis")
    for s in items:
        status = printable(s.status or "-")
        table.add_row(
            printable(s.project),
            printable(s.job),
            when(s.created_at),
            status if not s.removed else f"gone ({status})",
            when(s.observed_at),
            str(s.version),
            short(s.status_message) + (" [cut]" if s.status_message_truncated else ""),
        )
    console(out).print(table)
