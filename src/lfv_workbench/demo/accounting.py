"""The demo's accounts of what happened, and their comparison.

- **simulator**: the distinct states of each job at the times of the cycles that could read the
  service (``GET /_simulator/state`` histories, the scenario's deletions), the first cycle's
  states being the silent baseline; the expected-states oracle (``lfv_workbench.oracle``) reads
  them. A job deleted while in progress counts as ``REMOVED`` (the monitor tracks in-progress
  jobs; a finished job is final);
- **recorded**: the jobs' history items in DynamoDB (``DynamoDBSnapshotStore.history``),
  BASELINE excluded;
- **delivered**: the events the bus rule put in its queue, and the notifications SNS put in the
  subscribed queue, each expected exactly once;
- **the lanes a person sees** (``demo/lanes.py``): of those notifications, the ones the email
  subscription's filter (``NotifyStatuses``) and the chat rule (``ChatStatuses``) pass, each
  expected exactly once for every simulator change with such a status.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lfv_monitor.domain.models import Change, JobKey
from lfv_workbench.demo.lanes import Lanes
from lfv_workbench.oracle import REMOVED, jobs_from_state, observed_states
from lfv_workbench.simulator import Scenario

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
    #: The notifications the email lane and the chat lane deliver (``demo/lanes.py``).
    emails: list[Notification] = field(default_factory=list)
    chats: list[Notification] = field(default_factory=list)

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
    #: The lanes' filters (None: no lanes accounted) and what each lane delivered.
    lanes: Lanes | None = None
    emails: Counter[ChangeId] = field(default_factory=Counter)
    chats: Counter[ChangeId] = field(default_factory=Counter)

    def expected_in(self, statuses: tuple[str, ...]) -> Counter[ChangeId]:
        """The simulator's changes whose status a lane filtering on ``statuses`` passes."""
        return Counter({c: n for c, n in self.simulator.items() if c[2] in statuses})

    def _accounts(self) -> list[tuple[str, Counter[ChangeId], Counter[ChangeId]]]:
        """(name, expected, counted) for every account compared with the simulator's."""
        accounts = [
            ("recorded", self.simulator, self.recorded),
            ("events", self.simulator, self.events),
            ("notifications", self.simulator, self.notifications),
        ]
        if self.lanes is not None:
            accounts += [
                ("email lane", self.expected_in(self.lanes.email), self.emails),
                ("chat lane", self.expected_in(self.lanes.chat), self.chats),
            ]
        return accounts

    @property
    def match(self) -> bool:
        return (
            all(expected == counted for _, expected, counted in self._accounts())
            and not self.duplicate_events
            and not self.duplicate_notifications
        )

    def differences(self) -> list[str]:
        problems = []
        for name, expected, counted in self._accounts():
            for item in sorted((expected - counted).elements(), key=str):
                problems.append(f"{name}: missing {_describe(item)}")
            for item in sorted((counted - expected).elements(), key=str):
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
            "lanes": self._lanes_summary(),
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

    def _lanes_summary(self) -> dict[str, Any] | None:
        if self.lanes is None:
            return None
        return {
            "email": {"statuses": list(self.lanes.email), "delivered": sum(self.emails.values())},
            "chat": {"statuses": list(self.lanes.chat), "delivered": sum(self.chats.values())},
        }


def _describe(item: ChangeId) -> str:
    project, job, status, message = item
    return f"{project}/{job} {status}" + (f" ({message})" if message else "")


def _iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def simulator_changes(
    state: dict[str, Any], scenario: Scenario, offsets: list[float], baseline_at: float | None
) -> Counter[ChangeId]:
    """The distinct states each job showed at ``offsets`` (the cycles that read everything),
    those first seen by the baseline cycle aside (``lfv_workbench.oracle``)."""
    deletions = {
        (p.name, j.name): j.deleted_at
        for p in scenario.projects
        for j in p.jobs
        if j.deleted_at is not None
    }
    return Counter(
        change_id(truth.project, truth.job, seen.status, seen.message)
        for truth in jobs_from_state(state, deletions)
        for seen in observed_states(truth, offsets)
        if seen.at != baseline_at
    )
