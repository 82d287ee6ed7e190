"""Security: no secret in any log line, event, notification or stored item; loopback by default."""

from __future__ import annotations

import argparse
import inspect
import json
import logging
from typing import Any

import pytest

from lfv_monitor.bootstrap import build_monitor
from lfv_workbench.commands import simulator as simulator_command
from lfv_workbench.simulator import SimulatorServer
from lfv_workbench.testing.faultproxy import FaultProxy
from tests.integration.test_monitor_cycle import SCENARIO, poll
from tests.support.emulated import Stack, monitored_stack

ACCESS_KEY_ID = "AKIAFAKESECURITYTEST"
SECRET_ACCESS_KEY = "fAkE/SeCrEt+KeyThatMustNeverBeLogged0123"
SESSION_TOKEN = "FakeSessionTokenThatMustNeverBeLogged//abc=="


def test_a_cycle_leaks_no_credentials_anywhere(
    stack: Stack,
    simulator_control: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given known fake credentials and every log at DEBUG
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
    monkeypatch.setenv("AWS_SESSION_TOKEN", SESSION_TOKEN)
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "DEBUG")
    caplog.set_level(logging.DEBUG, logger="lfv_monitor")
    simulator_control.load_scenario(SCENARIO)
    monitor = build_monitor()
    # When cycles record and announce changes (and a throttled, retried call is logged)
    summaries = []
    for advance in (30, 60, 60, 60):
        simulator_control.advance(advance)
        summaries.append(poll(monitor))
    assert sum(s["announced"] for s in summaries) > 0
    # Then neither secret appears in the logs, the cycle summaries, the events, the
    # notifications or the table (the access key id is not a secret, but is not logged either)
    outputs = capsys.readouterr()
    items = stack.ddb.scan(TableName=stack.table)["Items"]
    haystack = "\n".join(
        [
            outputs.out,
            outputs.err,
            caplog.text,
            json.dumps(summaries, default=str),
            json.dumps(stack.drain(stack.rule_queue)),
            json.dumps(stack.drain(stack.all_queue)),
            json.dumps(items, default=str),
        ]
    )
    assert "job changed" in haystack or "changesRecorded" in haystack  # we did capture output
    for secret in (SECRET_ACCESS_KEY, SESSION_TOKEN, ACCESS_KEY_ID):
        assert secret not in haystack


@pytest.fixture
def stack(aws_endpoint: str, simulator: Any, monkeypatch: pytest.MonkeyPatch) -> Stack:
    return monitored_stack(aws_endpoint, simulator.url, monkeypatch)


def test_the_simulator_and_the_fault_proxy_bind_loopback_by_default(aws_endpoint: str) -> None:
    assert inspect.signature(SimulatorServer).parameters["host"].default == "127.0.0.1"
    server = SimulatorServer(port=0).start()
    try:
        assert server.url.startswith("http://127.0.0.1:")
    finally:
        server.stop()
    with FaultProxy(aws_endpoint) as proxy:
        assert proxy.url.startswith("http://127.0.0.1:")


def test_the_simulator_command_defaults_to_loopback() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    simulator_command.register(sub)
    args = parser.parse_args(["simulator"])
    assert args.host == "127.0.0.1"


def test_the_simulator_warns_when_told_to_bind_another_address(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a start that never binds (tests must not listen beyond 127.0.0.1)
    def refuse(self: SimulatorServer) -> SimulatorServer:
        raise OSError(99, "not binding in tests")

    monkeypatch.setattr(SimulatorServer, "start", refuse)
    parser = argparse.ArgumentParser()
    simulator_command.register(parser.add_subparsers())
    # When the user asks for every interface
    code = simulator_command.run(parser.parse_args(["simulator", "--host", "0.0.0.0"]))
    # Then a warning says the simulator would be reachable from the network without auth
    err = capsys.readouterr().err
    assert "WARNING: binding the simulator to 0.0.0.0" in err and "no authentication" in err
    assert code == 1


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1"])
def test_loopback_hosts_bind_without_a_warning(
    host: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def refuse(self: SimulatorServer) -> SimulatorServer:
        raise OSError(99, "not binding in tests")

    monkeypatch.setattr(SimulatorServer, "start", refuse)
    parser = argparse.ArgumentParser()
    simulator_command.register(parser.add_subparsers())
    simulator_command.run(parser.parse_args(["simulator", "--host", host]))
    assert "WARNING" not in capsys.readouterr().err
