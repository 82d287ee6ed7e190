"""The demo's count of the changes the simulator made, which its summary holds the monitor to."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from lfv_workbench.demo.accounting import simulator_changes
from lfv_workbench.demo.engine import cycle_offsets, demo_faults
from lfv_workbench.simulator import demo_scenario_path, load_scenario_file, parse_scenario


def _job(project: str, job: str, *steps: tuple[float, str, str]) -> dict[str, Any]:
    return {
        "project": project,
        "job": job,
        "history": [{"at": at, "status": s, "message": m} for at, s, m in steps],
    }


def _state(*jobs: dict[str, Any], appears_at: float = 0) -> dict[str, Any]:
    return {
        "projects": [{"name": "p", "appears_at": appears_at, "deleted_at": None}],
        "jobs": list(jobs),
    }


def _scenario(deleted: dict[str, float] | None = None) -> Any:
    deleted = deleted or {}
    jobs = [
        {"name": n, "timeline": [{"at": 0, "status": "CREATED"}], "deleted_at": deleted.get(n)}
        for n in ("a", "b")
    ]
    return parse_scenario({"projects": [{"name": "p", "jobs": jobs}]})


def test_the_baseline_is_silent_and_each_distinct_state_after_it_counts_once() -> None:
    state = _state(
        _job("p", "a", (0, "CREATED", "c"), (60, "RUNNING", "r1"), (70, "RUNNING", "r2")),
        _job("p", "b", (100, "CREATED", "c"), (110, "FAILED", "x")),
    )
    changes = simulator_changes(state, _scenario(), [30, 90, 150], baseline_at=30)
    # a: RUNNING r1 never seen at a cycle time (r2 replaced it first); b: first seen failed
    assert sorted(changes.elements()) == [
        ("p", "a", "RUNNING", "r2"),
        ("p", "b", "FAILED", "x"),
    ]


def test_a_job_deleted_in_progress_is_removed_but_a_finished_one_stays_final() -> None:
    state = _state(
        _job("p", "a", (0, "RUNNING", "r")),
        _job("p", "b", (0, "SUCCEEDED", "done")),
    )
    scenario = _scenario(deleted={"a": 50, "b": 50})
    changes = simulator_changes(state, scenario, [30, 90, 150], baseline_at=30)
    assert list(changes.elements()) == [("p", "a", "REMOVED", None)]


def test_cycles_cover_the_scenario_and_two_more_and_the_quota_is_lifted() -> None:
    scenario = load_scenario_file(demo_scenario_path())
    offsets = cycle_offsets(scenario)
    assert offsets[0] == 30 and all(b - a == 60 for a, b in pairwise(offsets))
    assert offsets[-3] >= 660 > offsets[-4]  # the last scripted moment, then two cycles
    faults = demo_faults(scenario)
    assert faults["*"]["rate_per_second"] is None
    assert faults["*"]["throttle_windows"] == [{"from": 540, "to": 600}]
