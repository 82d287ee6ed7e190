"""The simulator speaks Lookout for Vision's rest-json protocol to boto3, as the model says."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ConnectionClosedError

from lfv_monitor.clients import lookoutvision_client
from lfv_workbench.simulator import (
    ScenarioError,
    SimulatorControl,
    SimulatorControlError,
    SimulatorServer,
    example_scenario_path,
    load_scenario_file,
    validate_output,
)

NO_QUOTA = {"*": {"rate_per_second": None}}
GREENGRASS = {
    "TargetDevice": "jetson_xavier",
    "S3OutputLocation": {"Bucket": "bucket", "Prefix": "out/"},
    "ComponentName": "component",
}
SEED_FIELDS = {
    "JobName",
    "ProjectName",
    "ModelVersion",
    "ModelPackagingConfiguration",
    "ModelPackagingJobDescription",
    "ModelPackagingMethod",
    "ModelPackagingOutputDetails",
    "Status",
    "StatusMessage",
    "CreationTimestamp",
    "LastUpdatedTimestamp",
}


def _client(url: str, attempts: int = 1) -> Any:
    return lookoutvision_client(
        endpoint_url=url,
        region_name="us-east-1",
        config=Config(retries={"mode": "standard", "total_max_attempts": attempts}),
    )


def _raw(
    url: str, method: str = "GET", body: Any = None
) -> tuple[int, dict[str, str], dict[str, Any]]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, method=method, data=data)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), json.loads(exc.read())


def _job(name: str, *steps: tuple[float, str, str], **extra: Any) -> dict[str, Any]:
    timeline = [{"at": at, "status": status, "message": msg} for at, status, msg in steps]
    return {"name": name, "greengrass": GREENGRASS, "timeline": timeline, **extra}


@pytest.fixture
def example(simulator: SimulatorServer, simulator_control: SimulatorControl) -> Any:
    """The packaged example loaded, the rate quota lifted; a boto3 client on it."""
    simulator_control.load_scenario(json.loads(example_scenario_path().read_text()))
    simulator_control.set_faults(NO_QUOTA)
    return _client(simulator.url)


def test_job_lifecycle_follows_the_virtual_clock(
    example: Any, simulator_control: SimulatorControl
) -> None:
    # Given the example at t=0, cam-1 was just created
    job = example.describe_model_packaging_job(ProjectName="widgets", JobName="cam-1")
    assert job["ModelPackagingDescription"]["Status"] == "CREATED"
    assert "ModelPackagingOutputDetails" not in job["ModelPackagingDescription"]
    # When virtual time passes
    simulator_control.advance(60)
    running = example.describe_model_packaging_job(ProjectName="widgets", JobName="cam-1")
    simulator_control.set_time(300)
    done = example.describe_model_packaging_job(ProjectName="widgets", JobName="cam-1")
    # Then it moves CREATED -> RUNNING -> SUCCEEDED with its messages and output details
    assert running["ModelPackagingDescription"]["Status"] == "RUNNING"
    assert running["ModelPackagingDescription"]["StatusMessage"] == "Packaging model version 1."
    description = done["ModelPackagingDescription"]
    assert description["Status"] == "SUCCEEDED"
    assert set(description) >= SEED_FIELDS
    assert description["LastUpdatedTimestamp"].isoformat() == "2026-11-01T00:05:00+00:00"
    assert description["ModelPackagingOutputDetails"]["Greengrass"]["ComponentVersion"] == "1.0.0"
    assert description["ModelPackagingConfiguration"]["Greengrass"]["ComponentVersion"] == "1.0.0"


def test_every_response_matches_the_model(simulator: SimulatorServer, example: Any) -> None:
    # Given the example at a moment where every kind of job exists
    SimulatorControl(simulator.url).set_time(420)
    url = simulator.url + "/2020-11-20/projects"
    bodies: list[tuple[str, dict[str, Any]]] = [("ListProjects", _raw(url)[2])]
    for project in bodies[0][1]["Projects"]:
        name = project["ProjectName"]
        listed = _raw(f"{url}/{name}/modelpackagingjobs")[2]
        bodies.append(("ListModelPackagingJobs", listed))
        bodies.append(("DescribeProject", _raw(f"{url}/{name}")[2]))
        for job in listed["ModelPackagingJobs"]:
            path = f"{url}/{name}/modelpackagingjobs/{job['JobName']}"
            bodies.append(("DescribeModelPackagingJob", _raw(path)[2]))
    # Then every body validates against the carried model's output shapes
    assert len(bodies) > 8
    for operation, body in bodies:
        assert validate_output(operation, body) == [], (operation, body)


def test_jobs_appear_and_disappear_as_the_scenario_says(
    example: Any, simulator_control: SimulatorControl
) -> None:
    def listed() -> set[str]:
        names = {p["ProjectName"] for p in example.list_projects()["Projects"]}
        jobs = example.list_model_packaging_jobs(ProjectName="gadgets")["ModelPackagingJobs"]
        return names | {j["JobName"] for j in jobs}

    assert listed() == {"widgets", "gadgets", "line-a", "old-c"}
    simulator_control.set_time(400)
    assert listed() == {"widgets", "gadgets", "sprockets", "line-a", "flash-b"}
    with pytest.raises(example.exceptions.ResourceNotFoundException) as caught:
        example.describe_model_packaging_job(ProjectName="gadgets", JobName="old-c")
    assert caught.value.response["ResourceType"] == "MODEL_PACKAGE_JOB"


def test_pagination_across_pages_with_opaque_tokens(
    simulator: SimulatorServer, simulator_control: SimulatorControl
) -> None:
    # Given a project with 25 jobs
    jobs = [_job(f"job-{i:02d}", (0, "CREATED", "m")) for i in range(25)]
    simulator_control.load_scenario(
        {"projects": [{"name": "big", "jobs": jobs}], "faults": NO_QUOTA}
    )
    client = _client(simulator.url)
    # When a client pages through 10 at a time
    pages = list(
        client.get_paginator("list_model_packaging_jobs").paginate(
            ProjectName="big", PaginationConfig={"PageSize": 10}
        )
    )
    # Then it sees every job once, in three pages, with opaque tokens
    assert [len(p["ModelPackagingJobs"]) for p in pages] == [10, 10, 5]
    names = [j["JobName"] for p in pages for j in p["ModelPackagingJobs"]]
    assert names == sorted(f"job-{i:02d}" for i in range(25))
    assert "job-09" not in pages[0]["NextToken"]
    # And a token from another operation or a forged one is a ValidationException
    with pytest.raises(client.exceptions.ValidationException, match="pagination token"):
        client.list_projects(NextToken=pages[0]["NextToken"])
    with pytest.raises(client.exceptions.ValidationException, match="pagination token"):
        client.list_projects(NextToken="Zm9yZ2Vk")


@pytest.mark.parametrize(
    ("method", "path", "body", "fragment"),
    [
        ("GET", "projects?maxResults=101", None, "at 'maxResults'"),
        ("GET", "projects?maxResults=0", None, "greater than or equal to 1"),
        ("GET", "projects?maxResults=ten", None, "Member must be an integer"),
        ("GET", "projects?nextToken=not-a-token!", None, "at 'nextToken'"),
        ("GET", "projects/bad_name!", None, "regular expression pattern"),
        ("GET", "projects/p/modelpackagingjobs/" + "x" * 65, None, "at 'jobName'"),
        ("POST", "projects", {"ProjectName": "-leading-dash"}, "at 'projectName'"),
        ("POST", "projects", {}, "Value null at 'projectName'"),
        (
            "POST",
            "projects/p/modelpackagingjobs",
            {"ModelVersion": "1", "Configuration": {"Greengrass": {"ComponentName": "c"}}},
            "at 'configuration.greengrass.s3OutputLocation'",
        ),
        (
            "POST",
            "projects/p/modelpackagingjobs",
            {"ModelVersion": "01", "Configuration": {"Greengrass": GREENGRASS}},
            "at 'modelVersion'",
        ),
    ],
)
def test_invalid_requests_are_validation_exceptions(
    simulator: SimulatorServer, method: str, path: str, body: Any, fragment: str
) -> None:
    # Given raw requests that botocore's own checks would have stopped before sending
    status, headers, answer = _raw(f"{simulator.url}/2020-11-20/{path}", method, body)
    # Then the simulator answers a modelled ValidationException naming the member
    assert status == 400
    assert headers["x-amzn-ErrorType"] == "ValidationException"
    assert fragment in answer["message"]


def test_create_start_conflict_and_not_found(
    simulator: SimulatorServer, simulator_control: SimulatorControl
) -> None:
    simulator_control.set_faults(NO_QUOTA)
    client = _client(simulator.url)
    # A created project has model version 1 ready to package
    created = client.create_project(ProjectName="fresh")["ProjectMetadata"]
    assert created["ProjectArn"].endswith(":project/fresh")
    with pytest.raises(client.exceptions.ConflictException) as dup_project:
        client.create_project(ProjectName="fresh")
    assert dup_project.value.response["ResourceType"] == "PROJECT"
    config = {"Greengrass": {**GREENGRASS, "ComponentVersion": "3.2.1"}}
    started = client.start_model_packaging_job(
        ProjectName="fresh", ModelVersion="1", JobName="pkg-1", Configuration=config
    )
    assert started["JobName"] == "pkg-1"
    with pytest.raises(client.exceptions.ConflictException) as dup_job:
        client.start_model_packaging_job(
            ProjectName="fresh", ModelVersion="1", JobName="pkg-1", Configuration=config
        )
    assert dup_job.value.response["ResourceType"] == "MODEL_PACKAGE_JOB"
    # TargetDevice xor TargetPlatform; required fields
    both = {"Greengrass": {**GREENGRASS, "TargetPlatform": {"Os": "LINUX", "Arch": "X86_64"}}}
    with pytest.raises(client.exceptions.ValidationException, match="exactly one of"):
        client.start_model_packaging_job(ProjectName="fresh", ModelVersion="1", Configuration=both)
    with pytest.raises(client.exceptions.ResourceNotFoundException) as no_model:
        client.start_model_packaging_job(
            ProjectName="fresh", ModelVersion="7", Configuration=config
        )
    assert no_model.value.response["ResourceType"] == "MODEL"
    with pytest.raises(client.exceptions.ResourceNotFoundException) as no_project:
        client.list_model_packaging_jobs(ProjectName="nowhere")
    assert no_project.value.response["ResourceId"] == "nowhere"
    # The started job follows the defaults: CREATED, RUNNING after 5 s, SUCCEEDED after 120 s more
    statuses = []
    for step in (0, 5, 120):
        simulator_control.advance(step)
        job = client.describe_model_packaging_job(ProjectName="fresh", JobName="pkg-1")
        statuses.append(job["ModelPackagingDescription"]["Status"])
    assert statuses == ["CREATED", "RUNNING", "SUCCEEDED"]
    output = job["ModelPackagingDescription"]["ModelPackagingOutputDetails"]["Greengrass"]
    assert output["ComponentVersion"] == "3.2.1"
    # Deleting the project makes it answer ResourceNotFound
    assert client.delete_project(ProjectName="fresh")["ProjectArn"] == created["ProjectArn"]
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.describe_project(ProjectName="fresh")


def test_rate_quota_answers_throttling_with_retry_after(simulator: SimulatorServer) -> None:
    # Given the default quota of 5 requests per second per operation (rate 0.01/s: no refill)
    SimulatorControl(simulator.url).set_faults({"ListProjects": {"rate_per_second": 0.01}})
    url = simulator.url + "/2020-11-20/projects"
    # When a client calls twice at once
    first = _raw(url)
    status, headers, body = _raw(url)
    # Then the second is a modelled ThrottlingException
    assert first[0] == 200
    assert status == 429
    assert headers["x-amzn-ErrorType"] == "ThrottlingException"
    assert int(headers["Retry-After"]) >= 1
    assert {"message", "QuotaCode", "ServiceCode"} <= set(body)
    client = _client(simulator.url)
    with pytest.raises(client.exceptions.ThrottlingException):
        client.list_projects()


def test_throttle_window_and_counters_in_state(
    simulator: SimulatorServer, simulator_control: SimulatorControl
) -> None:
    simulator_control.set_faults(
        {"*": {"rate_per_second": None, "throttle_windows": [{"from": 100, "to": 130}]}}
    )
    client = _client(simulator.url)
    client.list_projects()
    simulator_control.set_time(110)
    with pytest.raises(client.exceptions.ThrottlingException) as caught:
        client.list_projects()
    assert caught.value.response["ResponseMetadata"]["HTTPHeaders"]["retry-after"] == "20"
    simulator_control.advance(20)
    client.list_projects()
    state = simulator_control.state()
    assert state["calls"] == {"ListProjects": 3}
    assert state["faults_injected"] == {"throttled": 1}
    simulator_control.reset_counters()
    assert simulator_control.state()["calls"] == {}


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("InternalServerException", 500),
        ("AccessDeniedException", 403),
        ("ServiceQuotaExceededException", 402),
    ],
)
def test_injected_errors_carry_their_status(
    simulator: SimulatorServer, code: str, status: int
) -> None:
    SimulatorControl(simulator.url).set_faults({"*": {"error_rate": 1.0, "error_code": code}})
    client = _client(simulator.url)
    with pytest.raises(getattr(client.exceptions, code)) as caught:
        client.list_projects()
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == status


@pytest.mark.parametrize(
    "kind", ["html", "empty", "not_json", "error_200", "missing_fields", "wrong_types"]
)
def test_body_faults_reach_the_client(simulator: SimulatorServer, kind: str) -> None:
    control = SimulatorControl(simulator.url)
    control.load_scenario({"projects": [{"name": "p", "jobs": [_job("j", (0, "CREATED", "m"))]}]})
    control.set_faults({"ListModelPackagingJobs": {"body_fault": {"kind": kind, "count": 1}}})
    client = _client(simulator.url)
    try:
        response = client.list_model_packaging_jobs(ProjectName="p")
        jobs = response.get("ModelPackagingJobs")
        healthy = (
            bool(jobs) and jobs[0].get("Status") == "CREATED" and "CreationTimestamp" in jobs[0]
        )
    except Exception:
        healthy = False
    assert not healthy
    # Then once the count is used up the answer is right again
    again = client.list_model_packaging_jobs(ProjectName="p")["ModelPackagingJobs"]
    assert again[0]["Status"] == "CREATED"
    assert control.state()["faults_injected"] == {kind: 1}


def test_unreachable_closes_the_connection(simulator: SimulatorServer) -> None:
    SimulatorControl(simulator.url).set_faults({"unreachable": True})
    client = _client(simulator.url)
    with pytest.raises(ConnectionClosedError):
        client.list_projects()


def test_control_api_refuses_bad_input(simulator_control: SimulatorControl) -> None:
    with pytest.raises(ScenarioError, match=r"projects\[0\]\.name"):
        simulator_control.load_scenario({"projects": [{"name": "no spaces allowed"}]})
    simulator_control.advance(10)
    with pytest.raises(SimulatorControlError, match="time never goes back"):
        simulator_control.set_time(5)
    with pytest.raises(SimulatorControlError, match="unknown operation"):
        simulator_control.set_faults({"Bogus": {}})


def test_state_shows_history_of_reached_steps(simulator_control: SimulatorControl) -> None:
    simulator_control.load_scenario(json.loads(example_scenario_path().read_text()))
    simulator_control.set_time(250)
    state = simulator_control.state()
    cam2 = next(j for j in state["jobs"] if j["job"] == "cam-2")
    assert [h["status"] for h in cam2["history"]] == ["CREATED", "RUNNING", "FAILED"]
    assert cam2["history"][-1]["time"] == "2026-11-01T00:04:00Z"
    assert state["time"] == "2026-11-01T00:04:10Z"


def test_server_loads_a_scenario_file_and_runs_at_speed() -> None:
    scenario = load_scenario_file(example_scenario_path())
    with SimulatorServer(scenario=example_scenario_path(), speed=0) as server:
        assert server.url.startswith("http://127.0.0.1:")
        state = SimulatorControl(server.url).state()
    assert len(state["projects"]) == len(scenario.projects)
