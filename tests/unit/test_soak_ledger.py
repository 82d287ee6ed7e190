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
from lfv_workbench.soak.ledger import (
    CycleRecord,
    SoakResult,
    expected_history,
    health_account,
    loses_response,
)
from lfv_workbench.soak.plan import (
    DEGRADED,
    FORCED_KINDS,
    KINDS,
    MAX_DEGRADED_RUN,
    MIN_STATE_CYCLES,
    POISON_KINDS,
    FaultPlanner,
    SoakConfig,
    plan_kinds,
)
from lfv_workbench.soak.scenario import RECREATED, make_scenario


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
        run = run + 1 if kind in DEGRADED else 0
        assert run <= MAX_DEGRADED_RUN
    assert set(plan) == set(KINDS)


@pytest.mark.parametrize("seed", range(20))
def test_even_a_short_plan_places_every_outage_kind_once(seed: int) -> None:
    # Given a run of 12 cycles, too short for the draw alone to cover the rare kinds
    plan = plan_kinds(random.Random(seed), SoakConfig(cycles=12, clean_tail=3))
    # Then a denied project, an unreachable service and refused writes each come once at least
    assert set(FORCED_KINDS) <= set(plan)
    run = 0
    for kind in plan:
        run = run + 1 if kind in DEGRADED else 0
        assert run <= MAX_DEGRADED_RUN


def test_the_planner_denies_a_present_project_first_then_keeps_a_denial_for_a_second_cycle() -> (
    None
):
    planner = FaultPlanner(random.Random(3), SoakConfig(cycles=50), ["soak-p0", "soak-p1"])
    first = planner.lfv("denied")
    assert first["*"]["denied_projects"] == ["soak-p0"]
    again = planner.lfv("denied")  # the cycle after: the same project
    assert [p for layer in again.values() for p in layer.get("denied_projects", [])] == ["soak-p0"]
    assert "denied_projects" not in str(planner.lfv("clean"))
    assert planner.lfv("unreachable")["unreachable"] is True
    (rule,) = planner.wire("store", 5) or []
    assert (rule.kind, rule.service, rule.operation) == ("deny", "dynamodb", "TransactWriteItems")


def test_each_poison_kind_comes_first_and_only_before_a_cycle_the_ledger_reads() -> None:
    planner = FaultPlanner(random.Random(1), SoakConfig(cycles=50), ["p"])
    assert planner.poison("clean", 1) is None  # the baseline's neighbour: nothing yet
    assert planner.poison("crash", 5) is None and planner.poison("overlap", 5) is None
    assert [planner.poison("wire", i) for i in range(2, 6)] == list(POISON_KINDS)


def test_the_scenario_recreates_jobs_and_serves_text_no_attribute_holds() -> None:
    scenario = make_scenario(random.Random(4), cycles=50, interval=60, jobs=35)
    jobs = [job for project in scenario["projects"] for job in project["jobs"]]
    names = Counter(job["name"] for job in jobs)
    recreated = [name for name, n in names.items() if n == 2]
    assert len(recreated) == len(RECREATED)
    for name in recreated:
        first, again = (job for job in jobs if job["name"] == name)
        created = again["timeline"][0]["at"]
        # deleted and created again between two cycle times, early enough for a short run
        assert first["deleted_at"] < created < (first["deleted_at"] // 60 + 1) * 60
        assert created < 50 * 60 / 2
    texts = [(s["status"], s.get("message") or "") for job in jobs for s in job["timeline"]]
    assert any(len(status) == 2100 for status, _ in texts)
    assert any(len(message) > 200_000 for _, message in texts)
    assert any("\ud800" in status + message for status, message in texts)
    assert any("\x1b" in message for _, message in texts)
    assert len(jobs) == 35  # incarnations included


def record(kind: str, healths: list[str], **extra: Any) -> CycleRecord:
    cycle = CycleRecord(3, kind, 180.0, 0.0, **extra)
    cycle.reports = [{"health": h, "poisonItems": 0} for h in healths]
    return cycle


def test_an_outage_reported_healthy_is_the_quiet_failure_the_ledger_fails_on() -> None:
    # Given a cycle whose project was denied, but whose report said healthy
    quiet = health_account([record("denied", ["healthy"], outage="project p denied")])
    # Then the verdict names it
    assert quiet["unhealthy_as_healthy"] == ["cycle 3 (denied): project p denied"]
    assert "unhealthy cycles reported as healthy" in "; ".join(result(**quiet).problems())
    # And a denied cycle reported denied, a clean one healthy, balance
    fine = health_account(
        [record("denied", ["denied"], outage="project p denied"), record("clean", ["healthy"])]
    )
    assert result(**fine).ok and fine["outages"] == 1
    assert fine["health"] == Counter({"denied": 1, "healthy": 1})


def test_a_clean_cycle_reported_unhealthy_and_poison_never_counted_fail_too() -> None:
    alarm = health_account([record("clean", ["partial"])])
    assert "clean cycles reported unhealthy" in "; ".join(result(**alarm).problems())
    unseen = health_account([record("wire", ["healthy"], poison="outbox entry")])
    assert "never set aside" in "; ".join(result(**unseen).problems())
    seen = record("wire", ["healthy"], poison="outbox entry")
    seen.reports[0]["poisonItems"] = 1
    assert result(**health_account([seen])).ok


def test_a_cycle_that_could_not_see_a_project_is_not_an_observation_time_for_it() -> None:
    denied = CycleRecord(1, "denied", 120.0, 0.0, unseen={"p"})
    assert not denied.observes("p") and denied.observes("q")
    assert not CycleRecord(1, "unreachable", 120.0, 0.0, unseen={"*"}).observes("q")


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
