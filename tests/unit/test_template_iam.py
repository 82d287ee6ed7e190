"""Every IAM statement in template.yaml is limited: no wildcard actions, resources scoped.

Written against the template on main when the reliability work started (an event bus only, no
IAM yet); the checker reads every place a SAM/CloudFormation template can grant permissions, so
the lead can re-run this file unchanged after merging the template work.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"

#: Actions that support no resource-level permissions: ``Resource: "*"`` is the only option.
RESOURCE_STAR_ONLY = frozenset(
    {
        "lookoutvision:ListProjects",
        # The dispatcher reads the organization's tree (no resource type for either).
        "organizations:ListAccountsForParent",
        "organizations:ListOrganizationalUnitsForParent",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "xray:GetSamplingRules",
        "xray:GetSamplingTargets",
        "cloudwatch:PutMetricData",
    }
)
#: AWS managed policies far broader than a poller needs.
BROAD_MANAGED = ("AdministratorAccess", "PowerUserAccess", "FullAccess", "ReadOnlyAccess")


#: Intrinsic functions that can stand for a managed policy's ARN in a SAM ``Policies`` list.
INTRINSICS = frozenset({"Ref", "Fn::GetAtt", "Fn::Sub", "Fn::ImportValue", "Fn::If"})


class _CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation short-form tags (!Ref, !Sub, !GetAtt, ...) as {"Fn::X": value}."""


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _tag)


def load(text: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.load(text, Loader=_CfnLoader)  # a SafeLoader subclass
    return data


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def statements(template: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(where, statement) for every permission statement the template grants."""
    found: list[tuple[str, dict[str, Any]]] = []
    functions = dict(template.get("Globals", {}).get("Function", {}) or {})
    for name, resource in (template.get("Resources") or {}).items():
        kind = resource.get("Type", "")
        props = resource.get("Properties") or {}
        if kind == "AWS::IAM::Role":
            for policy in props.get("Policies") or []:
                doc = policy.get("PolicyDocument") or {}
                found += [(name, s) for s in _as_list(doc.get("Statement") or [])]
        elif kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            doc = props.get("PolicyDocument") or {}
            found += [(name, s) for s in _as_list(doc.get("Statement") or [])]
        elif kind in ("AWS::Serverless::Function", "AWS::Serverless::StateMachine"):
            for policy in _as_list(props.get("Policies") or functions.get("Policies") or []):
                found += [(name, s) for s in _sam_policy(policy)]
    return found


def _sam_policy(policy: Any) -> list[dict[str, Any]]:
    """A SAM ``Policies`` item as statements: inline documents as they are; a managed policy
    name or a policy template as a pseudo-statement the checks below understand."""
    if isinstance(policy, str):
        return [{"Effect": "Allow", "ManagedPolicy": policy}]
    if isinstance(policy, dict) and "Statement" in policy:
        return list(_as_list(policy["Statement"]))
    if isinstance(policy, dict) and len(policy) == 1 and next(iter(policy)) in INTRINSICS:
        # A managed policy's ARN (e.g. !Ref to an AWS::IAM::ManagedPolicy of the template,
        # whose own statements are checked as that resource).
        return [{"Effect": "Allow", "ManagedPolicy": policy}]
    if isinstance(policy, dict):
        return [
            {"Effect": "Allow", "PolicyTemplate": name, "Parameters": params or {}}
            for name, params in policy.items()
        ]
    return [{"Effect": "Allow", "Unreadable": policy}]


def problems(template: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for where, statement in statements(template):
        if statement.get("Effect") == "Allow":
            out += [f"{where}: {problem}" for problem in statement_problems(statement)]
    return out


def statement_problems(statement: dict[str, Any]) -> list[str]:
    """What is too broad in one Allow statement."""
    out: list[str] = []
    if "NotAction" in statement or "NotResource" in statement:
        out.append("NotAction/NotResource grants everything else")
    if "Unreadable" in statement:
        out.append(f"a policy the checker cannot read: {statement['Unreadable']!r}")
    managed = statement.get("ManagedPolicy")
    if isinstance(managed, str) and any(b in managed for b in BROAD_MANAGED):
        out.append(f"broad managed policy {managed}")
    for param, value in (statement.get("Parameters") or {}).items():
        if isinstance(value, str) and "*" in value:
            out.append(f"{statement['PolicyTemplate']}.{param} is a wildcard")
    actions = [a for a in _as_list(statement.get("Action") or []) if isinstance(a, str)]
    out += [f"wildcard action {action}" for action in actions if "*" in action]
    out += [
        problem
        for resource in _as_list(statement.get("Resource") or [])
        if (problem := resource_problem(resource, actions))
    ]
    return out


def resource_problem(resource: Any, actions: list[str]) -> str | None:
    if resource == "*":
        allowed = bool(actions) and set(actions) <= RESOURCE_STAR_ONLY
        return None if allowed else f"Resource '*' for {actions}"
    if isinstance(resource, str) and resource.startswith("arn:"):
        parts = resource.split(":", 5)
        if len(parts) < 6 or "*" in parts[2] or parts[3] == "*" or parts[4] == "*":
            return f"resource {resource} is not scoped to a service/account"
    return None


def test_the_template_grants_no_wildcard_actions_and_scopes_every_resource() -> None:
    template = load(TEMPLATE.read_text(encoding="utf-8"))
    assert problems(template) == []


# -- the checker itself catches what it must -----------------------------------------------------
def role(*statements: dict[str, Any]) -> dict[str, Any]:
    return {
        "Resources": {
            "Role": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "Policies": [{"PolicyDocument": {"Statement": list(statements)}}],
                },
            }
        }
    }


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        (role({"Effect": "Allow", "Action": "dynamodb:*", "Resource": "arn:aws:x"}), "wildcard"),
        (role({"Effect": "Allow", "Action": "*", "Resource": "*"}), "wildcard action *"),
        (role({"Effect": "Allow", "Action": ["sns:Publish"], "Resource": "*"}), "Resource '*'"),
        (
            role(
                {
                    "Effect": "Allow",
                    "Action": "dynamodb:GetItem",
                    "Resource": "arn:aws:dynamodb:*:*:table/t",
                }
            ),
            "not scoped",
        ),
        (role({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}), "NotAction"),
        (
            load(
                "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n"
                "      Policies:\n        - DynamoDBCrudPolicy:\n            TableName: '*'\n"
            ),
            "DynamoDBCrudPolicy.TableName is a wildcard",
        ),
        (
            load(
                "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n"
                "      Policies:\n        - AdministratorAccess\n"
            ),
            "broad managed policy",
        ),
        (
            load(
                "Resources:\n  Shared:\n    Type: AWS::IAM::ManagedPolicy\n    Properties:\n"
                "      PolicyDocument:\n        Statement:\n          - Effect: Allow\n"
                "            Action: sns:*\n            Resource: '*'\n"
                "  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n"
                "      Policies:\n        - !Ref Shared\n"
            ),
            "Shared: wildcard action sns:*",
        ),
    ],
)
def test_the_checker_reports_loose_statements(template: dict[str, Any], expected: str) -> None:
    found = problems(template)
    assert found and any(expected in p for p in found), found


def test_the_checker_accepts_scoped_statements_and_sam_templates() -> None:
    template = load(
        """
Resources:
  Table:
    Type: AWS::DynamoDB::Table
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Policies:
        - DynamoDBCrudPolicy:
            TableName: !Ref Table
        - SNSPublishMessagePolicy:
            TopicName: !GetAtt Topic.TopicName
        - Statement:
            - Effect: Allow
              Action: [lookoutvision:ListProjects]
              Resource: "*"
            - Effect: Allow
              Action:
                - lookoutvision:ListModelPackagingJobs
                - lookoutvision:DescribeModelPackagingJob
              Resource: !Sub "arn:aws:lookoutvision:${AWS::Region}:${AWS::AccountId}:project/*"
"""
    )
    assert len(statements(template)) == 4
    assert problems(template) == []
