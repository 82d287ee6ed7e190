"""The fleet benchmark's smoke run (fleet S), as CI runs it: P1 and P2 counts, exactly.

The counts are deterministic (the scenario is generated from a fixed spec, the simulator's
clock only moves when the benchmark moves it, and the monitor's clock follows it, so each
period's slice of projects is fixed); no timing is asserted.
"""

from __future__ import annotations

import math
import urllib.request
from typing import Any

import pytest
from benchmarks.fleet import FLEETS, build_fleet, started_between
from benchmarks.harness import Deployment, Endpoints, run_fleet

from lfv_workbench.simulator import SimulatorServer

# Fleet S by hand (10 projects x 5 jobs, 3 jobs in progress, in proj-0000, proj-0003 and
# proj-0006; busy cycles 1-3, idle 4, drain 5, quiet 6), every project listed every period
# (FULL_SCAN_PERIODS 1, no CloudTrail). List-first: a job is described only when it is new, or
# its list entry moved, or it vanished, so describes are exactly the changes:
# cycle 1: slot 1's job finishes and a new job starts             -> 2 changes, 2 describes
# cycle 2: slot 2's job finishes and a new job starts, slot 0's message changes, cycle 1's new
#          job starts RUNNING                                     -> 4 changes, 4 describes
# cycle 3: slot 1's (new) job's message changes, cycle 2's new job starts RUNNING -> 2, 2
# cycle 4: nothing changes; the three jobs in progress are listed, not described -> 0, 0
# cycle 5: the three jobs in progress finish                      -> 3 changes, 3 describes
# cycle 6: nothing in progress, nothing changes                   -> 0, 0
EVERY_PERIOD = {
    1: {"changes": 2, "describes": 2, "listed": 10, "seen": 51, "trail": 0},
    2: {"changes": 4, "describes": 4, "listed": 10, "seen": 52, "trail": 0},
    3: {"changes": 2, "describes": 2, "listed": 10, "seen": 52, "trail": 0},
    4: {"changes": 0, "describes": 0, "listed": 10, "seen": 52, "trail": 0},
    5: {"changes": 3, "describes": 3, "listed": 10, "seen": 52, "trail": 0},
    6: {"changes": 0, "describes": 0, "listed": 10, "seen": 52, "trail": 0},
}
# The deployed settings (FULL_SCAN_PERIODS 10, CloudTrail on): one project of ten listed per
# period (cycle c lists proj-000c: the virtual clock starts at a multiple of ten periods), plus
# the projects holding a job in progress (proj-0000, proj-0003, proj-0006 until the drain);
# each new job is recorded by CloudTrail's event before the tick, so the cycle records the rest
# of the same changes (cycles 1 and 2: one DISCOVERED each comes from CloudTrail).
DEPLOYED = {
    1: {"changes": 1, "describes": 1, "listed": 4, "seen": 21, "trail": 1},
    2: {"changes": 3, "describes": 3, "listed": 4, "seen": 22, "trail": 1},
    3: {"changes": 2, "describes": 2, "listed": 3, "seen": 17, "trail": 0},
    4: {"changes": 0, "describes": 0, "listed": 4, "seen": 22, "trail": 0},
    5: {"changes": 3, "describes": 3, "listed": 4, "seen": 22, "trail": 0},
    6: {"changes": 0, "describes": 0, "listed": 1, "seen": 6, "trail": 0},
}
CASES = {
    "every-period": (Deployment(full_scan_periods=1, cloudtrail=False, rate=50.0), EVERY_PERIOD),
    "deployed": (Deployment(rate=50.0), DEPLOYED),
}
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}


@pytest.fixture(scope="module", params=sorted(CASES))
def fleet_s(
    request: pytest.FixtureRequest, _moto_server: str
) -> tuple[dict[str, Any], dict[int, dict[str, int]]]:
    # Given fleet S on a fresh simulator and an empty account, the baseline recorded silently
    deployment, expected = CASES[request.param]
    server = SimulatorServer(host="127.0.0.1", port=0, speed=0).start()
    try:
        reset = urllib.request.Request(f"{_moto_server}/moto-api/reset", method="POST")
        urllib.request.urlopen(reset, timeout=10).close()
        # When the schedule runs six cycles (client rate raised and no service quota: the
        # counts do not depend on them, only the time does)
        result = run_fleet(
            FLEETS["S"],
            Endpoints(server.url, _moto_server),
            deployment=deployment,
            latency_ms=0.0,
            quota=None,
        )
        return result, expected
    finally:
        server.stop()


def test_the_fleet_is_what_the_expectations_describe() -> None:
    spec = FLEETS["S"]
    fleet = build_fleet(spec)
    assert spec.active == 3
    assert [spec.kind(c) for c in range(1, spec.cycles + 1)] == [
        "busy",
        "busy",
        "busy",
        "idle",
        "drain",
        "quiet",
    ]
    for expected in (EVERY_PERIOD, DEPLOYED):
        total = sum(e["changes"] + e["trail"] for e in expected.values())
        assert len(fleet.transitions(0, spec.cycle_time(spec.cycles))) == total
    assert len(started_between(fleet, 0, spec.cycle_time(spec.cycles))) == 2


def test_lookout_for_vision_calls_are_exactly_the_minimum(
    fleet_s: tuple[dict[str, Any], dict[int, dict[str, int]]],
) -> None:
    result, expected = fleet_s
    # Then every cycle lists this period's slice and the projects with jobs in progress once,
    # and describes exactly the jobs whose list entry moved (P1 = 1.00)
    for row in result["cycles"]:
        listed = expected[row["cycle"]]["listed"]
        calls = row["p1"]["simulator_calls"]
        assert {op: calls.get(op, 0) for op in row["p1"]["minimum"]} == row["p1"]["minimum"]
        assert row["p1"]["minimum"] == {
            "ListProjects": 1,
            "ListModelPackagingJobs": listed,
            "DescribeModelPackagingJob": expected[row["cycle"]]["describes"],
        }
        assert row["p1"]["ratio"] == 1.0
        assert row["listed_the_expected_slice"], row["cycle"]
        assert row["in_progress_all_checked"], row["cycle"]
        assert row["throttles"] == 0
    # And with slices, consecutive periods list different projects
    if result["deployment"]["full_scan_periods"] > 1:
        # proj-0001..proj-0006 by the slices, and proj-0000 for its job in progress
        assert result["summary"]["projects_listed_over_all_cycles"] == 7


def test_dynamodb_and_publishing_calls_follow_the_cost_rules(
    fleet_s: tuple[dict[str, Any], dict[int, dict[str, int]]],
) -> None:
    result, expected_by_cycle = fleet_s
    # Then stored state is read in batches, one transaction records each change, and events
    # and notifications go out ten to a call; idle and quiet cycles write and publish nothing
    for row in result["cycles"]:
        expected = expected_by_cycle[row["cycle"]]
        p2 = row["p2"]
        ddb = p2["dynamodb_calls"]
        assert row["changes"] == row["announced"] == expected["changes"]
        assert row["jobs_seen"] == expected["seen"], (row["cycle"], row["jobs_seen"])
        assert ddb["BatchGetItem"] == math.ceil(expected["seen"] / 100) == 1
        assert ddb.get("TransactWriteItems", 0) == expected["changes"]
        assert p2["put_events_calls"] == math.ceil(expected["changes"] / 10)
        assert p2["sns_calls"] == math.ceil(expected["changes"] / 10)
        assert all(n <= 10 for n in p2["put_events_entries"] + p2["sns_entries"])
        assert all(p2["checks"].values()), p2["checks"]
        # And each CloudTrail event recorded its new job with one transaction
        trail = row["cloudtrail"]
        assert trail["invocations"] == trail["changes"] == expected["trail"]
        assert trail["aws_calls"].get("dynamodb:TransactWriteItems", 0) == expected["trail"]
    for row in result["cycles"]:
        if row["kind"] in ("idle", "quiet"):
            assert not WRITES & set(row["p2"]["dynamodb_calls"])
            assert row["p2"]["write_units"] == 0
            assert row["p2"]["put_events_calls"] == row["p2"]["sns_calls"] == 0
