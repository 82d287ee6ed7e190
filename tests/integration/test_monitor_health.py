"""The health verdict and partial failure over real HTTP (issue 12, points 1 and 2): the
simulator behind a proxy that denies one project, moto server for the table, the bus and the
topic; driven through the Lambda handler and ``lfv-monitor poll``."""

from __future__ import annotations

from typing import Any

import pytest

from lfv_monitor.bootstrap import build_monitor
from lfv_monitor.cli import main
from tests.integration.test_monitor_cycle import job, poll
from tests.support.deny_proxy import DenyProxy
from tests.support.emulated import Stack, monitored_stack

SCENARIO = {
    "projects": [
        {"name": "open", "jobs": [job("o-1", (0, "SUCCEEDED", "done"))]},
        {"name": "secret", "jobs": [job("s-1", (0, "SUCCEEDED", "done"))]},
        {
            "name": "late",
            "appears_at": 100,
            "jobs": [job("l-1", (100, "CREATED", "queued"), (150, "RUNNING", "compiling"))],
        },
    ]
}


@pytest.fixture
def stack(
    aws_endpoint: str,
    deny_proxy: DenyProxy,
    simulator_control: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> Stack:
    simulator_control.load_scenario(SCENARIO)
    simulator_control.set_faults({"*": {"rate_per_second": None}})
    return monitored_stack(aws_endpoint, deny_proxy.url, monkeypatch)


def announced(stack: Stack) -> list[tuple[str, str]]:
    return [
        (e["detail"]["jobName"], e["detail"]["changeType"]) for e in stack.drain(stack.rule_queue)
    ]


def test_a_denied_project_is_reported_and_never_blinds_the_monitor_to_the_others(
    stack: Stack, deny_proxy: DenyProxy, simulator_control: Any
) -> None:
    # Given one project whose ListModelPackagingJobs is denied during the first scan
    deny_proxy.denied = {"secret"}
    monitor = build_monitor()
    first = poll(monitor)
    # Then the cycle is not healthy and says why, but the others' baseline is complete
    assert (first["health"], first["succeeded"]) == ("denied", False)
    assert first["projectFailureStreak"] == 1
    # When a job starts in a project created after the first scan
    simulator_control.advance(120)
    second = poll(monitor)
    # Then it is announced as discovered (not swallowed by an endless baseline)
    assert announced(stack) == [("l-1", "DISCOVERED")]
    assert second["health"] == "denied" and second["projectFailureStreak"] == 2
    # When the denied project becomes readable, its jobs get a silent baseline
    deny_proxy.denied = set()
    simulator_control.advance(60)
    third = poll(monitor)
    assert third["changesByType"].get("BASELINE") == 1
    assert [a for a in announced(stack) if a[0] == "s-1"] == []
    assert (third["health"], third["projectFailureStreak"]) == ("healthy", 0)


def test_poll_exits_1_with_one_line_when_not_healthy_and_0_when_healthy(
    stack: Stack, deny_proxy: DenyProxy, capsys: pytest.CaptureFixture[str]
) -> None:
    deny_proxy.denied = {"secret"}
    assert main(["poll"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("lfv-monitor poll: not healthy: denied")
    deny_proxy.denied = set()
    assert main(["poll"]) == 0
    assert capsys.readouterr().err == ""


def test_a_missing_table_is_health_store_and_exit_1(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["poll", "--table", "no-such-table", "--json"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not healthy: store" in err[0]
