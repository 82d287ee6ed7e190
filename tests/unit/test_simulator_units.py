"""Scenario validation, the virtual clock and fault decisions, without a network."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lfv_workbench.simulator import (
    ScenarioError,
    ScenarioWarning,
    VirtualClock,
    example_scenario_path,
    load_scenario_file,
    parse_scenario,
)
from lfv_workbench.simulator.clock import ClockError
from lfv_workbench.simulator.faults import FaultInjector, FaultsError, parse_faults

GREENGRASS = {
    "TargetDevice": "jetson_xavier",
    "S3OutputLocation": {"Bucket": "bucket"},
    "ComponentName": "component",
}


def _scenario(job: dict[str, Any] | None = None, **project: Any) -> dict[str, Any]:
    job = job or {"name": "job-1", "timeline": [{"at": 0, "status": "CREATED"}]}
    return {"projects": [{"name": "widgets", "jobs": [job], **project}]}


class FakeWall:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_packaged_example_is_valid_and_rich() -> None:
    scenario = load_scenario_file(example_scenario_path())
    jobs = [job for project in scenario.projects for job in project.jobs]
    assert len(scenario.projects) >= 3
    assert any(p.appears_at > 0 for p in scenario.projects)
    assert any(job.deleted_at is not None for job in jobs)
    assert {"SUCCEEDED", "FAILED"} <= {job.timeline[-1].status for job in jobs}
    assert any("TargetDevice" in (job.greengrass or {}) for job in jobs)
    assert any("TargetPlatform" in (job.greengrass or {}) for job in jobs)
    assert scenario.warnings() == []


@pytest.mark.parametrize(
    ("scenario", "expected"),
    [
        (_scenario(name="bad name!"), "projects[0].name"),
        (
            _scenario(
                {
                    "name": "j",
                    "timeline": [{"at": 5, "status": "RUNNING"}, {"at": 1, "status": "FAILED"}],
                }
            ),
            "projects[0].jobs[0].timeline: steps must be in time order",
        ),
        (_scenario({"name": "j", "timeline": []}), "projects[0].jobs[0].timeline"),
        (
            _scenario({"name": "x" * 65, "timeline": [{"at": 0, "status": "CREATED"}]}),
            "less than or equal to 64",
        ),
        (
            _scenario(
                {
                    "name": "j",
                    "greengrass": {
                        **GREENGRASS,
                        "TargetPlatform": {"Os": "LINUX", "Arch": "ARM64"},
                    },
                    "timeline": [{"at": 0, "status": "CREATED"}],
                }
            ),
            "exactly one of TargetDevice and TargetPlatform",
        ),
        (
            _scenario(
                {"name": "j", "model_version": "2", "timeline": [{"at": 0, "status": "CREATED"}]}
            ),
            "jobs[0].model_version: '2' is not one of the project's model_versions",
        ),
        ({"projects": [], "faults": {"ListThings": {}}}, "faults.ListThings: unknown operation"),
        ({"faults": {"*": {"error_rate": 2}}}, "faults.*.error_rate"),
        (
            {"faults": {"*": {"throttle_windows": [{"from": 10, "to": 5}]}}},
            "'to' (5.0) must be after 'from'",
        ),
        ({"start_time": "2026-11-01T00:00:00"}, "start_time: start_time needs a time zone"),
        ({"projects": [], "surprise": 1}, "surprise: Extra inputs are not permitted"),
    ],
)
def test_bad_scenario_is_refused_naming_field_and_reason(
    scenario: dict[str, Any], expected: str
) -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(scenario)
    assert expected in str(caught.value)


def test_bad_scenario_file_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{ not json", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"bad\.json: not valid JSON at line 1"):
        load_scenario_file(bad)
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario_file(tmp_path / "missing.json")


def test_unknown_status_is_allowed_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "odd.json"
    path.write_text(
        json.dumps(_scenario({"name": "j", "timeline": [{"at": 0, "status": "PAUSED"}]}))
    )
    with pytest.warns(ScenarioWarning, match="'PAUSED' is not a known status"):
        scenario = load_scenario_file(path)
    assert scenario.projects[0].jobs[0].timeline[0].status == "PAUSED"


def test_clock_runs_at_speed_and_never_goes_back() -> None:
    wall = FakeWall()
    clock = VirtualClock(speed=10, monotonic=wall)
    wall.t += 3
    assert clock.now() == pytest.approx(30)
    clock.advance(5)
    assert clock.now() == pytest.approx(35)
    clock.set_speed(0)
    wall.t += 100
    assert clock.now() == pytest.approx(35)
    assert clock.iso() == "2026-11-01T00:00:35Z"
    with pytest.raises(ClockError, match="never goes back"):
        clock.set(10)
    with pytest.raises(ClockError):
        clock.advance(-1)


def test_rate_quota_throttles_past_five_per_second_and_refills() -> None:
    wall = FakeWall()
    injector = FaultInjector(parse_faults({}), monotonic=wall)
    decisions = [injector.decide("ListProjects", 0) for _ in range(6)]
    assert [d.throttle_retry_after for d in decisions] == [None] * 5 + [1]
    # Other operations have their own quota
    assert injector.decide("DescribeModelPackagingJob", 0).throttle_retry_after is None
    wall.t += 1
    assert injector.decide("ListProjects", 0).throttle_retry_after is None


def test_operation_faults_override_star_and_random_faults_are_reproducible() -> None:
    config = parse_faults(
        {
            "*": {"rate_per_second": None, "error_rate": 0.5},
            "ListProjects": {"error_code": "AccessDeniedException"},
        }
    )
    assert config.for_operation("ListProjects").error_rate == 0.5
    runs = []
    for _ in range(2):
        injector = FaultInjector(config, seed=7)
        runs.append([injector.decide("ListProjects", 0).error_code for _ in range(20)])
    assert runs[0] == runs[1]
    assert set(runs[0]) == {None, "AccessDeniedException"}


def test_throttle_window_and_body_fault_count() -> None:
    injector = FaultInjector(
        parse_faults(
            {
                "*": {"rate_per_second": None, "throttle_windows": [{"from": 100, "to": 130}]},
                "ListProjects": {"body_fault": {"kind": "html", "count": 1}},
            }
        )
    )
    assert injector.decide("ListProjects", 110).throttle_retry_after == 20
    assert injector.decide("ListProjects", 130).body_fault == "html"
    assert injector.decide("ListProjects", 131).body_fault is None


def test_faults_error_names_field() -> None:
    with pytest.raises(FaultsError, match=r"faults\.ListProjects\.body_fault\.kind"):
        parse_faults({"ListProjects": {"body_fault": {"kind": "xml"}}})
    with pytest.raises(FaultsError, match="error_code 'Nope' is not a modelled error"):
        parse_faults({"*": {"error_code": "Nope"}})
