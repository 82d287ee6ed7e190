"""The organization demo's pieces that need no AWS: the SQS event Lambda hands the poller for a
target queue message, and the per-target account of what happened.

Per target (an account and a region the simulator serves): the changes the simulator made, as
seen by the cycles in which that target's poll was healthy (``lfv_workbench.oracle``, the first
healthy cycle being its silent baseline), against the events delivered with that account and
region in their detail. A target whose member role is missing is expected to be unhealthy in
every cycle and to have nothing announced; every other target to be healthy at the end and to
match exactly, once each.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from lfv_workbench.demo.accounting import ChangeId, change_id, simulator_changes
from lfv_workbench.simulator import Scenario


def sqs_event(message: dict[str, Any], *, queue_arn: str, region: str) -> dict[str, Any]:
    """The event an SQS event source mapping (batch size 1) invokes the poller with for
    ``message`` (as ReceiveMessage returned it, with its system attributes)."""
    body = str(message["Body"])
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": body,
                "attributes": dict(message.get("Attributes") or {}),
                "messageAttributes": dict(message.get("MessageAttributes") or {}),
                "md5OfBody": message.get("MD5OfBody")
                or hashlib.md5(body.encode(), usedforsecurity=False).hexdigest(),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
        ]
    }


def message_target(message: dict[str, Any]) -> str:
    """The target id (``account:region``) a target queue message is for (contract body)."""
    target = json.loads(message["Body"])["target"]
    return f"{target['account']}:{target['region']}"


@dataclass
class TargetAccount:
    """One target's account: expected changes, delivered events, health per cycle."""

    target: str
    member_role: bool
    simulator: Counter[ChangeId]
    events: Counter[ChangeId]
    duplicate_events: int
    health: list[str] = field(default_factory=list)

    @property
    def healthy_cycles(self) -> int:
        return sum(1 for h in self.health if h == "healthy")

    @property
    def match(self) -> bool:
        if not self.member_role:  # its role is missing: seen as unhealthy, nothing announced
            return bool(self.health) and not self.healthy_cycles and not self.events
        watched = bool(self.health) and self.health[-1] == "healthy"
        return watched and self.simulator == self.events and not self.duplicate_events

    def differences(self) -> list[str]:
        if not self.member_role:
            if self.match:
                return []
            return [
                f"{self.target}: its member role is missing, yet it was healthy in "
                f"{self.healthy_cycles} cycle(s) and {sum(self.events.values())} event(s) were "
                f"delivered"
            ]
        problems = [
            f"{self.target}: missing {item}" for item in (self.simulator - self.events).elements()
        ]
        if not self.health or self.health[-1] != "healthy":
            last = self.health[-1] if self.health else "never polled"
            problems.insert(0, f"{self.target}: not healthy at the end ({last})")
        problems += [
            f"{self.target}: unexpected {item}"
            for item in (self.events - self.simulator).elements()
        ]
        if self.duplicate_events:
            problems.append(f"{self.target}: {self.duplicate_events} event(s) delivered twice")
        return problems


def account_target(
    world: Scenario,
    *,
    member_role: bool,
    state: dict[str, Any],
    cycles: list[tuple[float, str]],
    events: list[dict[str, Any]],
) -> TargetAccount:
    """``world``: the target's single-account scenario (``Scenario.worlds()``); ``state``: its
    simulator state at the end; ``cycles``: (offset, health) of each of its polls; ``events``:
    every delivered event detail (all targets: those of this account and region are kept)."""
    healthy = [offset for offset, health in cycles if health == "healthy"]
    expected = simulator_changes(state, world, healthy, healthy[0] if healthy else None)
    mine = [
        d
        for d in events
        if d.get("account") == world.account_id and d.get("region") == world.region
    ]
    ids = Counter(d["eventId"] for d in mine)
    return TargetAccount(
        target=f"{world.account_id}:{world.region}",
        member_role=member_role,
        simulator=expected,
        events=Counter(
            change_id(d["projectName"], d["jobName"], d["status"], d["statusMessage"]) for d in mine
        ),
        duplicate_events=sum(n - 1 for n in ids.values() if n > 1),
        health=[health for _, health in cycles],
    )
