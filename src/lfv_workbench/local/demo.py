"""The demo's engine: play a scenario on the local stack, one real poll cycle a virtual minute.

``play()`` runs the Lambda handler (``lambda_handler(scheduled_event(), LocalContext(),
service=monitor)``) against the local stack while it moves the simulator's frozen clock by
``cycle_seconds`` between cycles, reads the two capture queues after each cycle, and at the end
compares three accounts of what happened:

- **simulator**: the distinct states of each job at the times of the cycles that could read the
  service (``GET /_simulator/state`` histories, the scenario's deletions), the first cycle's
  states being the silent baseline. A job deleted while in progress counts as ``REMOVED`` (the
  monitor tracks in-progress jobs; a finished job is final);
- **recorded**: the jobs' history items in DynamoDB (``DynamoDBSnapshotStore.history``),
  BASELINE excluded;
- **delivered**: the events the bus rule put in its queue, and the notifications SNS put in the
  subscribed queue, each expected exactly once.

The rendering (rich or plain lines) lives in ``lfv_workbench.commands.demo``.
"""

from __future__ import annotations

import io
import json
import time
from collections import Counter
from collections.abc import Callable
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from lfv_monitor.domain.models import Change, ChangeType, JobKey, is_terminal
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
REMOVED = "REMOVED"

#: (project, job, status, status message): one change, as every account names it.
ChangeId = tuple[str, str, str, str | None]


def change_id(project: str, job: str, status: str | None, message: str | None) -> ChangeId:
    status = status or "-"
    return (project, job, status, None if status == REMOVED else message)


@dataclass(frozen=True)
class Notification:
    """One SNS notification as its subscribers see it.

    The capture queue receives SNS's envelope around the ``sqs`` body (the event detail); the
    ``email`` and chat (Amazon Q custom notification) bodies of the same message are pure
    functions of that detail and the subject, rebuilt here with the functions that built them.
    """

    subject: str
    detail: dict[str, Any]
    attributes: dict[str, str]
    email: str
    chat_title: str
    chat_description: str

    @classmethod
    def from_envelope(cls, envelope: dict[str, Any]) -> Notification:
        from lfv_monitor.domain.notifications import chat_notification, email_text

        subject = str(envelope.get("Subject") or "")
        detail: dict[str, Any] = json.loads(envelope["Message"])
        chat = chat_notification(detail, subject)["content"]
        attributes = {
            name: str(value.get("Value"))
            for name, value in (envelope.get("MessageAttributes") or {}).items()
        }
        return cls(
            subject=subject,
            detail=detail,
            attributes=attributes,
            email=email_text(detail, subject),
            chat_title=str(chat["title"]),
            chat_description=str(chat["description"]),
        )


@dataclass
class CycleOutcome:
    """What one cycle did and what reached the downstream queues."""

    number: int
    total: int
    offset: float
    time: datetime
    summary: dict[str, Any]
    recorded: list[Change]
    events: list[dict[str, Any]]
    notifications: list[Notification]

    @property
    def throttled(self) -> bool:
        return bool(self.summary.get("throttles")) or "Throttled" in self.summary.get("errors", {})

    @property
    def complete(self) -> bool:
        """The cycle read the whole service (no error, nothing left for later)."""
        return (
            not self.summary.get("unreachable")
            and not self.summary.get("errors")
            and bool(self.summary.get("listingComplete", True))
            and not self.summary.get("deadlineReached")
        )


@dataclass
class DemoResult:
    cycles: list[CycleOutcome]
    simulator: Counter[ChangeId]
    recorded: Counter[ChangeId]
    events: Counter[ChangeId]
    notifications: Counter[ChangeId]
    duplicate_events: int
    duplicate_notifications: int
    history_key: JobKey | None
    history: list[Change]
    start_time: datetime
    wall_seconds: float = 0.0
    scenario: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def match(self) -> bool:
        return (
            self.simulator == self.recorded == self.events == self.notifications
            and not self.duplicate_events
            and not self.duplicate_notifications
        )

    def differences(self) -> list[str]:
        problems = []
        for name, counted in (
            ("recorded", self.recorded),
            ("events", self.events),
            ("notifications", self.notifications),
        ):
            for item in sorted((self.simulator - counted).elements(), key=str):
                problems.append(f"{name}: missing {_describe(item)}")
            for item in sorted((counted - self.simulator).elements(), key=str):
                problems.append(f"{name}: unexpected {_describe(item)}")
        if self.duplicate_events:
            problems.append(f"events: {self.duplicate_events} delivered more than once")
        if self.duplicate_notifications:
            problems.append(
                f"notifications: {self.duplicate_notifications} delivered more than once"
            )
        return problems

    def summary(self) -> dict[str, Any]:
        last = self.cycles[-1] if self.cycles else None
        return {
            "scenario": self.scenario,
            "match": self.match,
            "cycles": len(self.cycles),
            "throttledCycles": sum(1 for c in self.cycles if c.throttled),
            "virtualStart": _iso(self.start_time),
            "virtualEnd": _iso(last.time) if last else _iso(self.start_time),
            "changes": {
                "simulator": sum(self.simulator.values()),
                "recorded": sum(self.recorded.values()),
                "events": sum(self.events.values()),
                "notifications": sum(self.notifications.values()),
            },
            "changesByType": dict(
                Counter(
                    change.change_type.value
                    for cycle in self.cycles
                    for change in cycle.recorded
                    if change.announce
                )
            ),
            "duplicates": {
                "events": self.duplicate_events,
                "notifications": self.duplicate_notifications,
            },
            "differences": self.differences(),
            "history": {
                "job": str(self.history_key) if self.history_key else None,
                "items": [
                    {
                        "version": c.version,
                        "observedAt": _iso(c.observed_at),
                        "changeType": c.change_type.value,
                        "status": c.status,
                        "statusMessage": c.status_message,
                    }
                    for c in self.history
                ],
            },
            "wallSeconds": round(self.wall_seconds, 2),
        }


def _describe(item: ChangeId) -> str:
    project, job, status, message = item
    return f"{project}/{job} {status}" + (f" ({message})" if message else "")


def _iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


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


def simulator_changes(
    state: dict[str, Any], scenario: Scenario, offsets: list[float], baseline_at: float | None
) -> Counter[ChangeId]:
    """The distinct states each job showed at ``offsets`` (the cycles that read everything)."""
    projects = {p["name"]: p for p in state["projects"]}
    deleted = {
        (p.name, j.name): j.deleted_at
        for p in scenario.projects
        for j in p.jobs
        if j.deleted_at is not None
    }
    changes: Counter[ChangeId] = Counter()
    for job in state["jobs"]:
        project = projects[job["project"]]
        steps = job["history"]
        previous: ChangeId | None = None
        for at in offsets:
            reached = [s for s in steps if s["at"] <= at]
            job_deleted = deleted.get((job["project"], job["job"]))
            present = (
                bool(reached)
                and project["appears_at"] <= at
                and (project["deleted_at"] is None or at < project["deleted_at"])
                and (job_deleted is None or at < job_deleted)
            )
            if present:
                step = reached[-1]
                value: ChangeId | None = change_id(
                    job["project"], job["job"], step["status"], step["message"]
                )
            elif previous is not None and previous[2] != REMOVED and not is_terminal(previous[2]):
                value = change_id(job["project"], job["job"], REMOVED, None)
            else:
                value = previous
            if value is not None and value != previous and at != baseline_at:
                changes[value] += 1
            previous = value
    return changes


def play(
    stack: LocalStack,
    scenario: Scenario,
    *,
    on_cycle: Callable[[CycleOutcome], None] = lambda outcome: None,
    pace: float = 0.0,
    scenario_name: str | None = None,
) -> DemoResult:
    """Play ``scenario`` (already loaded in ``stack``'s simulator, clock frozen) and return the
    comparison.  ``on_cycle`` sees each cycle as it ends; ``pace`` wall seconds pass between
    cycles so a person can follow."""
    import boto3

    from lfv_monitor.bootstrap import build_monitor
    from lfv_monitor.clients import register_service_model
    from lfv_monitor.handlers.poll import lambda_handler
    from lfv_monitor.lambda_context import LocalContext, scheduled_event

    started = time.monotonic()
    info = stack.info
    control = stack.control
    control.set_faults(demo_faults(scenario))
    start_time = scenario.start_time
    offsets = cycle_offsets(scenario)
    now = {"offset": 0.0}

    def virtual_now() -> datetime:
        return start_time + timedelta(seconds=now["offset"])

    environ = {
        **info.env(),
        "LFV_RATE_PER_SECOND": DEMO_RATE_PER_SECOND,
        "ACTIVE_POLL_INTERVAL": "0",
        # botocore backs off on the wall clock while the simulator's clock stands still, so a
        # retry could never leave a throttle window: one attempt, and the next cycle catches up.
        "LFV_MAX_ATTEMPTS": "1",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    cycles: list[CycleOutcome] = []
    with patched_environ(environ):
        session = register_service_model(boto3.Session())
        monitor = build_monitor(session=session, clock=virtual_now, observer="lfv-monitor demo")
        sqs = stack.client("sqs")
        for number, offset in enumerate(offsets, start=1):
            control.set_time(offset)
            now["offset"] = offset
            # What the function prints goes to its log stream in Lambda; here, nowhere (Powertools
            # prints the ColdStart metric even with POWERTOOLS_METRICS_DISABLED).
            with redirect_stdout(io.StringIO()):
                summary = lambda_handler(
                    scheduled_event(),
                    LocalContext(function_name="lfv-monitor-demo", timeout_seconds=55),
                    service=monitor,
                )
            report = monitor.last_report
            outcome = CycleOutcome(
                number=number,
                total=len(offsets),
                offset=offset,
                time=virtual_now(),
                summary=summary,
                recorded=list(report.recorded) if report else [],
                events=drain(sqs, info.events_queue_url),
                notifications=[
                    Notification.from_envelope(e) for e in drain(sqs, info.notifications_queue_url)
                ],
            )
            cycles.append(outcome)
            on_cycle(outcome)
            if pace and number < len(offsets):
                time.sleep(pace)

        store: Any = monitor.cycle.store
        state = control.state()
        complete = [c.offset for c in cycles if c.complete]
        baseline_at = next((c.offset for c in cycles if c.summary.get("baseline")), None)
        keys = [JobKey(j["project"], j["job"]) for j in state["jobs"]]
        histories = {key: store.history(key) for key in keys}

    def count(details: list[dict[str, Any]]) -> tuple[Counter[ChangeId], int]:
        ids = Counter(d["eventId"] for d in details)
        counted = Counter(
            change_id(d["projectName"], d["jobName"], d["status"], d["statusMessage"])
            for d in details
        )
        return counted, sum(n - 1 for n in ids.values() if n > 1)

    events, duplicate_events = count([e["detail"] for c in cycles for e in c.events])
    notifications, duplicate_notifications = count(
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
        start_time=start_time,
        wall_seconds=time.monotonic() - started,
        scenario=scenario_name,
    )
