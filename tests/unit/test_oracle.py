"""The expected-states oracle the demo, the soak and the benchmarks hold the monitor to."""

from __future__ import annotations

from lfv_workbench.oracle import REMOVED, JobTruth, Observed, Step, jobs_from_state, observed_states


def test_a_job_shows_the_last_step_it_reached_only_while_its_project_exists() -> None:
    truth = JobTruth("p", "j", (Step(0, "CREATED", None), Step(50, "RUNNING", "go")), 30, 200)
    assert [truth.state_at(t) for t in (10, 40, 60)] == [
        None,
        Step(0, "CREATED", None),
        Step(50, "RUNNING", "go"),
    ]
    assert truth.state_at(200) is None  # deleted


def test_each_distinct_state_is_observed_once_with_the_time_it_was_first_seen() -> None:
    truth = JobTruth(
        "p", "j", (Step(0, "RUNNING", "a"), Step(70, "RUNNING", "a"), Step(80, "FAILED", "x"))
    )
    assert observed_states(truth, [120, 60, 180]) == [
        Observed("RUNNING", "a", 60),
        Observed("FAILED", "x", 120),
    ]


def test_deletion_in_progress_is_removed_once_and_a_final_state_stays() -> None:
    running = JobTruth("p", "j", (Step(0, "RUNNING", "r"),), gone_at=100)
    assert observed_states(running, [60, 120, 180]) == [
        Observed("RUNNING", "r", 60),
        Observed(REMOVED, None, 120),
    ]
    done = JobTruth("p", "j", (Step(0, "SUCCEEDED", None),), gone_at=100)
    assert observed_states(done, [60, 120]) == [Observed("SUCCEEDED", None, 60)]


def test_the_simulators_state_gives_each_job_its_projects_life_and_its_own_deletion() -> None:
    # Given the simulator's state: a late project deleted at 500, and a job deleted at 300
    state = {
        "projects": [{"name": "p", "appears_at": 100, "deleted_at": 500}],
        "jobs": [
            {
                "project": "p",
                "job": "a",
                "history": [{"at": 0, "status": "CREATED", "message": None}],
            },
            {
                "project": "p",
                "job": "b",
                "history": [{"at": 0, "status": "CREATED", "message": None}],
            },
        ],
    }
    # When it is read with the scenario's job deletions
    a, b = jobs_from_state(state, {("p", "a"): 300})
    # Then a job ends with the earlier of its own and its project's deletion
    assert (a.appears_at, a.gone_at) == (100, 300)
    assert (b.appears_at, b.gone_at) == (100, 500)
    assert [a.exists(t) for t in (50, 150, 350)] == [False, True, False]
