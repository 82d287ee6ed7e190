"""The organization demo's accounts per target, and the SQS event the poller is given."""

from __future__ import annotations

import json
from typing import Any

from lfv_workbench.demo.organization import account_target, message_target, sqs_event
from lfv_workbench.simulator import VirtualClock, load_scenario_file, org_scenario_path
from lfv_workbench.simulator.worlds import World

CYCLES = [30.0, 90.0, 150.0, 210.0]


def _world(account: str, region: str) -> tuple[Any, dict[str, Any]]:
    """The org scenario's world for ``account`` in ``region``, and its state after the cycles."""
    scenario = load_scenario_file(org_scenario_path())
    (world,) = [w for w in scenario.worlds() if (w.account_id, w.region) == (account, region)]
    clock = VirtualClock(speed=0)
    clock.reset(world.start_time)
    served = World.of(world, clock)
    clock.set(CYCLES[-1])
    return world, served.engine.state()


def _event(where: tuple[str, str], project: str, job: str, status: str, message: str) -> Any:
    account, region = where
    return {
        "account": account,
        "region": region,
        "projectName": project,
        "jobName": job,
        "status": status,
        "statusMessage": message,
        "eventId": f"{job}-{status}-{message}",
    }


MEMBER_EU = ("111111111111", "eu-west-1")
MEMBER_EU_EVENTS = [
    _event(MEMBER_EU, "plant-a-eu", "cam-e1", "RUNNING", "Packaging model version 1."),
    _event(
        MEMBER_EU,
        "plant-a-eu",
        "cam-e1",
        "SUCCEEDED",
        "Model packaging job completed successfully.",
    ),
    _event(
        MEMBER_EU,
        "plant-a-eu",
        "cam-e2",
        "CREATED",
        "Model packaging job created.",
    ),
    _event(MEMBER_EU, "plant-a-eu", "cam-e2", "RUNNING", "Packaging model version 1."),
]


def test_a_watched_target_matches_the_events_of_its_account_and_region_only() -> None:
    # Given the member's eu-west-1 world polled healthily every cycle
    world, state = _world("111111111111", "eu-west-1")
    healthy = [(at, "healthy") for at in CYCLES]
    # and, besides its four changes, an event of the same job names from another region
    other = {**MEMBER_EU_EVENTS[0], "region": "us-east-1", "eventId": "elsewhere"}
    # When its account is taken
    account = account_target(
        world, member_role=True, state=state, cycles=healthy, events=[*MEMBER_EU_EVENTS, other]
    )
    # Then the simulator's changes after the baseline and its own events match
    assert account.match, account.differences()
    assert sum(account.simulator.values()) == 4
    # and an event that never came is named
    short = account_target(
        world, member_role=True, state=state, cycles=healthy, events=MEMBER_EU_EVENTS[1:]
    )
    assert not short.match
    assert short.differences() == [
        "111111111111:eu-west-1: missing ('plant-a-eu', 'cam-e1', 'RUNNING', "
        "'Packaging model version 1.')"
    ]
    # and a target with its role that was never healthy is a failure, whatever it announced
    never = account_target(
        world, member_role=True, state=state, cycles=[(at, "unknown") for at in CYCLES], events=[]
    )
    assert not never.match
    assert never.differences() == ["111111111111:eu-west-1: not healthy at the end (unknown)"]


def test_a_target_without_its_role_must_be_unhealthy_and_silent() -> None:
    # Given the member whose role is missing, unhealthy in every cycle, nothing announced
    world, state = _world("222222222222", "eu-west-1")
    denied = [(at, "denied") for at in CYCLES]
    account = account_target(world, member_role=False, state=state, cycles=denied, events=[])
    # Then that is what the demo expects of it
    assert account.match
    # but a healthy cycle for it would be a failure the demo names
    seen = [(CYCLES[0], "healthy"), *denied[1:]]
    wrong = account_target(world, member_role=False, state=state, cycles=seen, events=[])
    assert not wrong.match
    assert "its member role is missing, yet it was healthy in 1 cycle(s)" in wrong.differences()[0]


def test_the_poller_gets_the_event_an_sqs_event_source_mapping_sends() -> None:
    body = json.dumps(
        {"target": {"account": "111111111111", "region": "eu-west-1"}, "period": 7, "roleArn": None}
    )
    message = {
        "MessageId": "m-1",
        "ReceiptHandle": "r-1",
        "Body": body,
        "Attributes": {"MessageGroupId": "111111111111:eu-west-1"},
    }
    event = sqs_event(
        message, queue_arn="arn:aws:sqs:us-east-1:123456789012:q.fifo", region="us-east-1"
    )
    (record,) = event["Records"]
    assert record["eventSource"] == "aws:sqs"
    assert record["body"] == body
    assert record["attributes"]["MessageGroupId"] == "111111111111:eu-west-1"
    assert len(record["md5OfBody"]) == 32
    assert message_target(message) == "111111111111:eu-west-1"
