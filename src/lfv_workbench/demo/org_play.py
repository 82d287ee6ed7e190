"""Play an organization on the local stack: the dispatcher and the poller, as Lambda runs them.

Each virtual minute: the dispatcher's handler (``lfv_monitor.handlers.dispatch``) runs with the
schedule's event and sends one FIFO message per target to the target queue in moto; each
message is then handed to the poller's handler (``lfv_monitor.handlers.poll``) as the SQS event
its event source mapping would send (batch size 1), and deleted when the handler returns, as
the mapping does. The two capture queues are drained after every minute. At the end each target
is accounted for on its own (``demo/organization.py``).
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from lfv_workbench.demo.engine import cycle_offsets, demo_environment, demo_faults
from lfv_workbench.demo.organization import (
    TargetAccount,
    account_target,
    message_target,
    sqs_event,
)
from lfv_workbench.local.emulated import patched_environ
from lfv_workbench.local.up import LocalStack, drain
from lfv_workbench.simulator import Scenario


@dataclass
class OrgCycle:
    """One virtual minute: each target's poll (its health) and what was delivered."""

    number: int
    offset: float
    health: dict[str, str]
    events: list[dict[str, Any]]
    notifications: list[dict[str, Any]]
    #: The target of each message handed to the poller, in order (one each, once each).
    polled: list[str] = field(default_factory=list)


@dataclass
class OrgResult:
    cycles: list[OrgCycle]
    targets: list[TargetAccount]
    wall_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def unattributed(self) -> int:
        """Events whose detail names no target this organization has (no account/region)."""
        known = {t.target for t in self.targets}
        return sum(
            1
            for c in self.cycles
            for e in c.events
            if f"{e['detail'].get('account')}:{e['detail'].get('region')}" not in known
        )

    @property
    def match(self) -> bool:
        return all(t.match for t in self.targets) and not self.unattributed

    def summary(self) -> dict[str, Any]:
        return {
            "match": self.match,
            "cycles": len(self.cycles),
            "targets": {
                t.target: {
                    "memberRole": t.member_role,
                    "health": t.health[-1] if t.health else None,
                    "healthyCycles": t.healthy_cycles,
                    "changes": {
                        "simulator": sum(t.simulator.values()),
                        "events": sum(t.events.values()),
                    },
                    "differences": t.differences(),
                }
                for t in self.targets
            },
            "unattributedEvents": self.unattributed,
            "wallSeconds": round(self.wall_seconds, 2),
        }


def health_of(summary: Any) -> str:
    """The health a poll's answer states (the contract's ``health``), else from ``succeeded``."""
    if isinstance(summary, dict):
        if isinstance(summary.get("health"), str):
            return str(summary["health"])
        if "succeeded" in summary:
            return "healthy" if summary["succeeded"] else "unhealthy"
    return "unknown"


def play_org(
    stack: LocalStack,
    scenario: Scenario,
    *,
    on_cycle: Callable[[OrgCycle], None] = lambda cycle: None,
    pace: float = 0.0,
) -> OrgResult:
    """Play ``scenario`` (an organization, loaded in ``stack``'s simulator, clock frozen)."""
    from lfv_monitor.handlers.dispatch import lambda_handler as dispatch
    from lfv_monitor.handlers.poll import lambda_handler as poll
    from lfv_monitor.lambda_context import LocalContext, scheduled_event

    if stack.outputs is None:
        raise RuntimeError("the local stack is not started")
    started = time.monotonic()
    worlds = scenario.worlds()
    for world in worlds:
        stack.control.set_faults(demo_faults(world), account=world.account_id, region=world.region)
    offsets = max((cycle_offsets(w) for w in worlds), key=len)
    info = stack.info
    # The functions' environments as the template gives them, tuned for the frozen clock.
    dispatcher_env = {**_function_env(stack, "DispatcherFunction"), **demo_environment(stack)}
    poller_env = {**_function_env(stack, "PollerFunction"), **demo_environment(stack)}
    queue_url = dispatcher_env["TARGET_QUEUE_URL"]
    sqs = stack.client("sqs")
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    context = LocalContext(function_name="lfv-monitor-demo", timeout_seconds=55)
    cycles: list[OrgCycle] = []
    for number, offset in enumerate(offsets, start=1):
        stack.control.set_time(offset)
        event = scheduled_event()
        event["time"] = (scenario.start_time + timedelta(seconds=offset)).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )
        health: dict[str, str] = {}
        polled: list[str] = []
        with redirect_stdout(io.StringIO()):
            with patched_environ(dispatcher_env):
                dispatch(event, context)
            for message in _receive_all(sqs, queue_url):
                with patched_environ(poller_env):
                    answer = poll(
                        sqs_event(message, queue_arn=queue_arn, region=info.region), context
                    )
                polled.append(message_target(message))
                health[polled[-1]] = health_of(answer)
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        cycles.append(
            OrgCycle(
                number=number,
                offset=offset,
                health=health,
                events=drain(sqs, info.events_queue_url),
                notifications=drain(sqs, info.notifications_queue_url),
                polled=polled,
            )
        )
        on_cycle(cycles[-1])
        if pace and number < len(offsets):
            time.sleep(pace)
    roles = set(scenario.member_role_accounts()) | {scenario.account_id}
    details = [e["detail"] for c in cycles for e in c.events]
    targets = [
        account_target(
            world,
            member_role=world.account_id in roles,
            state=stack.control.state(account=world.account_id, region=world.region),
            cycles=[(c.offset, c.health[key]) for c in cycles if (key := _key(world)) in c.health],
            events=details,
        )
        for world in worlds
    ]
    return OrgResult(cycles=cycles, targets=targets, wall_seconds=time.monotonic() - started)


def _key(world: Scenario) -> str:
    return f"{world.account_id}:{world.region}"


def _function_env(stack: LocalStack, logical_id: str) -> dict[str, str]:
    assert stack.outputs is not None
    return {k: str(v) for k, v in stack.outputs.function_environment(logical_id).items()}


def _receive_all(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    """Every message now in the FIFO queue (one per target), received once each."""
    messages: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=0,
            MessageSystemAttributeNames=["All"],
            VisibilityTimeout=300,
        ).get("Messages", [])
        if not batch:
            return messages
        messages.extend(batch)


def describe(result: OrgResult) -> str:
    return json.dumps(result.summary(), indent=1)


def cycle_lines(cycle: OrgCycle) -> list[str]:
    """One cycle as plain lines: each target's health, then each event delivered."""
    health = ", ".join(f"{target} {state}" for target, state in sorted(cycle.health.items()))
    lines = [f"cycle {cycle.number} (+{cycle.offset:g} s): {health or 'no target polled'}"]
    for event in cycle.events:
        d = event["detail"]
        lines.append(
            f"  event {d.get('account')} {d.get('region')} {d['projectName']}/{d['jobName']}: "
            f"{d.get('previousStatus') or '-'} -> {d['status']} ({d.get('changeType')})"
        )
    return lines


def summary_lines(result: OrgResult) -> list[str]:
    lines = []
    for t in result.targets:
        verdict = "as expected" if t.match else "MISMATCH"
        role = "member role" if t.member_role else "NO member role"
        lines.append(
            f"{t.target} ({role}): last health {t.health[-1] if t.health else '-'}, "
            f"{t.healthy_cycles}/{len(t.health)} healthy cycles, simulator "
            f"{sum(t.simulator.values())} changes, events {sum(t.events.values())}: {verdict}"
        )
        lines.extend(f"  {problem}" for problem in t.differences())
    if result.unattributed:
        lines.append(f"{result.unattributed} event(s) name no target (no account and region)")
    lines.append("match" if result.match else "MISMATCH")
    return lines
