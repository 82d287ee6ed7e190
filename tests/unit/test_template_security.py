"""template.yaml keeps its security and reliability properties: a later edit cannot weaken them
without a failing test. The template is read with cfn-lint's CloudFormation-aware loader."""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import decode_str

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = ROOT / "template.yaml"
SCHEMA_PATH = ROOT / "events" / "schemas" / "job-state-change.schema.json"
#: The nested stack (template.yaml's EventSchemas) with the schema registry and the schema.
SCHEMA_REGISTRY_PATH = ROOT / "events" / "schema-registry.yaml"

POLLER_ACTIONS = {
    "lookoutvision:ListProjects",
    "lookoutvision:ListModelPackagingJobs",
    "lookoutvision:DescribeModelPackagingJob",
    "dynamodb:BatchGetItem",
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
    "events:PutEvents",
    "sns:Publish",
    "kms:GenerateDataKey",
    "kms:Decrypt",
}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    decoded, matches = decode_str(TEMPLATE_PATH.read_text())
    assert not matches, matches
    assert decoded is not None
    return dict(decoded)


@pytest.fixture(scope="module")
def resources(template: dict[str, Any]) -> dict[str, Any]:
    return dict(template["Resources"])


def _of_type(resources: dict[str, Any], resource_type: str) -> dict[str, Any]:
    return {name: r for name, r in resources.items() if r["Type"] == resource_type}


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _function_statements(
    resources: dict[str, Any], function: str
) -> Iterator[tuple[str, dict[str, Any]]]:
    """A SAM function's statements: inline ones and those of the managed policies it names."""
    for policy in resources[function]["Properties"]["Policies"]:
        if set(policy) == {"Ref"}:
            managed = resources[policy["Ref"]]
            assert managed["Type"] == "AWS::IAM::ManagedPolicy", policy
            for statement in managed["Properties"]["PolicyDocument"]["Statement"]:
                yield f"{function}.Policies", statement
        else:
            for statement in policy["Statement"]:
                yield f"{function}.Policies", statement


def _statements(resources: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every policy statement in the template, with where it sits."""
    for function in _of_type(resources, "AWS::Serverless::Function"):
        yield from _function_statements(resources, function)
    for name, resource in resources.items():
        props = resource.get("Properties", {})
        for key in ("KeyPolicy", "PolicyDocument", "AssumeRolePolicyDocument"):
            if key in props:
                for statement in props[key]["Statement"]:
                    yield f"{name}.{key}", statement
        for policy in props.get("Policies", []) if resource["Type"] == "AWS::IAM::Role" else []:
            for statement in policy["PolicyDocument"]["Statement"]:
                yield f"{name}.Policies", statement


def _is_key_admin_statement(where: str, statement: dict[str, Any]) -> bool:
    # The standard KMS key-administration statement for the account itself: without kms:* the
    # key could become unmanageable. It is the one wildcard the template allows.
    return (
        where == "NotificationKey.KeyPolicy"
        and statement.get("Sid") == "EnableIamPolicies"
        and statement["Principal"]
        == {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}
    )


def test_no_policy_statement_grants_a_wildcard_action(resources: dict[str, Any]) -> None:
    # Given every policy statement in the template
    statements = list(_statements(resources))
    assert statements
    # Then no action is or contains "*", but the account's own key-administration statement
    for where, statement in statements:
        if _is_key_admin_statement(where, statement):
            continue
        for action in _as_list(statement.get("Action", [])):
            assert "*" not in action, f"{where} {statement.get('Sid')}: wildcard action {action}"
        assert "NotAction" not in statement, f"{where}: NotAction grants everything else"


def test_the_poller_gets_exactly_the_actions_it_uses(resources: dict[str, Any]) -> None:
    statements = [s for _, s in _function_statements(resources, "PollerFunction")]
    granted = {action for s in statements for action in _as_list(s["Action"])}
    assert granted == POLLER_ACTIONS
    assert all(s["Effect"] == "Allow" for s in statements)


def test_the_job_started_check_gets_the_poller_actions_but_listing(
    resources: dict[str, Any],
) -> None:
    statements = [s for _, s in _function_statements(resources, "JobStartedFunction")]
    granted = {action for s in statements for action in _as_list(s["Action"])}
    listing = {"lookoutvision:ListProjects", "lookoutvision:ListModelPackagingJobs"}
    assert granted == POLLER_ACTIONS - listing


def test_only_list_projects_has_an_unscoped_resource(resources: dict[str, Any]) -> None:
    statements = [s for _, s in _function_statements(resources, "PollerFunction")]
    unscoped = [s for s in statements if "*" in _as_list(s["Resource"])]
    assert [s["Action"] for s in unscoped] == ["lookoutvision:ListProjects"]
    for sid in ("ListModelPackagingJobs", "DescribeModelPackagingJobs"):
        jobs = next(s for s in statements if s["Sid"] == sid)
        assert jobs["Resource"] == {
            "Fn::Sub": (
                "arn:${AWS::Partition}:lookoutvision:${AWS::Region}:${AWS::AccountId}:project/*"
            )
        }
    table = next(s for s in statements if s["Sid"] == "AuditTrail")
    assert table["Resource"] == [
        {"Fn::GetAtt": ["JobsTable", "Arn"]},
        {"Fn::Sub": "${JobsTable.Arn}/index/*"},
    ]


def test_table_is_encrypted_recoverable_and_kept_in_prod(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    table = resources["JobsTable"]
    props = table["Properties"]
    assert props["SSESpecification"] == {"SSEEnabled": True}
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["DeletionProtectionEnabled"] == {"Fn::If": ["IsProd", True, False]}
    assert template["Conditions"]["IsProd"] == {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}
    # DeletionPolicy is resolved by AWS::LanguageExtensions from the stage mapping.
    assert "AWS::LanguageExtensions" in template["Transform"]
    assert table["DeletionPolicy"] == {
        "Fn::FindInMap": ["StageSettings", {"Ref": "Stage"}, "DeletionPolicy"]
    }
    assert template["Mappings"]["StageSettings"]["prod"]["DeletionPolicy"] == "Retain"
    assert table["UpdateReplacePolicy"] == "Retain"


def test_table_matches_the_documented_design(resources: dict[str, Any]) -> None:
    props = resources["JobsTable"]["Properties"]
    assert props["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert {d["AttributeName"]: d["AttributeType"] for d in props["AttributeDefinitions"]} == {
        name: "S"
        for name in ("pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk", "active_pk", "active_sk")
    }
    indexes = {
        index["IndexName"]: (
            [k["AttributeName"] for k in index["KeySchema"]],
            index["Projection"]["ProjectionType"],
        )
        for index in props["GlobalSecondaryIndexes"]
    }
    assert indexes == {
        "ByProject": (["gsi1pk", "gsi1sk"], "ALL"),
        "ByStatus": (["gsi2pk", "gsi2sk"], "ALL"),
        "Active": (["active_pk", "active_sk"], "ALL"),
    }
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}


def test_topics_are_encrypted_with_the_rotating_customer_key(resources: dict[str, Any]) -> None:
    topics = _of_type(resources, "AWS::SNS::Topic")
    assert set(topics) == {"NotificationTopic", "AlarmTopic", "ChatTopic"}
    for topic in topics.values():
        assert topic["Properties"]["KmsMasterKeyId"] == {"Ref": "NotificationKey"}
    key = resources["NotificationKey"]["Properties"]
    assert key["EnableKeyRotation"] is True
    services = next(
        s
        for s in key["KeyPolicy"]["Statement"]
        if s["Sid"] == "AllowServicesToUseTheKeyForThisAccount"
    )
    assert set(services["Principal"]["Service"]) >= {
        "sns.amazonaws.com",
        "events.amazonaws.com",
        "cloudwatch.amazonaws.com",
    }
    assert services["Condition"] == {
        "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    }


def test_only_the_monitor_functions_may_publish_to_the_topic(resources: dict[str, Any]) -> None:
    policy = resources["NotificationTopicPolicy"]["Properties"]
    assert policy["Topics"] == [{"Ref": "NotificationTopic"}]
    deny = next(s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Deny")
    assert deny["Principal"] == "*"
    assert deny["Action"] == "sns:Publish"
    # Both functions that record changes publish them (JobStartedFunction was denied before).
    publishers = [
        {"Fn::GetAtt": ["PollerFunctionRole", "Arn"]},
        {
            "Fn::If": [
                "HasCloudTrailDiscovery",
                {"Fn::GetAtt": ["JobStartedFunctionRole", "Arn"]},
                {"Ref": "AWS::NoValue"},
            ]
        },
    ]
    assert deny["Condition"] == {"ArnNotEquals": {"aws:PrincipalArn": publishers}}
    allow = next(s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Allow")
    assert allow["Principal"] == {"AWS": publishers}
    granted = {
        name
        for name in _of_type(resources, "AWS::Serverless::Function")
        for _, s in _function_statements(resources, name)
        if "sns:Publish" in _as_list(s["Action"])
    }
    assert granted == {"PollerFunction", "JobStartedFunction"}


def test_queues_are_encrypted_and_both_are_wired_and_watched(resources: dict[str, Any]) -> None:
    queues = _of_type(resources, "AWS::SQS::Queue")
    targets = {"TargetQueue", "TargetDeadLetterQueue"}  # multi-target mode (issue 15)
    assert set(queues) == {"DeadLetterQueue", "SchedulerDeadLetterQueue", *targets}
    for name, queue in queues.items():
        if name in targets:
            assert queue["Properties"]["KmsMasterKeyId"] == {"Ref": "NotificationKey"}
        else:
            assert queue["Properties"]["SqsManagedSseEnabled"] is True
    poller = resources["PollerFunction"]["Properties"]
    assert poller["EventInvokeConfig"]["DestinationConfig"]["OnFailure"] == {
        "Type": "SQS",
        "Destination": {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]},
    }
    schedule = poller["Events"]["Poll"]
    assert schedule["Type"] == "ScheduleV2"
    assert schedule["Properties"]["DeadLetterConfig"] == {
        "Arn": {"Fn::GetAtt": ["SchedulerDeadLetterQueue", "Arn"]}
    }
    assert schedule["Properties"]["RetryPolicy"]["MaximumRetryAttempts"] >= 1
    watched = {
        alarm["Properties"]["Dimensions"][0]["Value"]["Fn::GetAtt"][0]
        for alarm in _of_type(resources, "AWS::CloudWatch::Alarm").values()
        if alarm["Properties"].get("Namespace") == "AWS/SQS"
    }
    assert watched == set(queues)


def test_cycles_fit_the_schedule_and_reserve_concurrency_only_when_asked(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    # Overlapping cycles are safe (conditional writes, leased outbox): the reservation that
    # prevents them is a parameter, off by default (a new account cannot spare the units).
    for function, parameter, condition in (
        ("PollerFunction", "PollerReservedConcurrency", "ReservesPollerConcurrency"),
        ("JobStartedFunction", "JobStartedReservedConcurrency", "ReservesJobStartedConcurrency"),
        ("AuditApiFunction", "AuditApiReservedConcurrency", "ReservesAuditApiConcurrency"),
    ):
        reserved = resources[function]["Properties"]["ReservedConcurrentExecutions"]
        assert reserved == {"Fn::If": [condition, {"Ref": parameter}, {"Ref": "AWS::NoValue"}]}, (
            function
        )
        assert template["Parameters"][parameter]["Default"] == 0
        assert template["Conditions"][condition] == {
            "Fn::Not": [{"Fn::Equals": [{"Ref": parameter}, 0]}]
        }
    poller = resources["PollerFunction"]["Properties"]
    # The shortest schedule is one minute: a cycle must end before the next one starts.
    assert poller["Timeout"] < 60
    assert poller["Handler"] == "lfv_monitor.handlers.poll.lambda_handler"


def test_api_logging_and_the_account_role_only_when_asked(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    api = resources["AuditApi"]["Properties"]
    assert api["AccessLogSetting"]["Fn::If"][0] == "HasApiAccessLogging"
    assert api["AccessLogSetting"]["Fn::If"][2] == {"Ref": "AWS::NoValue"}
    assert template["Parameters"]["ApiAccessLogging"]["Default"] == "DISABLED"
    assert template["Parameters"]["CreateApiGatewayAccountRole"]["Default"] == "false"
    for name in ("ApiGatewayAccount", "ApiGatewayCloudWatchRole"):
        assert resources[name]["Condition"] == "CreatesApiGatewayAccountRole"
        assert resources[name]["DeletionPolicy"] == "Retain"
    assert resources["AuditApiAccessLogGroup"]["Condition"] == "HasApiAccessLogging"


def test_logs_have_a_retention_in_every_stage(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    log_group = resources["PollerLogGroup"]["Properties"]
    assert log_group["RetentionInDays"] == {
        "Fn::FindInMap": ["StageSettings", {"Ref": "Stage"}, "LogRetentionDays"]
    }
    for stage in ("dev", "prod"):
        assert template["Mappings"]["StageSettings"][stage]["LogRetentionDays"] > 0
    assert resources["PollerFunction"]["Properties"]["LoggingConfig"]["LogGroup"] == {
        "Ref": "PollerLogGroup"
    }


def test_email_and_slack_exist_only_when_configured(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    assert resources["NotificationEmailSubscription"]["Condition"] == "HasNotificationEmail"
    assert resources["AlarmEmailSubscription"]["Condition"] == "HasAlarmEmail"
    assert resources["SlackChannel"]["Condition"] == "HasSlack"
    assert resources["SlackChannelRole"]["Condition"] == "HasSlack"
    for name in ("ChatTopic", "ChatTopicPolicy", "ChatNotificationRule"):
        assert resources[name]["Condition"] == "HasSlack", name
    assert template["Conditions"]["HasSlack"] == {
        "Fn::And": [
            {"Fn::Not": [{"Fn::Equals": [{"Ref": "SlackWorkspaceId"}, ""]}]},
            {"Fn::Not": [{"Fn::Equals": [{"Ref": "SlackChannelId"}, ""]}]},
        ]
    }
    for parameter in ("NotificationEmail", "AlarmEmail", "SlackWorkspaceId", "SlackChannelId"):
        assert template["Parameters"][parameter]["Default"] == ""
    subscription = resources["NotificationEmailSubscription"]["Properties"]
    assert subscription["FilterPolicy"] == {"status": {"Ref": "NotifyStatuses"}}
    assert template["Parameters"]["NotifyStatuses"]["Default"] == "SUCCEEDED,FAILED"


def test_chat_gets_the_same_status_filter_as_email_by_default(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    # Given the Slack channel: it hears job changes from the chat topic, not the full one
    channel = resources["SlackChannel"]["Properties"]
    assert channel["SnsTopicArns"] == [{"Ref": "ChatTopic"}, {"Ref": "AlarmTopic"}]
    # and the chat topic is fed by a rule on the monitor's bus filtering detail.status
    rule = resources["ChatNotificationRule"]["Properties"]
    assert rule["EventBusName"] == {"Ref": "EventBus"}
    assert rule["EventPattern"]["detail"] == {"status": {"Ref": "ChatStatuses"}}
    assert rule["EventPattern"]["source"] == [{"Ref": "EventSource"}]
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Ref": "ChatTopic"}
    # whose input transformer writes an Amazon Q Developer custom notification
    transformer = target["InputTransformer"]
    values = {name: f"value of {path}" for name, path in transformer["InputPathsMap"].items()}
    notification = json.loads(_fill_input_template(transformer["InputTemplate"], values))
    assert (notification["version"], notification["source"]) == ("1.0", "custom")
    assert {"title", "description", "textType"} <= set(notification["content"])
    # Then by default chat and email hear the same statuses
    chat = template["Parameters"]["ChatStatuses"]
    assert chat["Type"] == "CommaDelimitedList"
    assert chat["Default"] == template["Parameters"]["NotifyStatuses"]["Default"]


def _fill_input_template(template: str, values: dict[str, str]) -> str:
    """What EventBridge makes of an input template: a placeholder inside a JSON string is
    replaced by the text, one outside by the value as JSON."""
    out, in_string, index = [], False, 0
    while index < len(template):
        char = template[index]
        match = re.match(r"<(\w+)>", template[index:])
        if match and match[1] in values:
            value = values[match[1]]
            out.append(value if in_string else json.dumps(value))
            index += len(match[0])
            continue
        if char == '"' and template[index - 1] != "\\":
            in_string = not in_string
        out.append(char)
        index += 1
    return "".join(out)


def test_alarm_periods_follow_the_schedule(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    period = {"Fn::FindInMap": ["SchedulePeriods", {"Ref": "SchedulePeriodMinutes"}, "Seconds"]}
    schedule = {"Fn::FindInMap": ["SchedulePeriods", {"Ref": "SchedulePeriodMinutes"}, "Rate"]}
    mapping = template["Mappings"]["SchedulePeriods"]
    allowed = template["Parameters"]["SchedulePeriodMinutes"]["AllowedValues"]
    assert sorted(int(k) for k in mapping) == sorted(allowed)
    for minutes, entry in mapping.items():
        assert entry["Seconds"] == 60 * int(minutes)
        unit = "minute" if minutes == "1" else "minutes"
        assert entry["Rate"] == f"rate({minutes} {unit})"
    poller = resources["PollerFunction"]["Properties"]
    assert poller["Events"]["Poll"]["Properties"]["ScheduleExpression"] == schedule
    assert poller["Environment"]["Variables"]["SCHEDULE_EXPRESSION"] == schedule
    for name in ("NoHealthyCycleAlarm", "ProjectFailureStreakAlarm", "PoisonItemsAlarm"):
        assert resources[name]["Properties"]["Period"] == period, name
    no_cycle = resources["NoHealthyCycleAlarm"]["Properties"]
    assert no_cycle["EvaluationPeriods"] == no_cycle["DatapointsToAlarm"]
    assert no_cycle["EvaluationPeriods"] == {"Ref": "AlarmAfterPeriods"}
    assert no_cycle["TreatMissingData"] == "breaching"
    oldest = resources["OldestCheckAgeAlarm"]["Properties"]
    assert oldest["Metrics"][0]["MetricStat"]["Period"] == period


def test_every_alarm_is_on_the_dashboard(resources: dict[str, Any]) -> None:
    body, variables = resources["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    shown = set(re.findall(r"\$\{(\w+)\.Arn\}", body))
    # The health alarms of the mode deployed come in through a variable (an Fn::If).
    shown |= set(re.findall(r'"Fn::GetAtt": \["(\w+)", "Arn"\]', json.dumps(variables)))
    assert shown == set(_of_type(resources, "AWS::CloudWatch::Alarm"))
    for metric in ("Coverage", "Backlog", "OldestCheckAgeSeconds", "ProjectFailureStreak"):
        assert f'"{metric}"' in body, metric


def test_every_checkov_suppression_gives_its_reason(resources: dict[str, Any]) -> None:
    skips = [
        (name, skip)
        for name, resource in resources.items()
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    ]
    assert skips
    for name, skip in skips:
        assert re.fullmatch(r"CKV_AWS_\d+", skip["id"]), name
        assert len(skip.get("comment", "")) > 20, f"{name}: {skip['id']} has no reason"


def test_the_registered_schema_is_the_event_contract_file(resources: dict[str, Any]) -> None:
    # Given the nested stack template.yaml includes for the schema registry
    nested = resources["EventSchemas"]
    assert nested["Type"] == "AWS::Serverless::Application"
    assert ROOT / nested["Properties"]["Location"] == SCHEMA_REGISTRY_PATH
    decoded, matches = decode_str(SCHEMA_REGISTRY_PATH.read_text())
    assert not matches, matches
    assert decoded is not None
    # Then its schema is the event contract file, and template.yaml holds no copy of it
    content = decoded["Resources"]["JobStateChangeSchema"]["Properties"]["Content"]
    assert json.loads(content) == json.loads(SCHEMA_PATH.read_text()), (
        "events/schema-registry.yaml's schema differs from events/schemas: "
        "run python scripts/embed_schema.py"
    )
    assert "BEGIN job-state-change.schema.json" not in TEMPLATE_PATH.read_text()


def test_the_template_reads_in_the_order_a_reviewer_needs(resources: dict[str, Any]) -> None:
    # Given the section headers of template.yaml, in file order
    text = TEMPLATE_PATH.read_text()
    headers = re.findall(r"^ *# =+ (.+)$", text, flags=re.MULTILINE)
    # Then parameters come first, the resources in reading order, outputs last
    assert headers == [
        "parameters",
        "the poll path",
        "many accounts and regions",
        "storage",
        "delivery",
        "the audit API",
        "observability",
        "outputs",
    ]
    # and each section holds its resources (spot checks)
    order = list(resources)
    sections = ["PollerFunction", "JobsTable", "EventBus", "AuditApi", "AlarmTopic", "Dashboard"]
    assert [order.index(name) for name in sections] == sorted(order.index(n) for n in sections)
    assert "BEGIN job-state-change.schema.json" not in text


def test_the_functions_share_their_settings_through_globals(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    shared = template["Globals"]["Function"]
    assert (shared["Runtime"], shared["Architectures"], shared["Tracing"]) == (
        "python3.13",
        ["arm64"],
        "Active",
    )
    assert shared["LoggingConfig"] == {"LogFormat": "JSON"}
    assert shared["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"] == "LfvMonitor"
    for name in _of_type(resources, "AWS::Serverless::Function"):
        props = resources[name]["Properties"]
        assert not {"Runtime", "Architectures", "Layers", "Tracing", "CodeUri"} & set(props), name


def test_the_powertools_layer_is_the_pinned_version(template: dict[str, Any]) -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    pin = next(
        d for d in pyproject["project"]["dependencies"] if d.startswith("aws-lambda-powertools")
    )
    version = pin.split("==")[1]
    (layer,) = template["Globals"]["Function"]["Layers"]
    assert layer == (
        "{{resolve:ssm:/aws/service/powertools/python/arm64/python3.13/" + version + "}}"
    )


def test_samconfig_lints_and_asks_before_changing_prod() -> None:
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    for env in ("default", "dev", "prod"):
        assert config[env]["validate"]["parameters"]["lint"] is True, env
        assert "CAPABILITY_AUTO_EXPAND" in config[env]["deploy"]["parameters"]["capabilities"]
    assert config["prod"]["deploy"]["parameters"]["confirm_changeset"] is True
    assert 'Stage="prod"' in config["prod"]["deploy"]["parameters"]["parameter_overrides"]
    assert 'Stage="dev"' in config["dev"]["deploy"]["parameters"]["parameter_overrides"]


def test_the_schedule_sends_the_documented_event_with_its_execution_id() -> None:
    import json
    from pathlib import Path

    from lfv_workbench.local.template import load_template

    template = load_template(Path(__file__).parents[2] / "template.yaml")
    schedule = template["Resources"]["PollerFunction"]["Properties"]["Events"]["Poll"]
    payload = json.loads(schedule["Properties"]["Input"])
    sample = json.loads((Path(__file__).parents[2] / "events" / "scheduled.json").read_text())
    assert set(payload) == set(sample)
    assert payload["id"] == "<aws.scheduler.execution-id>"


def test_cloudtrail_discovery_targets_the_poller_and_can_be_turned_off() -> None:
    from pathlib import Path

    from lfv_workbench.local.template import load_template

    template = load_template(Path(__file__).parents[2] / "template.yaml")
    rule = template["Resources"]["JobStartedRule"]
    assert rule["Condition"] == "HasCloudTrailDiscovery"
    assert rule["Properties"]["EventPattern"]["detail"]["eventName"] == ["StartModelPackagingJob"]
    assert template["Parameters"]["CloudTrailDiscovery"]["Default"] == "ENABLED"
    assert template["Resources"]["JobStartedRulePermission"]["Condition"] == (
        "HasCloudTrailDiscovery"
    )
