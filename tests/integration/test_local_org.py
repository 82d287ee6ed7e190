"""The local stack plays an organization: moto's STS and the member roles, the simulator's worlds
reached with the assumed roles' keys, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from lfv_monitor.clients import register_service_model
from lfv_workbench.demo.org_play import play_org
from lfv_workbench.local.accounts import member_role_arn
from lfv_workbench.local.up import LOCAL_CREDENTIALS, LocalStack, LocalStackError
from lfv_workbench.simulator import load_scenario_file, org_scenario_path

PRESENT = "111111111111"
MISSING = "222222222222"


@pytest.fixture(scope="module")
def org_stack() -> Iterator[LocalStack]:
    with LocalStack(speed=0, scenario=org_scenario_path()) as stack:
        yield stack


def _session(stack: LocalStack, region: str, credentials: dict[str, str] | None = None) -> Any:
    creds = credentials or {
        "aws_access_key_id": LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    }
    session: Any = boto3.Session(region_name=region, **creds)  # type: ignore[arg-type]
    return register_service_model(session)


def _assume(stack: LocalStack, account: str) -> dict[str, str]:
    sts = _session(stack, "us-east-1").client("sts", endpoint_url=stack.info.aws_endpoint_url)
    answer = sts.assume_role(
        RoleArn=member_role_arn(account), RoleSessionName="lfv-monitor-lfv-monitor"
    )["Credentials"]
    return {
        "aws_access_key_id": answer["AccessKeyId"],
        "aws_secret_access_key": answer["SecretAccessKey"],
        "aws_session_token": answer["SessionToken"],
    }


def _projects(stack: LocalStack, region: str, credentials: dict[str, str] | None = None) -> Any:
    client = _session(stack, region, credentials).client(
        "lookoutvision", endpoint_url=stack.info.simulator_url
    )
    return [p["ProjectName"] for p in client.list_projects()["Projects"]]


def test_the_org_stack_lists_every_target_and_the_roles_it_created(org_stack: LocalStack) -> None:
    # Given the packaged organization scenario
    info = org_stack.info
    # Then the stack serves the monitoring account and each member account and region
    assert info.targets == (
        "123456789012:us-east-1",
        f"{PRESENT}:us-east-1",
        f"{PRESENT}:eu-west-1",
        f"{MISSING}:eu-west-1",
    )
    # and created the member role only where the scenario says the member deployed it
    assert info.member_roles == (member_role_arn(PRESENT),)
    # and `local up` prints both in its JSON line
    printed = json.loads(json.dumps(info.as_dict()))
    assert printed["member_roles"] == [member_role_arn(PRESENT)]
    assert len(printed["targets"]) == 4


def test_assuming_a_present_role_reaches_that_member_in_each_region(org_stack: LocalStack) -> None:
    # Given the member role in the first member account
    # When the monitor assumes it through moto's STS
    credentials = _assume(org_stack, PRESENT)
    # Then the temporary keys are that account's, for STS
    sts = _session(org_stack, "eu-west-1", credentials).client(
        "sts", endpoint_url=org_stack.info.aws_endpoint_url
    )
    assert sts.get_caller_identity()["Account"] == PRESENT
    # and for the simulator, in each region by the credential scope
    assert _projects(org_stack, "us-east-1", credentials) == ["plant-a-line-1"]
    assert _projects(org_stack, "eu-west-1", credentials) == ["plant-a-eu"]
    # while the local credentials are the monitoring account's own
    assert _projects(org_stack, "us-east-1") == ["hq-widgets"]


def test_assuming_a_missing_role_is_access_denied(org_stack: LocalStack) -> None:
    # Given a member account whose role was never deployed
    # When the monitor assumes it
    with pytest.raises(ClientError) as raised:
        _assume(org_stack, MISSING)
    # Then STS refuses, as AWS does, naming the role
    error = raised.value.response
    assert error["Error"]["Code"] == "AccessDenied"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert member_role_arn(MISSING) in error["Error"]["Message"]


def test_an_organization_must_be_run_from_the_local_credentials_account() -> None:
    # Given an organization scenario whose top level is another account
    scenario = load_scenario_file(org_scenario_path()).model_copy(
        update={"account_id": "999999999999"}
    )
    # When the local stack starts, Then it refuses naming the field, before binding anything
    with pytest.raises(LocalStackError, match=r"account_id: .*123456789012, got 999999999999"):
        LocalStack(speed=0, scenario=scenario).start()


def test_local_up_org_serves_the_organization_to_the_aws_cli_user() -> None:
    # Given `lfv-monitor local up --org` in its own process, on free ports
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "lfv_monitor.cli", "local", "up", "--org", "--speed", "0"),
            *("--aws-port", "0", "--simulator-port", "0", "--api-port", "0"),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None and process.stderr is not None
        line = process.stdout.readline()
        assert line, process.stderr.read()
        info = json.loads(line)
        # Then its JSON line names the organization's targets and the one member role
        assert info["targets"][1:] == [
            f"{PRESENT}:us-east-1",
            f"{PRESENT}:eu-west-1",
            f"{MISSING}:eu-west-1",
        ]
        assert info["member_roles"] == [member_role_arn(PRESENT)]
        # and a member's own keys (its account id as the access key) reach its projects
        session: Any = register_service_model(
            boto3.Session(
                aws_access_key_id=PRESENT, aws_secret_access_key="x", region_name="eu-west-1"
            )
        )
        member = session.client("lookoutvision", endpoint_url=info["simulator_url"])
        assert [p["ProjectName"] for p in member.list_projects()["Projects"]] == ["plant-a-eu"]
        # and stderr's hints say how
        process.send_signal(signal.SIGTERM)
        _, errors = process.communicate(timeout=60)
        assert "Organization: targets 123456789012:us-east-1" in errors
        assert f"AWS_ACCESS_KEY_ID={PRESENT} aws lookoutvision list-projects" in errors
        assert process.returncode == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=60)


def test_the_org_demo_isolates_the_member_without_its_role_and_announces_the_others(
    org_stack: LocalStack,
) -> None:
    # Given the organization on the local stack, deployed in multi-target mode
    assert org_stack.outputs is not None
    assert "DispatcherFunction" in org_stack.outputs.template["Resources"]
    # and a member whose role was never deployed
    # When the demo plays it: the dispatcher's handler, then the poller's per message
    result = play_org(org_stack, load_scenario_file(org_scenario_path()))
    # Then every virtual minute each target's message reached the poller exactly once
    targets = sorted(org_stack.info.targets)
    assert len(result.cycles) >= 4
    for cycle in result.cycles:
        assert sorted(cycle.polled) == targets, cycle.number
    # and the target queue was left empty (each message deleted once its poll returned)
    sqs = org_stack.client("sqs")
    queue = org_stack.outputs.function_environment("DispatcherFunction")["TARGET_QUEUE_URL"]
    attributes = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "0"
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "0"
    # and each target with its role announced exactly its own changes, once, with its account
    # and region; the member without its role was denied every minute and announced nothing
    assert result.match, result.summary()
    verdicts = {t.target: t for t in result.targets}
    denied = verdicts[f"{MISSING}:eu-west-1"]
    assert set(denied.health) == {"denied"}
    assert not denied.events
    assert sum(verdicts[f"{PRESENT}:eu-west-1"].events.values()) == 4
    announced = {
        (e["detail"]["account"], e["detail"]["region"]) for c in result.cycles for e in c.events
    }
    assert announced == {
        ("123456789012", "us-east-1"),
        (PRESENT, "us-east-1"),
        (PRESENT, "eu-west-1"),
    }
