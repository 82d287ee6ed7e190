"""The demo's engine: play a scenario on the local stack, one real poll cycle a virtual minute.

``play()`` runs the Lambda handler (``lambda_handler(scheduled_event(), LocalContext(),
service=monitor)``) against the local stack while it moves the simulator's frozen clock by
``CYCLE_SECONDS`` between cycles, reads the two capture queues after each cycle, and at the end
compares three accounts of what happened (``demo/accounting.py``). The views that show it are
in ``demo/views.py`` (plain lines) and ``demo/live.py`` (rich); ``lfv-monitor demo`` is
``commands/demo.py``.
"""

from __future__ import annotations

import io
import time
from collections import Counter
from collections.abc import Callable
from contextlib import redirect_stdout
from datetime import datetime, timedelta
from typing import Any

from lfv_monitor.domain.models import ChangeType, JobKey
from lfv_workbench.demo.accounting import (
    ChangeId,
    CycleOutcome,
    DemoResult,
    Notification,
    change_id,
    simulator_changes,
)
from lfv_workbench.demo.lanes import Lanes, stack_lanes
from lfv_workbench.local.emulated import patched_environ
from lfv_workbench.local.up import LocalStack, drain
from lfv_workbench.simulator import Scenario

#: Seconds between two cycles (the schedule's ``rate(1 minute)``).
CYCLE_SECONDS = 60.0
#: The first cycle runs this long after the scenario's start (half a period: clear of the
#: whole minutes at which scenarios usually change states).
FIRST_CYCLE_AT = 30.0
#: Cycles after the scenario's last scripted moment, so every change is seen and delivered.
TAIL_CYCLES = 2
#: The monitor's client-side rate in the demo: the frozen clock makes a cycle's calls instant,
#: so the demo lifts the simulator's wall-clock quota and lets the client go fast.
DEMO_RATE_PER_SECOND = "100"


def cycle_offsets(
    scenario: Scenario, *, first: float = FIRST_CYCLE_AT, every: float = CYCLE_SECONDS
) -> list[float]:
    """Cycle times from ``first`` until ``TAIL_CYCLES`` cycles after the last scripted moment."""
    moments = [0.0]
    for project in scenario.projects:
        moments.append(project.appears_at)
        if project.deleted_at is not None:
            moments.append(project.deleted_at)
        for job in project.jobs:
            moments.extend(step.at for step in job.timeline)
            if job.deleted_at is not None:
                moments.append(job.deleted_at)
    for rules in scenario.faults.values():
        if isinstance(rules, dict):
            moments.extend(float(w.get("to", 0)) for w in rules.get("throttle_windows") or [])
    last = max(moments)
    offsets = [first]
    while offsets[-1] < last:
        offsets.append(offsets[-1] + every)
    last_cycle = offsets[-1]
    offsets.extend(last_cycle + every * (i + 1) for i in range(TAIL_CYCLES))
    return offsets


def demo_faults(scenario: Scenario) -> dict[str, Any]:
    """The scenario's faults with the wall-clock rate quota lifted (the clock is frozen, so a
    cycle's calls all happen at once); throttle windows, on the virtual clock, stay."""
    faults: dict[str, Any] = {
        key: dict(value) if isinstance(value, dict) else value
        for key, value in scenario.faults.items()
    }
    star = faults.setdefault("*", {})
    star["rate_per_second"] = None
    for key, value in faults.items():
        if key != "*" and isinstance(value, dict):
            value.pop("rate_per_second", None)
    return faults


def play(
    stack: LocalStack,
    scenario: Scenario,
    *,
    on_cycle: Callable[[CycleOutcome], None] = lambda outcome: None,
    pace: float = 0.0,
    scenario_name: str | None = None,
    lanes: Lanes | None = None,
) -> DemoResult:
    """Play ``scenario`` (already loaded in ``stack``'s simulator, clock frozen) and return the
    comparison.  ``on_cycle`` sees each cycle as it ends; ``pace`` wall seconds pass between
    cycles so a person can follow; ``lanes``: the email and chat filters (default: those of
    the template the stack deployed)."""
    started = time.monotonic()
    lanes = lanes or stack_lanes(stack)
    stack.control.set_faults(demo_faults(scenario))
    offsets = cycle_offsets(scenario)
    with patched_environ(demo_environment(stack)):
        player = _Player(stack, scenario.start_time, lanes)
        cycles: list[CycleOutcome] = []
        for number, offset in enumerate(offsets, start=1):
            cycles.append(player.cycle(number, len(offsets), offset))
            on_cycle(cycles[-1])
            if pace and number < len(offsets):
                time.sleep(pace)
        state = stack.control.state()
        keys = [JobKey(j["project"], j["job"]) for j in state["jobs"]]
        histories = {key: player.store.history(key) for key in keys}
    result = _account(cycles, state, scenario, histories)
    result.lanes = lanes
    result.emails, _ = _delivered([n.detail for c in cycles for n in c.emails])
    result.chats, _ = _delivered([n.detail for c in cycles for n in c.chats])
    result.wall_seconds = time.monotonic() - started
    result.scenario = scenario_name
    return result


def demo_environment(stack: LocalStack) -> dict[str, str]:
    """The function's environment on the local stack, tuned for a frozen clock."""
    return {
        **stack.info.env(),
        "LFV_RATE_PER_SECOND": DEMO_RATE_PER_SECOND,
        "ACTIVE_POLL_INTERVAL": "0",
        # botocore backs off on the wall clock while the simulator's clock stands still, so a
        # retry could never leave a throttle window: one attempt, and the next cycle catches up.
        "LFV_MAX_ATTEMPTS": "1",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }


class _Player:
    """One warm monitor on the virtual clock; ``cycle()`` runs the handler at an offset."""

    def __init__(self, stack: LocalStack, start_time: datetime, lanes: Lanes) -> None:
        import boto3

        from lfv_monitor.bootstrap import build_monitor
        from lfv_monitor.clients import register_service_model

        self.stack = stack
        self.lanes = lanes
        self.start_time = start_time
        self.offset = 0.0
        session = register_service_model(boto3.Session())
        self.monitor = build_monitor(session=session, clock=self.now, observer="lfv-monitor demo")
        self.store: Any = self.monitor.cycle.store
        self.sqs = stack.client("sqs")

    def now(self) -> datetime:
        return self.start_time + timedelta(seconds=self.offset)

    def cycle(self, number: int, total: int, offset: float) -> CycleOutcome:
        from lfv_monitor.handlers.poll import lambda_handler
        from lfv_monitor.lambda_context import LocalContext, scheduled_event

        self.stack.control.set_time(offset)
        self.offset = offset
        # What the function prints goes to its log stream in Lambda; here, nowhere (Powertools
        # prints the ColdStart metric even with POWERTOOLS_METRICS_DISABLED).
        with redirect_stdout(io.StringIO()):
            summary = lambda_handler(
                scheduled_event(),
                LocalContext(function_name="lfv-monitor-demo", timeout_seconds=55),
                service=self.monitor,
            )
        report = self.monitor.last_report
        info = self.stack.info
        notifications = [
            Notification.from_envelope(e) for e in drain(self.sqs, info.notifications_queue_url)
        ]
        return CycleOutcome(
            number=number,
            total=total,
            offset=offset,
            time=self.now(),
            summary=summary,
            recorded=list(report.recorded) if report else [],
            events=drain(self.sqs, info.events_queue_url),
            notifications=notifications,
            emails=[n for n in notifications if self.lanes.to_email(n)],
            chats=[n for n in notifications if self.lanes.to_chat(n)],
        )


def _delivered(details: list[dict[str, Any]]) -> tuple[Counter[ChangeId], int]:
    """The changes delivered, and how many deliveries repeated an event id."""
    ids = Counter(d["eventId"] for d in details)
    counted = Counter(
        change_id(d["projectName"], d["jobName"], d["status"], d["statusMessage"]) for d in details
    )
    return counted, sum(n - 1 for n in ids.values() if n > 1)


def _account(
    cycles: list[CycleOutcome],
    state: dict[str, Any],
    scenario: Scenario,
    histories: dict[JobKey, list[Any]],
) -> DemoResult:
    complete = [c.offset for c in cycles if c.complete]
    baseline_at = next((c.offset for c in cycles if c.summary.get("baseline")), None)
    events, duplicate_events = _delivered([e["detail"] for c in cycles for e in c.events])
    notifications, duplicate_notifications = _delivered(
        [n.detail for c in cycles for n in c.notifications]
    )
    recorded = Counter(
        change_id(key.project, key.job, change.status, change.status_message)
        for key, history in histories.items()
        for change in history
        if change.change_type is not ChangeType.BASELINE
    )
    history_key = max(
        histories, key=lambda k: (len(histories[k]), str(k)), default=None
    )  # the job with the longest story
    return DemoResult(
        cycles=cycles,
        simulator=simulator_changes(state, scenario, complete, baseline_at),
        recorded=recorded,
        events=events,
        notifications=notifications,
        duplicate_events=duplicate_events,
        duplicate_notifications=duplicate_notifications,
        history_key=history_key,
        history=histories.get(history_key, []) if history_key else [],
        start_time=scenario.start_time,
    )
