"""``lfv-monitor history``: one job's recorded changes, oldest first."""

from __future__ import annotations

import argparse
from typing import Any

EXAMPLES = """\
examples:
  lfv-monitor history --project widgets --job cam-7
  lfv-monitor history --project widgets --job cam-7 --output json
  lfv-monitor history --project widgets --job cam-7 --limit 20 --next-token eyJwayI6...
  lfv-monitor history --project widgets --job cam-7 --all --output csv > cam-7.csv
  lfv-monitor history --project plant --job cam --job-account 111111111111 --job-region eu-west-1
"""


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "history",
        help="one job's full history, oldest first",
        description=(
            "Print every recorded change of one model packaging job, oldest first: when the "
            "monitor observed it, the status before and after, the status message and who "
            "recorded it. Exits 1 when the table holds no history for the job."
        ),
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--project", required=True, help="Lookout for Vision project name")
    parser.add_argument("--job", required=True, help="model packaging job name")
    from lfv_monitor.commands.audit_common import add_common_options

    add_common_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lfv_monitor.commands.audit_common import render_changes, run_query

    return run_query(
        args,
        "lfv-monitor history",
        lambda q, token: q.job_history(
            args.project,
            args.job,
            limit=args.limit,
            next_token=token,
            account=args.job_account,
            region=args.job_region,
        ),
        lambda items, out: render_changes(
            items, out, title=f"History of {args.project}/{args.job}", with_job=False
        ),
    )
