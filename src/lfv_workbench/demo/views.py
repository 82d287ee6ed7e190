"""The demo's views: what a person (or a pipe) sees while ``play()`` runs.

``View`` is the interface the command drives (``starting``, ``started``, ``cycle`` after each
cycle, ``stop``, ``finish`` with the result); ``QuietView`` shows nothing (``--json``),
``PlainView`` prints plain lines (pipes, logs, CI), ``demo/live.py``'s ``LiveView`` a live
terminal view (rich). The text helpers below are shared by both.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TextIO

from lfv_monitor.commands.safe_output import one_line as _safe_one_line
from lfv_monitor.commands.safe_output import printable

if TYPE_CHECKING:
    from lfv_monitor.domain.models import Change
    from lfv_workbench.demo.accounting import CycleOutcome, DemoResult
    from lfv_workbench.demo.lanes import Lanes
    from lfv_workbench.local.up import LocalStackInfo

STATUS_STYLE = {
    "CREATED": "cyan",
    "RUNNING": "yellow",
    "SUCCEEDED": "green",
    "FAILED": "bold red",
    "REMOVED": "magenta",
}


def hhmmss(outcome: CycleOutcome) -> str:
    return outcome.time.strftime("%H:%M:%S")


def arrow(change: Change) -> str:
    return f"{change.previous_status or 'new'} -> {change.status or '-'}"


def one_line(text: str | None, limit: int = 70) -> str:
    return _safe_one_line(text, limit)


def lines(text: str) -> str:
    """``text``'s lines, each made printable (control characters escaped)."""
    return "\n".join(printable(line) for line in text.splitlines())


def event_line(event: dict[str, Any]) -> str:
    d = event["detail"]
    return (
        f"{d['changeType']:<14} {d['projectName']}/{d['jobName']} "
        f"{d['previousStatus'] or 'new'} -> {d['status']}"
    )


def summary_line(result: DemoResult) -> str:
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
        f"delivered by SNS{_lanes_text(s)}: {verdict}. {s['cycles']} cycles "
        f"({s['throttledCycles']} throttled), "
        f"{s['virtualStart'][11:19]}-{s['virtualEnd'][11:19]} virtual, "
        f"{result.wall_seconds:.1f} s wall."
    )


def _lanes_text(summary: dict[str, Any]) -> str:
    lanes = summary.get("lanes")
    if not lanes:
        return ""
    email, chat = lanes["email"], lanes["chat"]
    return (
        f", of which {email['delivered']} by email ({'/'.join(email['statuses']) or 'none'}) "
        f"and {chat['delivered']} to Slack ({'/'.join(chat['statuses']) or 'none'})"
    )


class View:
    def starting(self, scenario: str, projects: int, jobs: int) -> None: ...
    def started(self, info: LocalStackInfo, seconds: float) -> None: ...
    def filters(self, lanes: Lanes) -> None: ...
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

    def filters(self, lanes: Lanes) -> None:
        self._print("what a person receives, filtered as the stack filters it:")
        self._print(f"  {lanes.email_filter()}")
        self._print(f"  {lanes.chat_filter()}")

    def cycle(self, outcome: CycleOutcome) -> None:
        stamp = f"[{outcome.number:>2}/{outcome.total} {hhmmss(outcome)}]"
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
                f"{stamp} {change.change_type.value:<14} {change.key}: {arrow(change)}"
                + (f'  "{one_line(change.status_message, 60)}"' if change.status_message else "")
            )
        for event in outcome.events:
            self._print(f"{pad} rule  <- {event_line(event)}")
        for notification in outcome.emails:
            self._print(f"{pad} email <- Subject: {notification.subject}")
        for notification in outcome.chats:
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
                    f"{one_line(change.status_message, 60)}"
                )
        self._print()
        self._print("Summary: " + summary_line(result))
