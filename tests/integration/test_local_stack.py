"""``lfv-monitor local up`` and ``lfv-monitor demo`` as a user runs them: separate processes,
used through what they print, on 127.0.0.1 only."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from lfv_workbench.demo.lanes import lanes_from_template
from lfv_workbench.simulator import SimulatorControl

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 60


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "lfv_monitor.cli", *args]


def _env() -> dict[str, str]:
    # The test process's (fake) AWS settings, minus anything that would point elsewhere.
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
    env.pop("CI", None)
    return env


def _children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (Linux /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


def _port_free(url: str) -> bool:
    host, port = url.rsplit("/", 1)[-1].split(":")
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, int(port)))
        except OSError:
            return False
        return True


@pytest.fixture
def local_up() -> Iterator[tuple[subprocess.Popen[str], dict[str, Any]]]:
    process = subprocess.Popen(
        _cli("local", "up", "--aws-port", "0", "--simulator-port", "0", "--speed", "0"),
        cwd=ROOT,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # blocks until the stack is ready (or the process ends)
        assert line, (
            f"local up printed nothing; stderr: {process.stderr.read() if process.stderr else ''}"
        )
        yield process, json.loads(line)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=STARTUP_SECONDS)


def test_local_up_serves_the_stack_to_a_plain_boto3_client_and_stops_cleanly(
    local_up: tuple[subprocess.Popen[str], dict[str, Any]],
) -> None:
    # Given `lfv-monitor local up` running, and the JSON line it printed
    process, info = local_up
    for key in (
        "simulator_url",
        "aws_endpoint_url",
        "region",
        "table_name",
        "event_bus_name",
        "topic_arn",
        "events_queue_url",
        "notifications_queue_url",
        "env",
    ):
        assert info[key], key
    assert info["aws_endpoint_url"].startswith("http://127.0.0.1:")
    assert info["simulator_url"].startswith("http://127.0.0.1:")
    session = boto3.Session(
        aws_access_key_id=info["env"]["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=info["env"]["AWS_SECRET_ACCESS_KEY"],
        region_name=info["region"],
    )

    def client(service: str) -> Any:
        return session.client(service, endpoint_url=info["aws_endpoint_url"])  # type: ignore[call-overload]

    # When a plain boto3 client uses it
    tables = client("dynamodb").list_tables()["TableNames"]
    client("sns").publish(TopicArn=info["topic_arn"], Subject="hello", Message="from a test")
    client("events").put_events(
        Entries=[
            {
                "EventBusName": info["event_bus_name"],
                "Source": "a.test",
                "DetailType": "Test",
                "Detail": "{}",
            }
        ]
    )
    sqs = client("sqs")
    notification = sqs.receive_message(QueueUrl=info["notifications_queue_url"])["Messages"]
    event = sqs.receive_message(QueueUrl=info["events_queue_url"])["Messages"]
    clock = SimulatorControl(info["simulator_url"]).advance(60)

    # Then the template's table is there, both capture queues received, the clock moves on demand
    assert info["table_name"] in tables
    envelope = json.loads(notification[0]["Body"])
    assert (envelope["Subject"], envelope["Message"]) == ("hello", "from a test")
    assert json.loads(event[0]["Body"])["source"] == "a.test"
    assert clock["now"] == 60

    # When it receives SIGTERM
    children = _children(process.pid)
    process.send_signal(signal.SIGTERM)
    # Then it exits 0, leaves no process behind and frees both ports
    assert process.wait(timeout=30) == 0
    assert not [pid for pid in children if _alive(pid)]
    deadline = time.monotonic() + 10
    while not (_port_free(info["aws_endpoint_url"]) and _port_free(info["simulator_url"])):
        assert time.monotonic() < deadline, "a port is still taken after local up exited"
        time.sleep(0.1)


def test_demo_records_and_delivers_every_simulator_change_once() -> None:
    # Given no terminal (as in CI)
    # When the demo plays its scenario and prints its summary as JSON
    done = subprocess.run(
        _cli("demo", "--json"),
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # Then it exits 0 and every change the simulator made was recorded and delivered once
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    changes = summary["changes"]
    assert summary["match"] is True
    assert changes["simulator"] >= 10
    assert changes["simulator"] == changes["recorded"] == changes["events"]
    assert changes["events"] == changes["notifications"]
    assert summary["duplicates"] == {"events": 0, "notifications": 0}
    assert summary["differences"] == []
    # and the email and chat lanes hold only what template.yaml's default filters pass: fewer
    # than the topic carries (the match above holds each lane to exactly its share)
    lanes = lanes_from_template(ROOT / "template.yaml")
    assert summary["lanes"]["email"]["statuses"] == list(lanes.email)
    assert summary["lanes"]["chat"]["statuses"] == list(lanes.chat)
    assert 0 < summary["lanes"]["email"]["delivered"] < changes["notifications"]
    assert 0 < summary["lanes"]["chat"]["delivered"] < changes["notifications"]
    # and the scenario's cases all happened: a throttled cycle, each kind of change
    assert summary["throttledCycles"] >= 1
    assert set(summary["changesByType"]) == {"STATUS", "STATUS_MESSAGE", "DISCOVERED", "REMOVED"}
    history = summary["history"]["items"]
    assert history[0]["changeType"] == "BASELINE"
    assert [item["version"] for item in history] == list(range(1, len(history) + 1))


def test_demo_without_a_terminal_prints_plain_lines_and_the_summary() -> None:
    done = subprocess.run(
        _cli("demo"),
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "\x1b[" not in done.stdout  # no terminal codes in a pipe
    assert any("baseline" in line for line in lines)
    assert any("rule  <- " in line for line in lines)
    assert any("email <- Subject: FAILED" in line for line in lines)
    assert any("slack <- " in line for line in lines)
    # and each lane says what it filters, and shows exactly the changes its filter passes
    lanes = lanes_from_template(ROOT / "template.yaml")
    assert any(
        "email: " in line and "NotifyStatuses" in line and ", ".join(lanes.email) in line
        for line in lines
    )
    assert any(
        "slack: " in line and "ChatStatuses" in line and ", ".join(lanes.chat) in line
        for line in lines
    )
    announced = [line.rsplit("-> ", 1)[1] for line in lines if "rule  <- " in line]
    emails = [line.split("Subject: ", 1)[1].split(":")[0] for line in lines if "email <- " in line]
    chats = [line for line in lines if "slack <- " in line]
    assert sorted(emails) == sorted(s for s in announced if s in lanes.email)
    assert len(chats) == sum(1 for s in announced if s in lanes.chat)
    assert len(emails) < len(announced)  # CREATED, RUNNING, REMOVED are not emailed
    assert any(line.startswith("Audit history of ") for line in lines)
    assert lines[-1].startswith("Summary: ") and "all match" in lines[-1]


def test_demo_exits_non_zero_and_names_the_field_for_a_bad_scenario(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"projects": [{"name": "p", "jobs": [{"name": "j"}]}]}))
    done = subprocess.run(
        _cli("demo", "--scenario", str(bad)),
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "bad.json" in done.stderr and "timeline" in done.stderr
