"""member-role.yaml (issue 15): only the monitoring stack's poller may assume the role, with the
organization condition when given, and it may do exactly three read actions."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import deploy_rules as rules

POLLER = "arn:aws:iam::210987654321:role/lfv-monitor-PollerFunctionRole-ABC123"
READ_ACTIONS = {
    "lookoutvision:ListProjects",
    "lookoutvision:ListModelPackagingJobs",
    "lookoutvision:DescribeModelPackagingJob",
}


@pytest.fixture(scope="module")
def loaded() -> dict[str, Any]:
    return rules.load_template(rules.MEMBER_ROLE_PATH)


def _role(loaded: dict[str, Any], **parameters: str) -> dict[str, Any]:
    t = rules.Evaluated(loaded, {"MonitorRoleArn": POLLER, **parameters})
    ((name, props),) = list(t.of_type("AWS::IAM::Role"))
    assert name == "MemberRole"
    return props


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_only_the_monitors_poller_role_may_assume_it(loaded: dict[str, Any]) -> None:
    # Given the member role for the poller of a monitoring stack in account 210987654321
    trust = _role(loaded)["AssumeRolePolicyDocument"]["Statement"]
    # Then one statement trusts that account, and only its poller role (aws:PrincipalArn)
    (statement,) = trust
    assert statement["Effect"] == "Allow"
    assert statement["Action"] == "sts:AssumeRole"
    assert statement["Principal"] == {"AWS": "arn:aws:iam::210987654321:root"}
    assert statement["Condition"] == {"ArnEquals": {"aws:PrincipalArn": POLLER}}


def test_with_an_organization_id_the_poller_must_also_belong_to_it(
    loaded: dict[str, Any],
) -> None:
    (statement,) = _role(loaded, OrganizationId="o-abcdefghij")["AssumeRolePolicyDocument"][
        "Statement"
    ]
    assert statement["Condition"] == {
        "ArnEquals": {"aws:PrincipalArn": POLLER},
        "StringEquals": {"aws:PrincipalOrgID": "o-abcdefghij"},
    }


def test_it_may_do_exactly_the_three_read_actions(loaded: dict[str, Any]) -> None:
    role = _role(loaded)
    assert "ManagedPolicyArns" not in role
    statements = [s for p in role["Policies"] for s in _as_list(p["PolicyDocument"]["Statement"])]
    assert all(s["Effect"] == "Allow" for s in statements)
    granted = {a for s in statements for a in _as_list(s["Action"])}
    assert granted == READ_ACTIONS
    scoped = {
        a: s["Resource"] for s in statements for a in _as_list(s["Action"]) if s["Resource"] != "*"
    }
    # Only ListProjects (no resource type) is "*"; the job reads are this account's projects
    assert set(scoped) == READ_ACTIONS - {"lookoutvision:ListProjects"}
    assert set(scoped.values()) == {"arn:aws:lookoutvision:*:123456789012:project/*"}


def test_its_name_is_the_monitors_member_role_name(loaded: dict[str, Any]) -> None:
    monitor = rules.load_template()
    assert (
        loaded["Parameters"]["RoleName"]["Default"]
        == monitor["Parameters"]["MemberRoleName"]["Default"]
    )
    assert _role(loaded, RoleName="reader")["RoleName"] == "reader"


@pytest.mark.parametrize("parameters", [{}, {"OrganizationId": "o-abcdefghij"}])
def test_it_keeps_the_deploy_time_rules(loaded: dict[str, Any], parameters: dict[str, str]) -> None:
    values = {"MonitorRoleArn": POLLER, **parameters}
    assert [str(v) for v in rules.check(loaded, values)] == []
    assert [str(v) for v in rules.account_wide(rules.Evaluated(loaded, values))] == []


def test_the_monitors_poller_may_assume_only_roles_of_that_name() -> None:
    monitor = rules.Evaluated(
        rules.load_template(),
        {"Targets": "111111111111:eu-west-1", "OrganizationId": "o-abcdefghij"},
    )
    policy = monitor.value(monitor.resources["PollerTargetPolicy"]["Properties"])
    assume = [s for s in policy["PolicyDocument"]["Statement"] if "sts:AssumeRole" in s["Action"]]
    assert assume == [
        {
            "Sid": "AssumeMemberRoles",
            "Effect": "Allow",
            "Action": "sts:AssumeRole",
            "Resource": "arn:aws:iam::*:role/lfv-monitor-reader",
            "Condition": {"StringEquals": {"aws:ResourceOrgID": "o-abcdefghij"}},
        }
    ]
    assert monitor.resources["PollerTargetPolicy"]["Condition"] == "IsMultiTarget"
    assert not rules.Evaluated(rules.load_template()).exists("PollerTargetPolicy")


def test_cfn_lint_finds_nothing_in_it() -> None:
    from cfnlint.api import lint_file

    assert [str(match) for match in lint_file(rules.MEMBER_ROLE_PATH)] == []
