"""The demo's live terminal view (rich): jobs, the rule's events, email, Slack, progress."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from lfv_monitor.commands.safe_output import printable
from lfv_workbench.demo.views import (
    STATUS_STYLE,
    View,
    event_line,
    hhmmss,
    lines,
    one_line,
    summary_line,
)

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderResult

    from lfv_monitor.domain.models import Change, JobKey
    from lfv_workbench.demo.accounting import CycleOutcome, DemoResult
    from lfv_workbench.demo.lanes import Lanes
    from lfv_workbench.local.up import LocalStackInfo


class FixedHeight:
    """Renders a layout ``height`` lines tall (a Layout alone takes the whole terminal)."""

    def __init__(self, renderable: Any, height: int) -> None:
        self.renderable = renderable
        self.height = height

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield from console.render(self.renderable, options.update(height=self.height))


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
        self.email_title = "Email (SNS email subscription)"
        self.slack_title = "Slack (Amazon Q custom notification)"

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

    def filters(self, lanes: Lanes) -> None:
        self.email_title = "Email · " + lanes.email_filter().removeprefix("email: ")
        self.slack_title = "Slack · " + lanes.chat_filter().removeprefix("slack: ")

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
                f"[dim]{hhmmss(outcome)}[/] [{style}]{escape(printable(event_line(event)))}[/]"
            )
        self.events = self.events[-12:]
        if outcome.emails:
            last = outcome.emails[-1]
            self.email = (last.subject, last.email)
        if outcome.chats:
            last = outcome.chats[-1]
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
                    one_line(change.status, 40) or "-", style=style + (" reverse" if fresh else "")
                ),
                Text(one_line(change.status_message, 80)),
                Text(f"{change.observed_at:%H:%M:%S}", style="dim"),
                Text(str(change.version), style="dim"),
            )
        newest_first = "\n".join(reversed(self.events))
        events = Text.from_markup(newest_first or "[dim](nothing yet)[/]")
        if self.email:
            subject, body = self.email
            shown = body.splitlines()[2:16]
            email: Any = Group(
                Text(printable(f"Subject: {subject}"), style="bold"),
                Text(lines("\n".join(shown)), style="white"),
            )
        else:
            email = Text("(nothing delivered yet)", style="dim")
        if self.slack:
            title, description = self.slack
            slack: Any = Group(
                Text(Emoji.replace(printable(title)), style="bold"),
                Text(Emoji.replace(lines(description.replace("```", "")))),
            )
        else:
            slack = Text("(nothing delivered yet)", style="dim")

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
            Layout(Panel(email, title=escape(self.email_title))),
            Layout(Panel(slack, title=escape(self.slack_title))),
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
        summary = Text(printable(summary_line(result)))
        self.console.print(Panel(summary, title="Summary", border_style=style))
