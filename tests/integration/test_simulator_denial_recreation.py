"""Two simulator capabilities the soak drives (over HTTP, boto3 against the simulator):
a project denied by the fault API (``denied_projects``), and a job deleted and re-created under
its name (a scenario that lists the name again after the first incarnation's ``deleted_at``)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from lfv_monitor.clients import lookoutvision_client
from lfv_workbench.simulator import (
    ScenarioError,
    SimulatorControl,
    SimulatorServer,
    parse_scenario,
)
from lfv_workbench.simulator.control import SimulatorControlError

NO_QUOTA = {"*": {"rate_per_second": None}}


def _client(url: str) -> Any:
    return lookoutvision_client(
        endpoint_url=url,
        region_name="us-east-1",
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )


def _job(name: str, at: float, *steps: tuple[float, str], **extra: Any) -> dict[str, Any]:
    timeline = [{"at": at, "status": "CREATED"}]
    timeline += [{"at": t, "status": status} for t, status in steps]
    return {"name": name, "timeline": timeline, **extra}


def _code(call: Any) -> str:
    with pytest.raises(ClientError) as caught:
        call()
    return str(caught.value.response["Error"]["Code"])


def test_a_denied_project_answers_access_denied_and_the_others_are_served(
    simulator: SimulatorServer, simulator_control: SimulatorControl
) -> None:
    # Given two projects with a job each
    simulator_control.load_scenario(
        {
            "projects": [
                {"name": "open", "jobs": [_job("a", 0)]},
                {"name": "secret", "jobs": [_job("b", 0)]},
            ]
        }
    )
    lfv = _client(simulator.url)
    # When every operation on "secret" is denied
    simulator_control.set_faults({**NO_QUOTA, "*": {"denied_projects": ["secret"]}})
    # Then its listing and its describes answer AccessDeniedException, as an IAM deny would
    assert _code(lambda: lfv.list_model_packaging_jobs(ProjectName="secret")) == (
        "AccessDeniedException"
    )
    assert _code(lambda: lfv.describe_model_packaging_job(ProjectName="secret", JobName="b")) == (
        "AccessDeniedException"
    )
    # And the account's project list and the other project are served as before
    assert {p["ProjectName"] for p in lfv.list_projects()["Projects"]} == {"open", "secret"}
    assert [
        j["JobName"]
        for j in lfv.list_model_packaging_jobs(ProjectName="open")["ModelPackagingJobs"]
    ] == ["a"]
    # When only the describes are denied, the listing is served again
    simulator_control.set_faults(
        {"DescribeModelPackagingJob": {"denied_projects": ["secret"], "rate_per_second": None}}
    )
    assert lfv.list_model_packaging_jobs(ProjectName="secret")["ModelPackagingJobs"]
    assert _code(lambda: lfv.describe_model_packaging_job(ProjectName="secret", JobName="b")) == (
        "AccessDeniedException"
    )
    # And the denials are counted
    assert simulator_control.state()["faults_injected"]["denied"] == 3


def test_a_denied_project_that_is_not_a_project_name_is_refused(
    simulator_control: SimulatorControl,
) -> None:
    with pytest.raises(SimulatorControlError, match=r"denied_projects\[0\]"):
        simulator_control.set_faults({"*": {"denied_projects": ["not a name!"]}})


def test_a_job_recreated_under_its_name_is_a_new_incarnation(
    simulator: SimulatorServer, simulator_control: SimulatorControl
) -> None:
    # Given a job deleted at 90 while running, and started again under its name at 100
    simulator_control.load_scenario(
        {
            "projects": [
                {
                    "name": "widgets",
                    "jobs": [
                        _job("cam-1", 0, (30, "RUNNING"), deleted_at=90),
                        _job("cam-1", 100, (200, "SUCCEEDED")),
                    ],
                }
            ]
        }
    )
    simulator_control.set_faults(NO_QUOTA)
    lfv = _client(simulator.url)
    simulator_control.advance(60)
    first = lfv.describe_model_packaging_job(ProjectName="widgets", JobName="cam-1")
    # When the clock passes the deletion: the name is gone, then back with its new creation
    simulator_control.advance(35)
    assert _code(
        lambda: lfv.describe_model_packaging_job(ProjectName="widgets", JobName="cam-1")
    ) == ("ResourceNotFoundException")
    assert lfv.list_model_packaging_jobs(ProjectName="widgets")["ModelPackagingJobs"] == []
    simulator_control.advance(120)
    second = lfv.describe_model_packaging_job(ProjectName="widgets", JobName="cam-1")
    (listed,) = lfv.list_model_packaging_jobs(ProjectName="widgets")["ModelPackagingJobs"]
    # Then the new incarnation has its own CreationTimestamp and its own lifecycle
    old, new = first["ModelPackagingDescription"], second["ModelPackagingDescription"]
    assert old["Status"] == "RUNNING" and new["Status"] == "SUCCEEDED"
    assert new["CreationTimestamp"] > old["CreationTimestamp"]
    assert listed["CreationTimestamp"] == new["CreationTimestamp"]
    # And the ground truth keeps both incarnations' histories apart
    jobs = simulator_control.state()["jobs"]
    assert [
        (j["created_at"], j["deleted_at"], [h["status"] for h in j["history"]]) for j in jobs
    ] == [
        (0, 90, ["CREATED", "RUNNING"]),
        (100, None, ["CREATED", "SUCCEEDED"]),
    ]
    # And starting it again while it exists is still a conflict
    with pytest.raises(ClientError, match="ConflictException"):
        lfv.start_model_packaging_job(
            ProjectName="widgets",
            JobName="cam-1",
            ModelVersion="1",
            Configuration={
                "Greengrass": {
                    "TargetDevice": "jetson_xavier",
                    "S3OutputLocation": {"Bucket": "bucket"},
                    "ComponentName": "component",
                }
            },
        )


@pytest.mark.parametrize(
    "jobs",
    [
        [_job("cam-1", 0), _job("cam-1", 100)],  # never deleted
        [_job("cam-1", 0, deleted_at=150), _job("cam-1", 100)],  # deleted after the new one
    ],
    ids=["never deleted", "deleted after the re-creation"],
)
def test_a_job_name_listed_twice_with_overlapping_lives_is_refused(
    jobs: list[dict[str, Any]],
) -> None:
    with pytest.raises(ScenarioError, match=r"jobs\[1\]\.name: duplicate job name 'cam-1'"):
        parse_scenario({"projects": [{"name": "widgets", "jobs": jobs}]})
