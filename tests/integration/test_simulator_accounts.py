"""The simulator serves several accounts and regions at once, told apart from the wire protocol:
the region from the SigV4 credential scope, the account from the access key id."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.config import Config

from lfv_monitor.clients import register_service_model
from lfv_workbench.simulator import (
    ScenarioError,
    SimulatorControl,
    SimulatorControlError,
    SimulatorServer,
)

MEMBER = "111111111111"
OTHER = "222222222222"
ORG = {
    "projects": [{"name": "home"}],
    "accounts": [
        {
            "account": MEMBER,
            "region": "eu-west-1",
            "projects": [
                {
                    "name": "member-eu",
                    "jobs": [
                        {
                            "name": "cam-1",
                            "timeline": [
                                {"at": 0, "status": "CREATED"},
                                {"at": 60, "status": "RUNNING"},
                            ],
                        }
                    ],
                }
            ],
            "faults": {"*": {"rate_per_second": None}},
        },
        {"account": MEMBER, "region": "us-east-1", "projects": [{"name": "member-us"}]},
    ],
}


def _client(url: str, access_key: str, region: str) -> Any:
    session = register_service_model(
        boto3.Session(aws_access_key_id=access_key, aws_secret_access_key="x", region_name=region)
    )
    make: Any = session.client
    return make(
        "lookoutvision",
        endpoint_url=url,
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )


def _projects(url: str, access_key: str, region: str) -> list[str]:
    listed = _client(url, access_key, region).list_projects()["Projects"]
    return [p["ProjectName"] for p in listed]


@pytest.fixture
def org(simulator_control: SimulatorControl, simulator: SimulatorServer) -> str:
    simulator_control.load_scenario(ORG)
    return simulator.url


def test_each_account_and_region_sees_its_own_projects(org: str) -> None:
    # Given an organization scenario: the default account, and a member in two regions
    # When each caller lists its projects
    # Then the credential scope's region and the access key's account pick the world
    assert _projects(org, MEMBER, "eu-west-1") == ["member-eu"]
    assert _projects(org, MEMBER, "us-east-1") == ["member-us"]
    # and the ARNs name that account and region
    arn = _client(org, MEMBER, "eu-west-1").describe_project(ProjectName="member-eu")[
        "ProjectDescription"
    ]["ProjectArn"]
    assert arn == f"arn:aws:lookoutvision:eu-west-1:{MEMBER}:project/member-eu"


def test_unknown_keys_get_the_default_account_in_any_region(org: str) -> None:
    # Given the organization scenario
    # When a caller with an ordinary key, or an account the scenario does not list, calls
    # Then it sees the top level's projects, whatever its region (today's single-account world)
    assert _projects(org, "testing", "us-east-1") == ["home"]
    assert _projects(org, "AKIAEXAMPLE", "eu-west-1") == ["home"]
    assert _projects(org, OTHER, "eu-west-1") == ["home"]


def test_a_listed_account_in_an_unlisted_region_is_empty(org: str) -> None:
    # Given a member listed in eu-west-1 and us-east-1 only
    # When it calls from ap-south-1
    # Then it has no projects there, and its job is unknown there
    assert _projects(org, MEMBER, "ap-south-1") == []
    with pytest.raises(Exception, match="ResourceNotFoundException"):
        _client(org, MEMBER, "ap-south-1").describe_model_packaging_job(
            ProjectName="member-eu", JobName="cam-1"
        )


def test_state_counters_and_faults_are_per_world(org: str) -> None:
    control = SimulatorControl(org)
    # Given a member's job that starts RUNNING at 60 s
    control.advance(61)
    job = _client(org, MEMBER, "eu-west-1").describe_model_packaging_job(
        ProjectName="member-eu", JobName="cam-1"
    )["ModelPackagingDescription"]
    assert job["Status"] == "RUNNING"  # the clock is shared
    # When the control API is asked about that world
    state = control.state(account=MEMBER, region="eu-west-1")
    # Then it shows that world's jobs and calls only
    assert [(j["project"], j["job"], j["status"]) for j in state["jobs"]] == [
        ("member-eu", "cam-1", "RUNNING")
    ]
    assert state["calls"] == {"DescribeModelPackagingJob": 1}
    assert control.state()["calls"] == {}
    worlds = {(w["account"], w["region"]): w for w in state["worlds"]}
    assert set(worlds) == {
        ("123456789012", "us-east-1"),
        (MEMBER, "eu-west-1"),
        (MEMBER, "us-east-1"),
    }
    # When one world is made unreachable
    control.set_faults({"unreachable": True}, account=MEMBER, region="us-east-1")
    # Then only that account and region stop answering
    with pytest.raises(Exception, match="Connection"):
        _projects(org, MEMBER, "us-east-1")
    assert _projects(org, MEMBER, "eu-west-1") == ["member-eu"]
    assert _projects(org, "testing", "us-east-1") == ["home"]


def test_the_control_api_names_a_world_it_does_not_serve(org: str) -> None:
    control = SimulatorControl(org)
    # When a world is addressed that the scenario does not list, or half-addressed
    # Then the answer says so, listing the worlds served
    with pytest.raises(SimulatorControlError, match=f"no world for account '{OTHER}'.*worlds:"):
        control.state(account=OTHER, region="eu-west-1")
    with pytest.raises(SimulatorControlError, match="both account and region"):
        control.state(account=MEMBER)


def test_a_bad_accounts_entry_is_refused_naming_the_field(
    simulator_control: SimulatorControl,
) -> None:
    # Given entries with a short account id, a repeated world, a disagreeing member_role
    # When each is loaded, Then the refusal names the field
    with pytest.raises(ScenarioError, match=r"accounts\[0\]\.account"):
        simulator_control.load_scenario({"accounts": [{"account": "1234", "region": "eu-west-1"}]})
    with pytest.raises(ScenarioError, match=r"accounts\[1\]: account 111111111111 in eu-west-1"):
        simulator_control.load_scenario(
            {"accounts": [{"account": MEMBER, "region": "eu-west-1"}] * 2}
        )
    with pytest.raises(ScenarioError, match=r"accounts\[1\]\.member_role"):
        simulator_control.load_scenario(
            {
                "accounts": [
                    {"account": MEMBER, "region": "eu-west-1"},
                    {"account": MEMBER, "region": "us-east-1", "member_role": False},
                ]
            }
        )
    with pytest.raises(ScenarioError, match=r"accounts\[0\]\.faults\.Nope"):
        simulator_control.load_scenario(
            {"accounts": [{"account": MEMBER, "region": "eu-west-1", "faults": {"Nope": {}}}]}
        )
    with pytest.raises(ScenarioError, match=r"accounts\[0\]\.region"):
        simulator_control.load_scenario({"accounts": [{"account": MEMBER, "region": "Europe"}]})


def test_a_resolver_maps_keys_to_accounts(org: str) -> None:
    # Given a simulator whose resolver knows a temporary key (as moto's STS hands out)
    with SimulatorServer(
        port=0, scenario=ORG, speed=0, resolve_account={"ASIATEMP": MEMBER}.get
    ) as sim:
        # When that key calls from eu-west-1, Then it is the member account
        assert _projects(sim.url, "ASIATEMP", "eu-west-1") == ["member-eu"]
        # and a key the resolver does not know is the default account
        assert _projects(sim.url, MEMBER, "eu-west-1") == ["home"]
