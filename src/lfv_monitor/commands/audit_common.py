"""What ``history``, ``changes`` and ``jobs`` share: flags, the query object, output, errors.

Every piece of stored service text is printed through ``safe_output`` (escaped for the terminal,
formula-safe in CSV, lossless JSON with unsafe characters as ``\\uXXXX``).

Exit codes: 0 answered (even with no rows), 1 no history for the named project/job or the
table could not be read, 2 bad input (names, time range, page token, missing table name).
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from pydantic import BaseModel

    from lfv_monitor.audit import AuditQueries
    from lfv_monitor.domain.targets import Target

OUTPUTS = ("table", "json", "csv")
TIME_HELP = "a relative age (30m, 24h, 7d, 2w) or an ISO date/time (2026-11-01, 2026-11-01T08:00Z)"


def add_common_options(parser: argparse.ArgumentParser) -> None:
    from lfv_monitor.audit.queries import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
    from lfv_monitor.commands.aws_options import add_aws_options

    out = parser.add_argument_group("output and paging")
    out.add_argument(
        "-o",
        "--output",
        choices=OUTPUTS,
        default="table",
        help="table (default, for people), json (one page object) or csv (for spreadsheets)",
    )
    out.add_argument(
        "--limit",
        type=int,
        default=DEFAULT_PAGE_SIZE,
        metavar="N",
        help=f"records per page, 1-{MAX_PAGE_SIZE} (default {DEFAULT_PAGE_SIZE})",
    )
    out.add_argument(
        "--next-token",
        metavar="TOKEN",
        help="continue after a previous page (the token it printed)",
    )
    out.add_argument(
        "--all", action="store_true", help="follow every page and print all records at once"
    )
    parser.add_argument("--table", help="the monitor's DynamoDB table (default: TABLE_NAME)")
    target = parser.add_argument_group(
        "target",
        "Which of the monitor's targets (account and region) the jobs are in; default the "
        "stack's own. Not --region: that is where the table is.",
    )
    target.add_argument(
        "--job-account", metavar="ACCOUNT", help="the jobs' AWS account id (12 digits)"
    )
    target.add_argument("--job-region", metavar="REGION", help="the jobs' AWS region")
    add_aws_options(parser)


def run_query(
    args: argparse.Namespace,
    prog: str,
    ask: Callable[[AuditQueries, str | None], Any],
    render_table: Callable[[list[Any], TextIO], None],
    *,
    out: TextIO | None = None,
) -> int:
    """Run ``ask(queries, token)`` (page by page with ``--all``) and print the result."""
    from lfv_monitor.audit import AuditQueries, InvalidQueryError, NoHistoryError
    from lfv_monitor.commands.aws_options import apply_aws_options
    from lfv_monitor.commands.safe_output import json_text, printable
    from lfv_monitor.commands.streams import logs_to_stderr
    from lfv_monitor.domain.errors import StoreError

    out = out or sys.stdout
    logs_to_stderr(verbose=False)
    apply_aws_options(args)
    table = args.table or os.environ.get("TABLE_NAME")
    if not table:
        print(f"{prog}: no table: pass --table or set TABLE_NAME", file=sys.stderr)
        return 2
    try:
        queries = AuditQueries(table, home=stack_home(args))
        page = ask(queries, args.next_token)
        items = list(page.items)
        while args.all and page.next_token:
            page = ask(queries, page.next_token)
            items += page.items
    except InvalidQueryError as exc:
        print(f"{prog}: {printable(str(exc))}", file=sys.stderr)
        return 2
    except NoHistoryError as exc:
        print(f"{prog}: {printable(str(exc))}", file=sys.stderr)
        return 1
    except StoreError as exc:
        print(f"{prog}: could not read the audit history: {printable(str(exc))}", file=sys.stderr)
        return 1
    next_token = page.next_token
    if args.output == "json":
        body = {
            "items": [i.model_dump(mode="json", by_alias=True) for i in items],
            "nextToken": next_token,
        }
        out.write(json_text(body) + "\n")
    elif args.output == "csv":
        write_csv(items, out)
        if next_token:
            print(f"more records: --next-token {next_token}", file=sys.stderr)
    else:
        render_table(items, out)
        print(
            f"more records: {prog} ... --next-token {next_token}"
            if next_token
            else f"{len(items)} record{'s' if len(items) != 1 else ''}",
            file=out,
        )
    return 0


def stack_home(args: argparse.Namespace) -> Target | None:
    """The stack's own account and region, needed only when a target is named (its records
    keep the single-account keys): MONITOR_ACCOUNT_ID, else the caller's account (STS
    GetCallerIdentity), and the region the table is read in. Raises ``InvalidQueryError``
    when they cannot be told."""
    from botocore.exceptions import BotoCoreError, ClientError

    from lfv_monitor.audit import InvalidQueryError
    from lfv_monitor.clients import aws_client, new_session
    from lfv_monitor.domain.errors import ConfigurationError
    from lfv_monitor.domain.targets import parse_target

    if not (getattr(args, "job_account", None) or getattr(args, "job_region", None)):
        return None
    session = new_session()
    account = os.environ.get("MONITOR_ACCOUNT_ID", "").strip()
    try:
        if not account:
            account = str(aws_client("sts", session).get_caller_identity()["Account"])
        return parse_target(f"{account}:{session.region_name}", where="the stack's own target")
    except (ConfigurationError, BotoCoreError, ClientError) as exc:
        raise InvalidQueryError(
            f"--job-account/--job-region need the stack's own account and region ({exc}); "
            "set MONITOR_ACCOUNT_ID and pass --region"
        ) from None


def write_csv(items: list[BaseModel], out: TextIO) -> None:
    from lfv_monitor.commands.safe_output import csv_cell

    rows = [i.model_dump(mode="json", by_alias=True) for i in items]
    if not rows:
        return
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {
                k: csv_cell(";".join(v) if isinstance(v, list) else ("" if v is None else v))
                for k, v in row.items()
            }
        )


def console(out: TextIO) -> Any:
    from rich.console import Console

    width = None if out.isatty() else 200
    # No markup or emoji codes: a status message "[/]" or ":fire:" is text, not a style.
    return Console(
        file=out, width=width, highlight=False, soft_wrap=False, markup=False, emoji=False
    )


def when(value: Any) -> str:
    return "-" if value is None else value.strftime("%Y-%m-%d %H:%M:%S")


def short(text: str | None, limit: int = 120) -> str:
    from lfv_monitor.commands.safe_output import one_line

    return one_line(text, limit)


def render_changes(items: list[Any], out: TextIO, *, title: str, with_job: bool = True) -> None:
    from rich.table import Table

    from lfv_monitor.commands.safe_output import printable

    table = Table(title=printable(title), title_justify="left")
    table.add_column("observed (UTC)", no_wrap=True)
    if with_job:
        table.add_column("project")
        table.add_column("job")
    table.add_column("v", justify="right")
    table.add_column("job created (UTC)", no_wrap=True)  # the incarnation
    table.add_column("change")
    table.add_column("status")
    table.add_column("message", overflow="fold")
    table.add_column("observer")
    for c in items:
        status = f"{c.previous_status or '-'} → {c.status or '-'}"
        if c.skipped_states:
            status += f" (skipped {', '.join(c.skipped_states)})"
        row = [when(c.observed_at)]
        if with_job:
            row += [c.project, c.job]
        row += [
            str(c.version),
            when(c.created_at),
            c.change_type,
            status,
            short(c.status_message) + (" [cut]" if c.status_message_truncated else ""),
            c.observer,
        ]
        table.add_row(*(printable(str(cell)) for cell in row))
    console(out).print(table)
