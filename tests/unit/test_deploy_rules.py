"""Deploy-time rules (tests/support/deploy_rules.py, docs/deploy-rules.md): template.yaml keeps
them, and each rule reports a copy of the template that breaks it."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from tests.support import deploy_rules as rules

Template = dict[str, Any]

#: Parameter sets the per-parameter rules run on: the defaults, and every optional resource on.
EVERYTHING_ON = {
    "NotificationEmail": "ops@example.com",
    "AlarmEmail": "ops@example.com",
    "SlackWorkspaceId": "T0123456789",
    "SlackChannelId": "C0123456789",
}
CLOUDTRAIL_OFF = {"CloudTrailDiscovery": "DISABLED"}
ACCOUNT_SETTINGS_ON = {
    "ApiAccessLogging": "ENABLED",
    "CreateApiGatewayAccountRole": "true",
    "PollerReservedConcurrency": "1",
    "JobStartedReservedConcurrency": "2",
    "AuditApiReservedConcurrency": "10",
}
#: Multi-target mode (issue 15): static targets and organizational units.
MULTI_TARGET = {
    "Targets": "111111111111:eu-west-1,222222222222:us-east-1",
    "OrganizationalUnitIds": "ou-ab12-11111111",
    "TargetRegions": "eu-west-1,us-east-1",
    "OrganizationId": "o-abcdefghij",
}
PARAMETER_SETS = {
    "defaults": {},
    "multi-target": MULTI_TARGET,
    "everything-on": EVERYTHING_ON,
    "cloudtrail-off": CLOUDTRAIL_OFF,
    "account-settings-on": ACCOUNT_SETTINGS_ON,
}


@pytest.fixture(scope="module")
def loaded() -> Template:
    return rules.load_template()


@pytest.fixture
def template(loaded: Template) -> Template:
    """A copy each test may break."""
    return copy.deepcopy(loaded)


def _declared(template: Template, parameters: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in parameters.items() if k in template["Parameters"]}


# -- template.yaml keeps every rule ---------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(PARAMETER_SETS))
def test_template_keeps_the_per_parameter_rules(loaded: Template, name: str) -> None:
    parameters = _declared(loaded, PARAMETER_SETS[name])
    assert [str(v) for v in rules.check(loaded, parameters)] == []


def test_template_needs_and_changes_nothing_account_wide_by_default(loaded: Template) -> None:
    assert [str(v) for v in rules.account_wide(rules.Evaluated(loaded))] == []


@pytest.mark.parametrize("base", [{}, MULTI_TARGET], ids=["single", "multi-target"])
def test_template_keeps_the_alarm_ranges_for_every_allowed_parameter_value(
    loaded: Template, base: dict[str, str]
) -> None:
    assert [str(v) for v in rules.alarm_ranges(loaded, base)] == []


@pytest.mark.parametrize("name", sorted(PARAMETER_SETS))
def test_senders_roles_may_write_their_dead_letter_queues(loaded: Template, name: str) -> None:
    transformed = rules.sam_transform(loaded, _declared(loaded, PARAMETER_SETS[name]))
    assert [str(v) for v in rules.delivery_roles(transformed)] == []


def test_every_rule_is_documented_with_the_aws_error() -> None:
    text = (rules.ROOT / "docs" / "deploy-rules.md").read_text()
    for rule, (_, error) in rules.RULES.items():
        assert f"`{rule}`" in text, rule
        assert error.split(":")[0] in text or error[:40] in text, rule


# -- each rule reports a template that breaks it --------------------------------------------------
def _statement(template: Template, key: str, sid: str) -> dict[str, Any]:
    statements = template["Resources"][key]["Properties"]["KeyPolicy"]["Statement"]
    found: dict[str, Any] = next(s for s in statements if s.get("Sid") == sid)
    return found


def _log_group_arns(template: Template) -> list[Any]:
    statement = _statement(template, "NotificationKey", "AllowLogsToEncryptTheStackLogGroups")
    arns: list[Any] = statement["Condition"]["ArnEquals"]["kms:EncryptionContext:aws:logs:arn"]
    return arns


def _drop_the_audit_log_group_from_the_key(template: Template) -> None:
    arns = _log_group_arns(template)
    arns[:] = [a for a in arns if "-audit-api" not in a["Fn::Sub"]]


def _add_an_encrypted_log_group(template: Template) -> None:
    template["Resources"]["ExtraLogGroup"] = {
        "Type": "AWS::Logs::LogGroup",
        "Properties": {
            "LogGroupName": {"Fn::Sub": "/aws/lambda/${AWS::StackName}-extra"},
            "KmsKeyId": {"Fn::GetAtt": ["NotificationKey", "Arn"]},
        },
    }


def _encrypt_a_log_group_through_the_alias_with_a_wrong_context(template: Template) -> None:
    _add_an_encrypted_log_group(template)
    template["Resources"]["ExtraLogGroup"]["Properties"]["KmsKeyId"] = {
        "Ref": "NotificationKeyAlias"
    }
    _log_group_arns(template).append(
        {"Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:x"}
    )


def _encrypt_the_bus_and_drop_eventbridge_from_the_key(template: Template) -> None:
    bus = template["Resources"]["EventBus"]["Properties"]
    bus["KmsKeyIdentifier"] = {"Fn::GetAtt": ["NotificationKey", "Arn"]}
    services = _statement(template, "NotificationKey", "AllowServicesToUseTheKeyForThisAccount")
    services["Principal"]["Service"].remove("events.amazonaws.com")


def _drop_cloudwatch_from_the_key(template: Template) -> None:
    services = _statement(template, "NotificationKey", "AllowServicesToUseTheKeyForThisAccount")
    services["Principal"]["Service"].remove("cloudwatch.amazonaws.com")


def _condition_the_key_on_another_account(template: Template) -> None:
    services = _statement(template, "NotificationKey", "AllowServicesToUseTheKeyForThisAccount")
    services["Condition"] = {"StringEquals": {"aws:SourceAccount": "999999999999"}}


def _drop_the_rule_dlq_policy(template: Template) -> None:
    del template["Resources"]["JobStartedRuleDeadLetterPolicy"]


def _give_the_dlq_policy_another_condition(template: Template) -> None:
    template["Conditions"]["Never"] = {"Fn::Equals": ["a", "b"]}
    template["Resources"]["JobStartedRuleDeadLetterPolicy"]["Condition"] = "Never"


def _drop_the_rule_permission(template: Template) -> None:
    del template["Resources"]["JobStartedRulePermission"]


def _target_the_notification_topic_from_a_rule(template: Template) -> None:
    # The topic's policy allows only the monitor's roles and denies everyone else.
    template["Resources"]["ExtraRule"] = {
        "Type": "AWS::Events::Rule",
        "Properties": {
            "EventBusName": {"Ref": "EventBus"},
            "EventPattern": {"source": ["x"]},
            "Targets": [{"Id": "t", "Arn": {"Ref": "NotificationTopic"}}],
        },
    }


def _alarm_to_a_topic_whose_policy_omits_cloudwatch(template: Template) -> None:
    template["Resources"]["FunctionErrorsAlarm"]["Properties"]["AlarmActions"] = [
        {"Ref": "NotificationTopic"}
    ]


def _give_the_dlq_a_second_policy(template: Template) -> None:
    policy = copy.deepcopy(template["Resources"]["JobStartedRuleDeadLetterPolicy"])
    policy.pop("Condition")
    template["Resources"]["ExtraQueuePolicy"] = policy


def _target_a_log_group_from_a_rule(template: Template) -> None:
    # EventBridge writes to a log group only where CloudWatch Logs' resource policy lets it.
    _target_the_notification_topic_from_a_rule(template)
    rule = template["Resources"]["ExtraRule"]["Properties"]
    rule["Targets"] = [{"Id": "logs", "Arn": {"Fn::GetAtt": ["PollerLogGroup", "Arn"]}}]


MUTATIONS: dict[str, tuple[str, Callable[[Template], None], dict[str, str]]] = {
    "a log group the key policy does not name": (
        "log-group-key",
        _drop_the_audit_log_group_from_the_key,
        {},
    ),
    "a new log group encrypted with the key": ("log-group-key", _add_an_encrypted_log_group, {}),
    "a log group encrypted through the key's alias": (
        "log-group-key",
        _encrypt_a_log_group_through_the_alias_with_a_wrong_context,
        {},
    ),
    "an encrypted bus whose key EventBridge may not use": (
        "event-bus-key",
        _encrypt_the_bus_and_drop_eventbridge_from_the_key,
        {},
    ),
    "alarms to a topic whose key CloudWatch may not use": (
        "delivery-key",
        _drop_cloudwatch_from_the_key,
        {},
    ),
    "a key allowed to services of another account only": (
        "delivery-key",
        _condition_the_key_on_another_account,
        {},
    ),
    "a rule DLQ without a queue policy": ("delivery-policy", _drop_the_rule_dlq_policy, {}),
    "a rule DLQ whose policy exists under another condition": (
        "delivery-policy",
        _give_the_dlq_policy_another_condition,
        {},
    ),
    "a rule targeting a log group without a logs resource policy": (
        "delivery-policy",
        _target_a_log_group_from_a_rule,
        {},
    ),
    "a queue with two policies": ("delivery-policy", _give_the_dlq_a_second_policy, {}),
    "a rule target function without an invoke permission": (
        "delivery-policy",
        _drop_the_rule_permission,
        {},
    ),
    "a rule targeting a topic that denies EventBridge": (
        "delivery-policy",
        _target_the_notification_topic_from_a_rule,
        {},
    ),
    "an alarm to a topic whose policy omits CloudWatch": (
        "delivery-policy",
        _alarm_to_a_topic_whose_policy_omits_cloudwatch,
        {},
    ),
}


@pytest.mark.parametrize("case", sorted(MUTATIONS))
def test_a_broken_template_is_reported(template: Template, case: str) -> None:
    # Given a copy of template.yaml broken in one way
    rule, mutate, parameters = MUTATIONS[case]
    mutate(template)
    # When the rules run on it
    found = rules.check(template, parameters)
    # Then the rule it breaks reports it
    assert any(v.rule == rule for v in found), [str(v) for v in found]


def _drop_sqs_from_the_schedule_role(transformed: Template) -> None:
    role = transformed["Resources"]["PollerFunctionPollRole"]["Properties"]
    for policy in role["Policies"]:
        statements = rules._as_list(policy["PolicyDocument"]["Statement"])
        policy["PolicyDocument"]["Statement"] = [
            s for s in statements if "sqs:SendMessage" not in rules._as_list(s["Action"])
        ]


def _drop_the_destination_permission(transformed: Template) -> None:
    role = transformed["Resources"]["PollerFunctionRole"]["Properties"]
    role["Policies"] = [p for p in role["Policies"] if "OnFailureSQSPolicy" not in p["PolicyName"]]


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        (_drop_sqs_from_the_schedule_role, "PollerFunctionPoll"),
        (_drop_the_destination_permission, "PollerFunctionEventInvokeConfig"),
    ],
)
def test_a_sender_role_without_its_dlq_is_reported(
    loaded: Template, mutate: Callable[[Template], None], where: str
) -> None:
    transformed = rules.sam_transform(loaded, {})
    assert len(rules.delivery_roles(transformed)) == 0
    mutate(transformed)
    found = rules.delivery_roles(transformed)
    assert [v.where for v in found if v.rule == "delivery-role"] == [where], found


def _reserve_concurrency(template: Template) -> None:
    template["Resources"]["PollerFunction"]["Properties"]["ReservedConcurrentExecutions"] = 1


def _reserve_concurrency_globally(template: Template) -> None:
    template["Globals"]["Function"]["ReservedConcurrentExecutions"] = 5


def _log_the_api_stage(template: Template) -> None:
    api = template["Resources"]["AuditApi"]["Properties"]
    api["AccessLogSetting"] = {"DestinationArn": "arn:aws:logs:us-east-1:1:log-group:x"}


def _log_api_methods(template: Template) -> None:
    api = template["Resources"]["AuditApi"]["Properties"]
    api["MethodSettings"] = [{"ResourcePath": "/*", "HttpMethod": "*", "LoggingLevel": "INFO"}]


def _set_the_account_role_unconditionally(template: Template) -> None:
    template["Resources"]["ExtraAccount"] = {
        "Type": "AWS::ApiGateway::Account",
        "Properties": {"CloudWatchRoleArn": "arn:aws:iam::1:role/x"},
    }


@pytest.mark.parametrize(
    "mutate",
    [
        _reserve_concurrency,
        _reserve_concurrency_globally,
        _log_the_api_stage,
        _log_api_methods,
        _set_the_account_role_unconditionally,
    ],
)
def test_an_account_wide_default_is_reported(
    template: Template, mutate: Callable[[Template], None]
) -> None:
    mutate(template)
    found = rules.account_wide(rules.Evaluated(template))
    assert any(v.rule == "account-wide" for v in found), found


def _alarm(template: Template) -> dict[str, Any]:
    props: dict[str, Any] = template["Resources"]["PublishFailuresAlarm"]["Properties"]
    return props


def _evaluate_for_more_than_a_day(template: Template) -> None:
    _alarm(template)["Period"] = 60
    _alarm(template)["EvaluationPeriods"] = 1441


def _evaluate_a_parameter_for_too_long(template: Template) -> None:
    template["Parameters"]["Extra"] = {"Type": "Number", "Default": 2, "MaxValue": 2000}
    _alarm(template)["Period"] = 60
    _alarm(template)["EvaluationPeriods"] = {"Ref": "Extra"}


def _alarm_on_more_datapoints_than_periods(template: Template) -> None:
    _alarm(template)["DatapointsToAlarm"] = 5


def _alarm_on_an_odd_period(template: Template) -> None:
    _alarm(template)["Period"] = 45


@pytest.mark.parametrize(
    "mutate",
    [
        _evaluate_for_more_than_a_day,
        _evaluate_a_parameter_for_too_long,
        _alarm_on_more_datapoints_than_periods,
        _alarm_on_an_odd_period,
    ],
)
def test_an_alarm_out_of_range_is_reported(
    template: Template, mutate: Callable[[Template], None]
) -> None:
    mutate(template)
    found = rules.alarm_ranges(template)
    assert [v.where for v in found if v.rule == "alarm-range"] == ["PublishFailuresAlarm"], found


def test_a_metrics_insights_alarm_over_more_than_three_hours_is_reported(
    template: Template,
) -> None:
    # Given the per-target health alarm evaluated over AlarmAfterPeriods for every schedule
    props = template["Resources"]["UnhealthyTargetsAlarm"]["Properties"]
    props["EvaluationPeriods"] = props["DatapointsToAlarm"] = {"Ref": "AlarmAfterPeriods"}
    # When the alarm ranges are checked in multi-target mode
    found = rules.alarm_ranges(template, MULTI_TARGET)
    # Then (60-minute periods x 5 > 3 hours) it is reported; the template's cap keeps it
    assert [v.where for v in found] == ["UnhealthyTargetsAlarm"], found
    assert "10800" in found[0].message


def test_a_rule_may_target_a_log_group_its_resource_policy_opens(template: Template) -> None:
    # Given a rule writing to a log group and CloudWatch Logs' resource policy for EventBridge
    _target_a_log_group_from_a_rule(template)
    document = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": ["events.amazonaws.com", "delivery.logs.amazonaws.com"]},
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": {
                    "Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:"
                    "${AWS::AccountId}:log-group:/aws/lambda/${AWS::StackName}-*:*"
                },
            }
        ]
    }
    template["Resources"]["ExtraLogsPolicy"] = {
        "Type": "AWS::Logs::ResourcePolicy",
        "Properties": {"PolicyName": "events", "PolicyDocument": document},
    }
    # Then the delivery is allowed
    assert [v for v in rules.check(template) if "ExtraRule" in v.where] == []
