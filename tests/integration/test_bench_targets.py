"""The multi-target benchmark's smoke run: targets polled at once, each at its own minimum.

A few targets with a raised client rate and no service quota (the counts do not depend on
them) but 100 ms per call, so each target's invocation takes a visible time.
"""

from __future__ import annotations

import pytest
from benchmarks.harness import Endpoints
from benchmarks.targets import org_scenario, plan_targets, run_targets

from lfv_workbench.simulator import SimulatorServer, parse_scenario


def test_the_targets_are_distinct_accounts_and_regions_of_different_sizes() -> None:
    targets = plan_targets(20)
    assert len({t.id for t in targets}) == 20
    assert {t.region for t in targets} == {"eu-west-1", "us-east-1"}
    assert {len(t.fleet.projects) for t in targets} == {4, 8, 12, 16, 20}
    # and the simulator accepts them as one organization scenario
    scenario = parse_scenario(org_scenario(targets, latency_ms=0, quota=None))
    assert len(scenario.accounts) == 20


def test_a_period_takes_the_slowest_target_and_each_target_its_minimum(
    aws_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given three targets of 4, 8 and 12 projects on one simulator and moto
    with SimulatorServer(host="127.0.0.1", port=0, speed=0) as simulator:
        monkeypatch.setenv("AWS_ENDPOINT_URL", aws_endpoint)
        monkeypatch.setenv("AWS_ENDPOINT_URL_LOOKOUTVISION", simulator.url)
        # When every period polls them all at once
        result = run_targets(
            Endpoints(simulator.url, aws_endpoint),
            count=3,
            rate=50.0,
            latency_ms=100.0,
            quota=None,
        )
    # Then every target made exactly the single-account minimum of calls in every period
    assert result["summary"]["all_at_minimum"], result["periods"]
    assert not result["summary"]["deadline_reached"]
    # and each period lasted about as long as its slowest target, well under the sum
    for period in result["periods"]:
        assert period["wall_s"] < 0.8 * period["sum_of_targets_s"], period
        assert period["wall_s"] >= period["slowest_target_s"]
