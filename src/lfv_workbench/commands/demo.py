"""``lfv-monitor demo`` (what ``make demo`` runs): the whole product, live, in about 20 seconds.

It starts the local stack (``lfv_workbench.local.up.LocalStack``: moto + the simulator +
template.yaml's resources) with the simulator's clock frozen, plays a scenario one virtual minute
per poll cycle through the Lambda handler (``lfv_workbench.local.demo.play``), and shows each
change as the bus rule's queue, an email reader and a Slack channel receive it.  On a terminal
the view is live (rich); otherwise (a pipe, CI) it prints plain lines; ``--json`` prints only the
summary.  Exits 1 when the simulator, the audit trail and the deliveries disagree.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from typing import TYPE_CHECKING, Any, TextIO

from lfv_monitor.commands.safe_output import json_text, one_line, printable

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderResult

    from lfv_monitor.domain.models import Change, JobKey
    from lfv_workbench.local.demo import CycleOutcome, DemoResult
    from lfv_workbench.local.up import LocalStackInfo

#: Wall seconds between cycles on a terminal, so a person can follow (0 elsewhere).
INTERACTIVE_PACE = 0.6
STATUS_STYLE = {
    "CREATED": "cyan",
    "RUNNING": "yellow",
    "SUCCEEDED": "green",
    "FAILED": "bold red",
    "REMOVED": "magenta",
}


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "demo",
        help="watch the product work on the embedded local stack (no AWS account needed)",
        description=(
            "Start the embedded local stack (moto + the Lookout for Vision simulator + "
            "template.yaml's resources), play a scenario on the simulator's virtual clock and run "
            "the real poll cycle, through the Lambda handler, every virtual minute. Shows the "
            "jobs, each event the bus rule delivers, each notification as email and Slack show "
            "it, then one job's audit history and a summary: the changes the simulator made, the "
            "ones recorded in DynamoDB and the ones delivered, which must match (exit 1 if not)."
        ),
    )
    parser.add_argument(
        "--scenario",
        metavar="FILE",
        help="scenario to play (default: the packaged demo: "
        "src/lfv_workbench/simulator/scenarios/demo.json; format in docs/simulator.md)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print only the summary, as JSON (for scripts)"
    )
    parser.add_argument(
        "--plain",
        action="store_true",
        help="plain lines even on a terminal (the default without a terminal or under CI)",
    )
    parser.add_argument(
        "--pace",
        type=float,
        metavar="SECONDS",
        help=f"wall seconds between cycles (default {INTERACTIVE_PACE} on a terminal, else 0)",
    )
    parser.set_defaults(func=run)


def _interactive(args: argparse.Namespace) -> bool:
    return (
        sys.stdout.isatty()
        and not args.json
        and not args.plain
        and not os.environ.get("CI")
        and os.environ.get("TERM") != "dumb"
    )


def _quiet_logs() -> None:
    """The function's JSON logs would drown the view; what they say is shown instead."""
    from lfv_monitor.observability import logger

    logger.setLevel("CRITICAL")
    logging.getLogger("lfv_monitor").setLevel(logging.CRITICAL)


def run(args: argparse.Namespace) -> int:
    from lfv_workbench.local.demo import play
    from lfv_workbench.local.stack import StackDeployError
    from lfv_workbench.local.up import LocalStack, LocalStackError
    from lfv_workbench.simulator import ScenarioError, demo_scenario_path, load_scenario_file

    if args.pace is not None and args.pace < 0:
        print(f"lfv-monitor demo: --pace must be >= 0, got {args.pace}", file=sys.stderr)
        return 2
    path = args.scenario or str(demo_scenario_path())
    try:
        scenario = load_scenario_file(path)
    except ScenarioError as exc:
        print(f"lfv-monitor demo: scenario {path} refused: {exc}", file=sys.stderr)
        return 2
    # Before the handler's module is imported: Powertools reads it when it builds ``metrics``.
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    interactive = _interactive(args)
    pace = args.pace if args.pace is not None else (INTERACTIVE_PACE if interactive else 0.0)
    _quiet_logs()
    view: View = (
        QuietView() if args.json else (LiveView() if interactive else PlainView(sys.stdout))
    )
    jobs = sum(len(p.jobs) for p in scenario.projects)
    view.starting(os.path.basename(path), len(scenario.projects), jobs)
    started = time.monotonic()
    try:
        with LocalStack(speed=0, scenario=scenario) as stack:
            view.started(stack.info, time.monotonic() - started)
            try:
                result = play(stack, scenario, on_cycle=view.cycle, pace=pace, scenario_name=path)
            finally:
                view.stop()
    except (LocalStackError, StackDeployError) as exc:
        view.stop()
        print(f"lfv-monitor demo: the local stack did not start: {exc}", file=sys.stderr)
        return 1
    result.wall_seconds = time.monotonic() - started
    if args.json:
        print(json_text(result.summary()))
    else:
        view.finish(result)
    return 0 if result.match else 1


# ---------------------------------------------------------------------------------- views


def _hhmmss(outcome: CycleOutcome) -> str:
    return outcome.time.strftime("%H:%M:%S")


def _arrow(change: Change) -> str:
    return f"{change.previous_status or 'new'} -> {change.status or '-'}"


def _one_line(text: str | None, limit: int = 70) -> str:
    return one_line(text, limit)


def _lines(text: str) -> str:
    return "\n".join(printable(line) for line in text.splitlines())


def _event_line(event: dict[str, Any]) -> str:
    d = event["detail"]
    return (
        f"{d['changeType']:<14} {d['projectName']}/{d['jobName']} "
        f"{d['previousStatus'] or 'new'} -> {d['status']}"
    )


def _summary_line(result: DemoResult) -> str:
    s = result.summary()
    c = s["changes"]
    verdict = (
        "all match, each delivered once"
        if result.match
        else "MISMATCH: " + "; ".join(result.differences())
    )
    return (
        f"{c['simulator']} changes made by the simulator, {c['recorded']} recorded in DynamoDB, "
        f"{c['events']} events delivered by the bus rule, {c['notifications']} notifications "
        f"delivered by SNS: {verdict}. {s['cycles']} cycles ({s['throttledCycles']} throttled), "
        f"{s['virtualStart'][11:19]}-{s['virtualEnd'][11:19]} virtual, "
        f"{result.wall_seconds:.1f} s wall."
    )


class FixedHeight:
    """Renders a layout ``height`` lines tall (a Layout alone takes the whole terminal)."""

    def __init__(self, renderable: Any, height: int) -> None:
        self.renderable = renderable
        self.height = height

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield from console.render(self.renderable, options.update(height=self.height))


class View:
    def starting(self, scenario: str, projects: int, jobs: int) -> None: ...
    def started(self, info: LocalStackInfo, seconds: float) -> None: ...
    def cycle(self, outcome: CycleOutcome) -> None: ...
    def stop(self) -> None: ...
    def finish(self, result: DemoResult) -> None: ...


class QuietView(View):
    """``--json``: nothing but the summary."""


class PlainView(View):
    """Plain lines, for pipes, logs and CI."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def _print(self, text: str = "") -> None:
        print(printable(text), file=self.out, flush=True)

    def starting(self, scenario: str, projects: int, jobs: int) -> None:
        self._print(
            f"lfv-monitor demo: {scenario} ({projects} projects, {jobs} jobs), "
            "one poll cycle per virtual minute through the Lambda handler"
        )

    def started(self, info: LocalStackInfo, seconds: float) -> None:
        self._print(
            f"local stack up in {seconds:.1f} s: AWS emulator {info.aws_endpoint_url}, "
            f"simulator {info.simulator_url}, table {info.table_name}"
        )

    def cycle(self, outcome: CycleOutcome) -> None:
        stamp = f"[{outcome.number:>2}/{outcome.total} {_hhmmss(outcome)}]"
        pad = " " * len(stamp)
        summary = outcome.summary
        if summary.get("baseline"):
            self._print(
                f"{stamp} baseline: {len(outcome.recorded)} jobs recorded silently "
                "(a new stack announces nothing it did not see change)"
            )
            return
        if outcome.throttled:
            self._print(
                f"{stamp} throttled: {summary.get('throttles', 0)} calls refused "
                "(ThrottlingException); the next cycle catches up"
            )
        elif not outcome.recorded:
            self._print(f"{stamp} no change")
        for change in outcome.recorded:
            self._print(
                f"{stamp} {change.change_type.value:<14} {change.key}: {_arrow(change)}"
                + (f'  "{_one_line(change.status_message, 60)}"' if change.status_message else "")
            )
        for event in outcome.events:
            self._print(f"{pad} rule  <- {_event_line(event)}")
        for notification in outcome.notifications:
            self._print(f"{pad} email <- Subject: {notification.subject}")
            self._print(f"{pad} slack <- {notification.chat_title}")

    def finish(self, result: DemoResult) -> None:
        if result.history_key is not None:
            self._print()
            self._print(
                f"Audit history of {result.history_key} (DynamoDB Query "
                f"pk = JOB#{result.history_key.project}#{result.history_key.job}):"
            )
            for change in result.history:
                self._print(
                    f"  v{change.version} {change.observed_at:%H:%M:%S} "
                    f"{change.change_type.value:<14} {change.status or '-':<10} "
                    f"{_one_line(change.status_message, 60)}"
                )
        self._print()
        self._print("Summary: " + _summary_line(result))


class LiveView(View):
    """A live terminal view (rich): jobs, the rule's events, email, Slack, progress."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.live import Live

        # A fixed file: the demo silences the function's own prints with redirect_stdout.
        self.console: Console = Console(file=sys.stdout)
        self.live: Live | None = None
        self.jobs: dict[JobKey, Change] = {}
        self.changed: set[JobKey] = set()
        self.events: list[str] = []
        self.last: CycleOutcome | None = None
        self.email: tuple[str, str] | None = None
        self.slack: tuple[str, str] | None = None
        self.throttled = 0
        self.changes = 0
        self.status: Any = None
        self.title = ""

    def starting(self, scenario: str, projects: int, jobs: int) -> None:
        self.title = f"lfv-monitor demo · {scenario} · {projects} projects, {jobs} jobs"
        self.status = self.console.status(
            "Starting the local stack: moto, the simulator, template.yaml's resources…"
        )
        self.status.start()

    def started(self, info: LocalStackInfo, seconds: float) -> None:
        from rich.live import Live

        if self.status is not None:
            self.status.stop()
        self.console.print(
            f"[green]✓[/] local stack up in {seconds:.1f} s "
            f"(AWS emulator {info.aws_endpoint_url}, simulator {info.simulator_url})"
        )
        self.live = Live(self._render(), console=self.console, refresh_per_second=8, screen=False)
        self.live.start()

    def cycle(self, outcome: CycleOutcome) -> None:
        from rich.markup import escape

        self.last = outcome
        self.changed = {change.key for change in outcome.recorded}
        for change in outcome.recorded:
            self.jobs[change.key] = change
        if not outcome.summary.get("baseline"):
            self.changes += len(outcome.recorded)
        self.throttled += int(outcome.throttled)
        for event in outcome.events:
            status = event["detail"]["status"]
            style = STATUS_STYLE.get(status, "white")
            self.events.append(
                f"[dim]{_hhmmss(outcome)}[/] [{style}]{escape(printable(_event_line(event)))}[/]"
            )
        self.events = self.events[-12:]
        if outcome.notifications:
            last = outcome.notifications[-1]
            self.email = (last.subject, last.email)
            self.slack = (last.chat_title, last.chat_description)
        if self.live is not None:
            self.live.update(self._render())

    def stop(self) -> None:
        if self.status is not None:
            self.status.stop()
        if self.live is not None:
            self.live.update(self._render())
            self.live.stop()
            self.live = None

    def _render(self) -> Any:
        from rich.console import Group
        from rich.emoji import Emoji
        from rich.layout import Layout
        from rich.markup import escape
        from rich.panel import Panel
        from rich.progress_bar import ProgressBar
        from rich.table import Table
        from rich.text import Text

        table = Table(expand=True, box=None, header_style="bold")
        table.add_column("project / job", no_wrap=True)
        table.add_column("status", no_wrap=True)
        table.add_column("status message", ratio=1, overflow="ellipsis", no_wrap=True)
        table.add_column("since", no_wrap=True)
        table.add_column("v", justify="right")
        for key in sorted(self.jobs):
            change = self.jobs[key]
            style = STATUS_STYLE.get(change.status or "", "white")
            fresh = key in self.changed
            table.add_row(
                Text(printable(str(key)), style="bold" if fresh else ""),
                Text(
                    _one_line(change.status, 40) or "-", style=style + (" reverse" if fresh else "")
                ),
                Text(_one_line(change.status_message, 80)),
                Text(f"{change.observed_at:%H:%M:%S}", style="dim"),
                Text(str(change.version), style="dim"),
            )
        newest_first = "\n".join(reversed(self.events))
        events = Text.from_markup(newest_first or "[dim](nothing yet)[/]")
        if self.email:
            subject, body = self.email
            lines = body.splitlines()[2:16]
            email: Any = Group(
                Text(printable(f"Subject: {subject}"), style="bold"),
                Text(_lines("\n".join(lines)), style="white"),
            )
        else:
            email = Text("(no notification yet)", style="dim")
        if self.slack:
            title, description = self.slack
            slack: Any = Group(
                Text(Emoji.replace(printable(title)), style="bold"),
                Text(Emoji.replace(_lines(description.replace("```", "")))),
            )
        else:
            slack = Text("(no notification yet)", style="dim")

        last = self.last
        total = last.total if last else 1
        done = last.number if last else 0
        if last is None:
            progress = Text("waiting for the first cycle…", style="dim")
        else:
            state = (
                "[bold red]throttled: the service refused every call; the next cycle catches up[/]"
                if last.throttled
                else (
                    "baseline: jobs recorded silently"
                    if last.summary.get("baseline")
                    else f"{len(last.recorded)} change(s) this cycle"
                )
            )
            progress = Text.from_markup(
                f"cycle [bold]{done}/{total}[/] · virtual time [bold]"
                f"{last.time:%Y-%m-%d %H:%M:%S}Z[/] · {self.changes} changes announced · "
                f"{self.throttled} throttled cycle(s) · {state}"
            )
        layout = Layout()
        layout.split_column(
            Layout(
                Panel(
                    Group(progress, ProgressBar(total=total, completed=done)),
                    title=escape(self.title),
                ),
                size=4,
            ),
            Layout(name="body"),
        )
        layout["body"].split_row(
            Layout(
                Panel(table, title="Jobs (as the monitor recorded them in DynamoDB)"),
                ratio=5,
            ),
            Layout(name="right", ratio=4),
        )
        layout["body"]["right"].split_column(
            Layout(
                Panel(events, title="EventBridge rule → SQS (every change event, newest first)")
            ),
            Layout(Panel(email, title="Email (SNS email subscription)")),
            Layout(Panel(slack, title="Slack (Amazon Q custom notification)")),
        )
        return FixedHeight(layout, max(24, min(self.console.size.height - 2, 40)))

    def finish(self, result: DemoResult) -> None:
        from rich.panel import Panel
        from rich.table import Table
        from rich.text import Text

        if result.history_key is not None:
            key = result.history_key
            title = f"Audit history of {key} (DynamoDB Query pk = JOB#{key.project}#{key.job})"
            table = Table(title=Text(printable(title)), expand=True)
            for column in ("v", "observed (virtual)", "change", "status", "status message"):
                table.add_column(column)
            for change in result.history:
                table.add_row(
                    str(change.version),
                    f"{change.observed_at:%H:%M:%S}",
                    change.change_type.value,
                    Text(printable(change.status or "-")),
                    Text(printable(change.status_message or "")),
                    style=STATUS_STYLE.get(change.status or "", ""),
                )
            self.console.print(table)
        style = "green" if result.match else "bold red"
        summary = Text(printable(_summary_line(result)))
        self.console.print(Panel(summary, title="Summary", border_style=style))
