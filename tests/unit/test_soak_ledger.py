"""The soak's own logic: the scenario's guarantees, the plan, the ground truth, the verdict."""

from __future__ import annotations

import itertools
import random
import warnings
from collections import Counter
from typing import Any

import pytest

from lfv_workbench.oracle import JobTruth, Step
from lfv_workbench.simulator import ScenarioWarning, parse_scenario
from lfv_workbench.soak.ledger import SoakResult, expected_history, loses_response
from lfv_workbench.soak.plan import MAX_DEGRADED_RUN, MIN_STATE_CYCLES, SoakConfig, plan_kinds
from lfv_workbench.soak.scenario import make_scenario


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_scenario_is_valid_and_every_state_outlasts_the_degraded_runs(seed: int) -> None:
    scenario = make_scenario(random.Random(seed), cycles=50, interval=60, jobs=40)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScenarioWarning)
        parse_scenario(scenario)
    for project in scenario["projects"]:
        for job in project["jobs"]:
            ats = [step["at"] for step in job["timeline"]]
            if len(ats) == 2 and ats[1] - ats[0] == 30:
                continue  # a flash job: starts and ends between two cycle times
            ends = [a for a in (job.get("deleted_at"), project.get("deleted_at")) if a]
            end = min(ends, default=None)
            live = [a for a in ats if end is None or a < end] + ([end] if end else [])
            dwell = [b - a for a, b in itertools.pairwise(live)]
            assert min(dwell, default=1e9) >= MIN_STATE_CYCLES * 60, job["name"]
    assert MIN_STATE_CYCLES > MAX_DEGRADED_RUN + 1


@pytest.mark.parametrize("seed", range(5))
def test_the_plan_starts_and_ends_clean_and_never_degrades_too_long(seed: int) -> None:
    plan = plan_kinds(random.Random(seed), SoakConfig(cycles=200, clean_tail=3))
    assert plan[0] == "clean" and plan[-3:] == ["clean"] * 3 and len(plan) == 203
    run = 0
    for kind in plan:
        run = run + 1 if kind in ("lfv", "crash") else 0
        assert run <= MAX_DEGRADED_RUN
    assert set(plan) == {"clean", "wire", "lfv", "crash", "overlap"}


def job(history: list[tuple[float, str, str]], deleted: float | None = None) -> JobTruth:
    steps = tuple(Step(at, status, message) for at, status, message in history)
    return JobTruth("p", "j", steps, gone_at=deleted)


def test_ground_truth_is_the_distinct_states_at_cycle_times() -> None:
    timeline = [(0, "CREATED", "a"), (70, "RUNNING", "b"), (100, "RUNNING", "c"), (110, "X", "d")]
    # 100 and 110 fall between cycle times 60 and 120: only X is seen at 120
    assert expected_history(job(timeline), [60, 120, 180]) == [("CREATED", "a"), ("X", "d")]


def test_a_job_deleted_in_progress_ends_removed_and_a_finished_one_does_not() -> None:
    running = job([(0, "RUNNING", "r")], deleted=100)
    assert expected_history(running, [60, 120, 180]) == [("RUNNING", "r"), ("REMOVED", None)]
    done = job([(0, "SUCCEEDED", "s")], deleted=100)
    assert expected_history(done, [60, 120]) == [("SUCCEEDED", "s")]


def result(**overrides: Any) -> SoakResult:
    values: dict[str, Any] = {
        "seed": 1,
        "cycles": 10,
        "faults": Counter(),
        "changes": 5,
        "recorded": 5,
        "announced": 4,
        "delivered": {"events": 4, "sns": 4},
        "deliveries": {"events": 4, "sns": 4},
        "lost": [],
        "extra": [],
        "undelivered": [],
        "duplicates": [],
        "id_conflicts": [],
        "max_lag": 1,
        "max_clean_lag": 1,
        "late": [],
        "unhandled": [],
        "wall_seconds": 1.0,
    }
    return SoakResult(**{**values, **overrides})


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"lost": ["p/j RUNNING"]}, "changes lost"),
        ({"undelivered": ["events p/j"]}, "never delivered"),
        ({"id_conflicts": ["events (p, j, FAILED)"]}, "different event ids"),
        ({"duplicates": [{"cause": "none"}]}, "not after an injected crash"),
        ({"late": ["events p/j after 3 clean cycles"]}, "more than 2 clean cycles"),
        ({"unhandled": ["cycle 3: KeyError"]}, "unhandled"),
    ],
)
def test_the_verdict_fails_on_each_broken_promise(overrides: dict[str, Any], problem: str) -> None:
    broken = result(**overrides)
    assert not broken.ok
    assert problem in broken.render()


def test_only_duplicates_after_a_crash_or_a_lost_response_are_allowed() -> None:
    assert result(duplicates=[{"cause": "crash"}, {"cause": "lost_response"}]).ok
    overlap = result(duplicates=[{"cause": "overlap"}, {"cause": "crash"}])
    assert not overlap.ok
    assert "1 duplicates not after an injected crash" in overlap.render()


def test_a_publish_delayed_past_the_timeout_before_forwarding_counts_as_a_lost_response() -> None:
    # the proxy still forwards the late request: the service acts, the client has retried
    assert loses_response("delay_before", "sns")
    assert loses_response("delay_after", "events")
    assert loses_response("reset_after", "sns")
    # a reset before forwarding never reaches the service; DynamoDB writes are not deliveries
    assert not loses_response("reset_before", "sns")
    assert not loses_response("delay_before", "dynamodb")
