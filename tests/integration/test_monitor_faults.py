"""The cycle's promises under faults, over real HTTP: throttling, a failed publish, a cycle killed
between its write and its publish, two overlapping cycles, an unreachable service."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lfv_monitor.bootstrap import build_monitor
from lfv_monitor.domain.models import JobKey
from tests.integration.test_monitor_cycle import poll
from tests.support.emulated import BUS, Stack, monitored_stack


def two_jobs(fail_at: int = 100) -> dict[str, Any]:
    return {
        "projects": [
            {
                "name": "widgets",
                "jobs": [
                    {
                        "name": "a",
                        "model_version": "1",
                        "timeline": [
                            {"at": 0, "status": "RUNNING", "message": "compiling"},
                            {"at": fail_at, "status": "FAILED", "message": "out of memory"},
                        ],
                    },
                    {
                        "name": "b",
                        "model_version": "1",
                        "timeline": [
                            {"at": 0, "status": "RUNNING", "message": "compiling"},
                            {"at": fail_at, "status": "SUCCEEDED", "message": "done"},
                        ],
                    },
                ],
            }
        ]
    }


@pytest.fixture
def stack(aws_endpoint: str, simulator: Any, monkeypatch: pytest.MonkeyPatch) -> Stack:
    return monitored_stack(aws_endpoint, simulator.url, monkeypatch)


def deliveries(stack: Stack) -> tuple[list[str], list[str]]:
    events = [e["detail"]["eventId"] for e in stack.drain(stack.rule_queue)]
    notes = [m["MessageAttributes"]["job"]["Value"] for m in stack.drain(stack.all_queue)]
    return events, notes


def test_a_throttling_burst_is_retried_or_picked_up_next_cycle(
    stack: Stack, simulator_control: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LFV_MAX_ATTEMPTS", "3")  # keeps the backoff short
    simulator_control.load_scenario(two_jobs())
    monitor = build_monitor()
    poll(monitor)  # baseline at t=0
    # Given every describe is throttled around t=120, and half of them at random later on
    simulator_control.set_faults(
        {
            "*": {"rate_per_second": None},
            "DescribeModelPackagingJob": {"throttle_windows": [{"from": 110, "to": 130}]},
        }
    )
    simulator_control.advance(120)
    burst = poll(monitor)
    # Then the cycle still ran, counted the throttling, and recorded nothing it could not see
    assert burst["unreachable"] is False and burst["errors"] == {"Throttled": 2}
    assert burst["throttles"] >= 2 and burst["changesRecorded"] == 0
    simulator_control.set_faults(
        {
            "*": {"rate_per_second": None},
            "DescribeModelPackagingJob": {"error_rate": 0.5, "error_code": "ThrottlingException"},
        }
    )
    simulator_control.advance(60)
    after = poll(monitor)
    assert after["changesRecorded"] == 2 and after["throttles"] > 0
    events, _ = deliveries(stack)
    assert len(events) == 2 == len(set(events))


def test_a_failed_publish_is_delivered_by_the_next_cycle_once(
    stack: Stack, simulator_control: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    simulator_control.load_scenario(two_jobs())
    poll(build_monitor())
    simulator_control.advance(120)
    # Given a cycle whose EventBridge publish fails (the bus is gone)
    monkeypatch.setenv("EVENT_BUS_NAME", "no-such-bus")
    failed = poll(build_monitor())
    assert failed["publishFailures"] == {"events": 2} and failed["delivered"] == {"sns": 2}
    # When the next cycle runs with the bus back
    monkeypatch.setenv("EVENT_BUS_NAME", BUS)
    retried = poll(build_monitor())
    # Then the outbox delivered both events, and SNS did not send anything twice
    assert retried["outboxRetried"] == 2 and retried["delivered"] == {"events": 2}
    events, notes = deliveries(stack)
    assert len(events) == 2 == len(set(events)) and sorted(notes) == ["a", "b"]
    assert poll(build_monitor())["outboxRetried"] == 0


@pytest.fixture
def blackhole() -> Iterator[str]:
    """A TCP endpoint on 127.0.0.1 that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


CHILD = """
from lfv_monitor.bootstrap import build_monitor
from lfv_monitor.handlers.poll import lambda_handler
from lfv_monitor.lambda_context import LocalContext, scheduled_event
lambda_handler(scheduled_event(), LocalContext(), service=build_monitor())
"""


def test_a_cycle_killed_between_write_and_publish_loses_nothing(
    stack: Stack, simulator_control: Any, blackhole: str
) -> None:
    simulator_control.load_scenario(two_jobs())
    poll(build_monitor())
    simulator_control.advance(120)
    # Given a cycle in its own process whose publishes hang (EventBridge and SNS never answer)
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL_EVENTBRIDGE": blackhole,
        "AWS_ENDPOINT_URL_SNS": blackhole,
    }
    child = subprocess.Popen([sys.executable, "-c", CHILD], env=env)
    try:
        # When it is killed once both changes are written (its publish is in flight)
        store = build_monitor().cycle.store
        deadline = time.monotonic() + 60
        far = datetime.now(UTC) + timedelta(days=1)  # any lease is over by then
        while len(store.pending(far)) < 2:  # type: ignore[attr-defined]
            assert child.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    assert deliveries(stack) == ([], [])
    # Then an invocation one period later (the dead writer's lease is over) delivers each change
    # once, on both channels
    assert poll(build_monitor())["outboxRetried"] == 0  # at once: still the writer's lease
    later = datetime.now(UTC) + timedelta(seconds=61)
    report = poll(build_monitor(clock=lambda: later))
    assert report["outboxRetried"] == 2 and report["changesRecorded"] == 0
    events, notes = deliveries(stack)
    assert len(events) == 2 == len(set(events)) and sorted(notes) == ["a", "b"]
    history = store.history(JobKey("widgets", "a"))  # type: ignore[attr-defined]
    assert [c.status for c in history] == ["RUNNING", "FAILED"]


def test_two_overlapping_cycles_record_and_announce_a_change_once(
    stack: Stack, simulator_control: Any
) -> None:
    simulator_control.load_scenario(two_jobs())
    poll(build_monitor())
    simulator_control.advance(120)
    # Given describes slow enough that both invocations read the old state before either writes
    simulator_control.set_faults(
        {
            "*": {"rate_per_second": None},
            "DescribeModelPackagingJob": {"latency_ms": 400},
        }
    )
    monitors = [build_monitor(), build_monitor()]
    reports: list[dict[str, Any]] = []
    threads = [threading.Thread(target=lambda m=m: reports.append(poll(m))) for m in monitors]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Then each change was recorded by exactly one of them, and announced once
    assert sum(r["changesRecorded"] for r in reports) == 2
    assert sum(r["lostRaces"] for r in reports) == 2
    events, notes = deliveries(stack)
    assert len(events) == 2 == len(set(events)) and sorted(notes) == ["a", "b"]
    history = monitors[0].cycle.store.history(JobKey("widgets", "b"))  # type: ignore[attr-defined]
    assert [c.status for c in history] == ["RUNNING", "SUCCEEDED"]


@pytest.fixture
def refused() -> Iterator[socket.socket]:
    """A loopback port where a connection is refused: bound but never listening, and held for
    the whole test, so no other server on the machine can take it meanwhile."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    try:
        yield sock
    finally:
        sock.close()


def test_an_unreachable_service_ends_the_cycle_with_one_clear_outcome(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, refused: socket.socket
) -> None:
    port = refused.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL_LOOKOUTVISION", f"http://127.0.0.1:{port}")
    started = time.monotonic()
    report = poll(build_monitor())
    assert report["unreachable"] is True and report["errors"] == {"ServiceUnreachable": 1}
    assert time.monotonic() - started < 30  # no retry storm (a sanity bound, not a benchmark)


def test_poll_command_exits_1_when_the_service_is_unreachable(
    stack: Stack, capsys: pytest.CaptureFixture[str], refused: socket.socket
) -> None:
    from lfv_monitor.cli import main

    port = refused.getsockname()[1]
    assert main(["poll", "--lfv-endpoint-url", f"http://127.0.0.1:{port}"]) == 1
    assert "could not be reached" in capsys.readouterr().out
