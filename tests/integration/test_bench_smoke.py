"""The fleet benchmark's smoke run (fleet S), as CI runs it: P1 and P2 counts, exactly.

The counts are deterministic (the scenario is generated from a fixed spec and the simulator's
clock only moves when the benchmark moves it); no timing is asserted.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from benchmarks.fleet import FLEETS, build_fleet
from benchmarks.harness import Endpoints, run_fleet

from lfv_monitor.simulator import SimulatorServer

# Fleet S by hand (10 projects x 5 jobs, 3 jobs in progress, busy cycles 1-3, idle cycle 4):
# cycle 1: slot 1's job finishes and a new job starts             -> 2 changes, 4 describes
# cycle 2: slot 2's job finishes and a new job starts, slot 0's message changes, cycle 1's new
#          job starts RUNNING                                     -> 4 changes, 4 describes
# cycle 3: slot 1's (new) job's message changes, cycle 2's new job starts RUNNING
#                                                                 -> 2 changes, 3 describes
# cycle 4: nothing changes; the three jobs in progress are still described -> 0, 3
EXPECTED = {
    1: {"changes": 2, "describes": 4, "seen": 51},
    2: {"changes": 4, "describes": 4, "seen": 52},
    3: {"changes": 2, "describes": 3, "seen": 52},
    4: {"changes": 0, "describes": 3, "seen": 52},
}
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}


@pytest.fixture(scope="module")
def fleet_s(_moto_server: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    # Given fleet S on a fresh simulator and an empty account, the baseline recorded silently
    server = SimulatorServer(host="127.0.0.1", port=0, speed=0).start()
    try:
        import urllib.request

        reset = urllib.request.Request(f"{_moto_server}/moto-api/reset", method="POST")
        urllib.request.urlopen(reset, timeout=10).close()
        # When the schedule runs four steady cycles (client rate raised and no service quota:
        # the counts do not depend on them, only the time does)
        return run_fleet(
            FLEETS["S"],
            Endpoints(server.url, _moto_server),
            rate=50.0,
            latency_ms=0.0,
            quota=None,
        )
    finally:
        server.stop()


def test_the_fleet_is_what_the_expectations_describe() -> None:
    fleet = build_fleet(FLEETS["S"])
    assert FLEETS["S"].active == 3
    assert len(fleet.transitions(0, 180)) == sum(e["changes"] for e in EXPECTED.values())


def test_lookout_for_vision_calls_are_exactly_the_minimum(fleet_s: dict[str, Any]) -> None:
    # Then every cycle lists once and describes exactly the jobs that need it (P1 = 1.00)
    for row in fleet_s["cycles"]:
        calls = row["p1"]["simulator_calls"]
        assert calls == row["p1"]["minimum"], row["cycle"]
        assert calls == {
            "ListProjects": 1,
            "ListModelPackagingJobs": 10,
            "DescribeModelPackagingJob": EXPECTED[row["cycle"]]["describes"],
        }
        assert row["p1"]["ratio"] == 1.0
        assert row["throttles"] == 0


def test_dynamodb_and_publishing_calls_follow_the_cost_rules(fleet_s: dict[str, Any]) -> None:
    # Then stored state is read in batches, one transaction records each change, and events
    # and notifications go out ten to a call; the idle cycle writes and publishes nothing
    for row in fleet_s["cycles"]:
        expected = EXPECTED[row["cycle"]]
        p2 = row["p2"]
        ddb = p2["dynamodb_calls"]
        assert row["changes"] == row["announced"] == expected["changes"]
        assert row["jobs_seen"] == expected["seen"]
        assert ddb["BatchGetItem"] == math.ceil(expected["seen"] / 100) == 1
        assert ddb.get("TransactWriteItems", 0) == expected["changes"]
        assert p2["put_events_calls"] == math.ceil(expected["changes"] / 10)
        assert p2["sns_calls"] == math.ceil(expected["changes"] / 10)
        assert all(n <= 10 for n in p2["put_events_entries"] + p2["sns_entries"])
        assert all(p2["checks"].values()), p2["checks"]
    idle = fleet_s["cycles"][-1]
    assert idle["kind"] == "idle"
    assert not WRITES & set(idle["p2"]["dynamodb_calls"])
    assert idle["p2"]["write_units"] == 0
    assert idle["p2"]["put_events_calls"] == idle["p2"]["sns_calls"] == 0
