"""The whole product over real HTTP: the simulator (Lookout for Vision) and moto server
(DynamoDB, EventBridge, SNS, SQS) on 127.0.0.1, driven through the Lambda handler."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from lfv_monitor.bootstrap import Monitor, build_monitor
from lfv_monitor.handlers.poll import lambda_handler
from lfv_monitor.lambda_context import LocalContext, scheduled_event
from tests.support.emulated import Stack, monitored_stack


def job(name: str, *steps: tuple[int, str, str], **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "model_version": "1",
        "timeline": [{"at": at, "status": s, "message": m} for at, s, m in steps],
        **extra,
    }


SCENARIO = {
    "projects": [
        {
            "name": "widgets",
            "jobs": [
                job(
                    "ok-1",
                    (0, "CREATED", "queued"),
                    (60, "RUNNING", "compiling"),
                    (180, "SUCCEEDED", "done"),
                ),
                job(
                    "fail-1",
                    (0, "CREATED", "queued"),
                    (60, "RUNNING", "compiling"),
                    (200, "FAILED", "out of memory"),
                ),
                job(
                    "msg-1",
                    (0, "RUNNING", "step 1/3"),
                    (90, "RUNNING", "step 2/3"),
                    (150, "RUNNING", "step 3/3"),
                    (400, "SUCCEEDED", "done"),
                ),
                job("flash", (155, "CREATED", "queued"), (200, "FAILED", "bad config")),
                job("gone", (0, "RUNNING", "compiling"), deleted_at=250),
            ],
        },
        {
            "name": "gadgets",
            "appears_at": 100,
            "jobs": [job("g-1", (100, "CREATED", "queued"), (230, "SUCCEEDED", "done"))],
        },
    ]
}
CYCLE_TIMES = [30, 90, 150, 210, 270, 330, 390, 450]


@pytest.fixture
def stack(aws_endpoint: str, simulator: Any, monkeypatch: pytest.MonkeyPatch) -> Stack:
    return monitored_stack(aws_endpoint, simulator.url, monkeypatch)


def poll(monitor: Monitor) -> dict[str, Any]:
    return lambda_handler(scheduled_event(), LocalContext(), service=monitor)  # type: ignore[arg-type]


def run_cycles(monitor: Monitor, control: Any, times: list[int]) -> list[dict[str, Any]]:
    reports, now = [], 0
    for t in times:
        control.advance(t - now)
        now = t
        reports.append(poll(monitor))
    return reports


def detail_of(sns_envelope: dict[str, Any]) -> dict[str, Any]:
    body = json.loads(sns_envelope["Message"])
    detail: dict[str, Any] = body.get("detail", body)
    return detail


def test_scenario_history_events_and_notifications(stack: Stack, simulator_control: Any) -> None:
    # Given the scenario on the simulator and a freshly deployed (empty) stack
    simulator_control.load_scenario(SCENARIO)
    monitor = build_monitor()
    # When the schedule runs a cycle every virtual minute
    reports = run_cycles(monitor, simulator_control, CYCLE_TIMES)
    # Then the first cycle is a silent baseline
    assert reports[0]["baseline"] and reports[0]["announced"] == 0
    assert all(r["unreachable"] is False for r in reports)

    # and every announced change reached the bus rule exactly once
    events = stack.drain(stack.rule_queue)
    announced = [
        (
            e["detail"]["projectName"],
            e["detail"]["jobName"],
            e["detail"]["changeType"],
            e["detail"]["status"],
        )
        for e in events
    ]
    assert sorted(announced) == sorted(
        [
            ("widgets", "ok-1", "STATUS", "RUNNING"),
            ("widgets", "ok-1", "STATUS", "SUCCEEDED"),
            ("widgets", "fail-1", "STATUS", "RUNNING"),
            ("widgets", "fail-1", "STATUS", "FAILED"),
            ("widgets", "msg-1", "STATUS_MESSAGE", "RUNNING"),
            ("widgets", "msg-1", "STATUS_MESSAGE", "RUNNING"),
            ("widgets", "msg-1", "STATUS", "SUCCEEDED"),
            ("widgets", "flash", "DISCOVERED", "FAILED"),
            ("widgets", "gone", "REMOVED", "REMOVED"),
            ("gadgets", "g-1", "DISCOVERED", "CREATED"),
            ("gadgets", "g-1", "STATUS", "SUCCEEDED"),
        ]
    )
    assert len({e["detail"]["eventId"] for e in events}) == len(events)
    flash = next(e["detail"] for e in events if e["detail"]["jobName"] == "flash")
    assert flash["previousStatus"] is None
    assert flash["skippedStates"] == ["CREATED", "RUNNING"]
    assert all(
        e["detail-type"] == "Lookout for Vision Model Packaging Job State Change" for e in events
    )

    # and the SNS subscription filtered on FAILED got exactly the two failures
    failed = [detail_of(m) for m in stack.drain(stack.failed_queue)]
    assert sorted((d["jobName"], d["status"]) for d in failed) == [
        ("fail-1", "FAILED"),
        ("flash", "FAILED"),
    ]
    everything = stack.drain(stack.all_queue)
    assert len(everything) == len(events)
    assert all(m["Subject"] and len(m["Subject"]) < 100 for m in everything)

    # and the history is exactly the sequence of distinct observed states
    history = monitor.cycle.store.history  # type: ignore[attr-defined]
    from lfv_monitor.domain.models import JobKey

    assert [(c.status, c.status_message) for c in history(JobKey("widgets", "msg-1"))] == [
        ("RUNNING", "step 1/3"),
        ("RUNNING", "step 2/3"),
        ("RUNNING", "step 3/3"),
        ("SUCCEEDED", "done"),
    ]
    assert [c.status for c in history(JobKey("widgets", "ok-1"))] == [
        "CREATED",
        "RUNNING",
        "SUCCEEDED",
    ]
    ok = history(JobKey("widgets", "ok-1"))[-1]
    assert ok.description is not None and ok.description.document["ModelVersion"] == "1"


def test_an_idle_cycle_writes_and_publishes_nothing(stack: Stack, simulator_control: Any) -> None:
    simulator_control.load_scenario(SCENARIO)
    monitor = build_monitor()
    run_cycles(monitor, simulator_control, [500, 560])  # everything finished by 400
    calls: Counter[str] = Counter()
    for client in (monitor.cycle.store.client,):  # type: ignore[attr-defined]
        client.meta.events.register(
            "before-call.*.*", lambda model, **_: calls.update([model.name])
        )
    simulator_control.advance(60)
    report = poll(monitor)
    assert report["changesRecorded"] == 0
    writes = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
    assert not writes & set(calls)
    assert stack.drain(stack.rule_queue) == []
