"""template.yaml deploys to moto's CloudFormation and the resources are there as it says."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from lfv_monitor.bootstrap import build_dispatcher
from lfv_monitor.handlers.dispatch import lambda_handler
from lfv_monitor.lambda_context import LocalContext, scheduled_event
from lfv_workbench.local.stack import StackDeployError, StackOutputs, deploy_stack

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


def _client(service: str, endpoint: str) -> Any:
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1")


@pytest.fixture
def stack(aws_endpoint: str) -> StackOutputs:
    return deploy_stack(aws_endpoint, TEMPLATE, {})


def test_table_has_the_documented_keys_indexes_ttl_and_recovery(
    aws_endpoint: str, stack: StackOutputs
) -> None:
    # Given a stack deployed with the default parameters
    dynamodb = _client("dynamodb", aws_endpoint)
    # When the table is described
    table = dynamodb.describe_table(TableName=stack.table_name)["Table"]
    # Then it has the keys, indexes and settings of docs/architecture.md
    assert table["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    indexes = {
        index["IndexName"]: (
            [key["AttributeName"] for key in index["KeySchema"]],
            index["Projection"]["ProjectionType"],
        )
        for index in table["GlobalSecondaryIndexes"]
    }
    assert indexes == {
        "ByProject": (["gsi1pk", "gsi1sk"], "ALL"),
        "ByStatus": (["gsi2pk", "gsi2sk"], "ALL"),
        "Active": (["active_pk", "active_sk"], "ALL"),
    }
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["TableArn"] == stack.as_dict()["TableArn"]
    ttl = dynamodb.describe_time_to_live(TableName=stack.table_name)["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}
    backups = dynamodb.describe_continuous_backups(TableName=stack.table_name)
    pitr = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert pitr["PointInTimeRecoveryStatus"] == "ENABLED"


def test_bus_and_archive_exist(aws_endpoint: str, stack: StackOutputs) -> None:
    events = _client("events", aws_endpoint)
    bus = events.describe_event_bus(Name=stack.event_bus_name)
    assert bus["Arn"] == stack.event_bus_arn
    assert stack.event_bus_name == "lfv-monitor-events"
    archive = events.describe_archive(ArchiveName=stack.as_dict()["EventArchiveName"])
    assert archive["EventSourceArn"] == stack.event_bus_arn
    assert json.loads(archive["EventPattern"]) == {"source": ["lfv-monitor"]}


def test_topics_are_encrypted_with_the_stack_key_and_publishing_is_restricted(
    aws_endpoint: str, stack: StackOutputs
) -> None:
    sns = _client("sns", aws_endpoint)
    kms = _client("kms", aws_endpoint)
    key_arn = stack.as_dict()["KmsKeyArn"]
    for topic_arn in (stack.topic_arn, stack.alarm_topic_arn):
        attributes = sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"]
        key = kms.describe_key(KeyId=attributes["KmsMasterKeyId"])["KeyMetadata"]
        assert key["Arn"] == key_arn
    policy = json.loads(sns.get_topic_attributes(TopicArn=stack.topic_arn)["Attributes"]["Policy"])
    deny = next(s for s in policy["Statement"] if s["Sid"] == "DenyPublishFromAnyoneElse")
    # The poller's and (CloudTrail discovery is on by default) JobStartedFunction's roles
    role_arns = deny["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]
    assert len(role_arns) == 2
    assert all(arn.startswith("arn:aws:iam::123456789012:role/") for arn in role_arns)
    assert kms.get_key_rotation_status(KeyId=key_arn)["KeyRotationEnabled"] is True


def test_dead_letter_queues_exist(aws_endpoint: str, stack: StackOutputs) -> None:
    sqs = _client("sqs", aws_endpoint)
    for url in (stack.dead_letter_queue_url, stack.scheduler_dead_letter_queue_url):
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        assert attributes["MessageRetentionPeriod"] == "1209600"


def test_alarms_report_to_the_alarm_topic(aws_endpoint: str, stack: StackOutputs) -> None:
    cloudwatch = _client("cloudwatch", aws_endpoint)
    alarms = {
        alarm["AlarmName"]: alarm
        for alarm in cloudwatch.describe_alarms(AlarmNamePrefix="lfv-monitor-")["MetricAlarms"]
    }
    assert set(alarms) == {
        f"lfv-monitor-{name}"
        for name in (
            "FunctionErrorsAlarm",
            "NoHealthyCycleAlarm",
            "ProjectFailureStreakAlarm",
            "PoisonItemsAlarm",
            "OldestCheckAgeAlarm",
            "PublishFailuresAlarm",
            "ThrottlesAlarm",
            "DeadLetterQueueAlarm",
            "SchedulerDeadLetterQueueAlarm",
        )
    }
    for alarm in alarms.values():
        assert alarm["AlarmActions"] == [stack.alarm_topic_arn]
    # The schedule-derived alarms use the schedule's period (default rate(1 minute)) and
    # AlarmAfterPeriods (5)
    no_cycle = alarms["lfv-monitor-NoHealthyCycleAlarm"]
    assert (no_cycle["Namespace"], no_cycle["MetricName"]) == ("LfvMonitor", "CycleSucceeded")
    assert no_cycle["TreatMissingData"] == "breaching"
    assert (no_cycle["Period"], no_cycle["EvaluationPeriods"]) == (60, 5)
    streak = alarms["lfv-monitor-ProjectFailureStreakAlarm"]
    assert (streak["MetricName"], streak["Threshold"]) == ("ProjectFailureStreak", 5.0)
    assert alarms["lfv-monitor-PoisonItemsAlarm"]["MetricName"] == "PoisonItems"
    # age / (60 * 1 minute) - FullScanPeriods (10) > 2 periods
    oldest = {query["Id"]: query for query in alarms["lfv-monitor-OldestCheckAgeAlarm"]["Metrics"]}
    assert oldest["age"]["MetricStat"]["Metric"]["MetricName"] == "OldestCheckAgeSeconds"
    assert oldest["age"]["MetricStat"]["Period"] == 60
    assert oldest["overdue"]["Expression"] == "age / (60 * 1) - 10"
    assert alarms["lfv-monitor-OldestCheckAgeAlarm"]["Threshold"] == 2.0


def test_outputs_name_everything_and_the_gaps_say_what_is_not_emulated(
    aws_endpoint: str, stack: StackOutputs
) -> None:
    outputs = stack.as_dict()
    for key in (
        "TableName",
        "EventBusName",
        "EventBusArn",
        "TopicArn",
        "AlarmTopicArn",
        "FunctionName",
        "FunctionArn",
        "DeadLetterQueueUrl",
        "SchedulerDeadLetterQueueUrl",
        "ScheduleName",
        "DashboardName",
    ):
        assert outputs[key], key
    assert not any(key.startswith("LfvLocal") for key in outputs)
    assert stack.schedule_name == "lfv-monitor-poll"
    assert stack.gap("PollerFunction").handling == "not-emulated"
    assert stack.gap("PollerFunctionPoll").resource_type == "AWS::Scheduler::Schedule"
    assert stack.gap("EventSchemas").handling == "not-emulated"
    assert stack.gap("EventSchemas").resource_type == "AWS::CloudFormation::Stack"
    assert stack.gap("NotificationTopicPolicy").handling == "api"
    assert stack.gap("NotificationEmailSubscription").handling == "condition-false"
    dashboards = _client("cloudwatch", aws_endpoint).list_dashboards()["DashboardEntries"]
    assert [d["DashboardName"] for d in dashboards] == [stack.dashboard_name]


def test_an_email_address_subscribes_with_the_status_filter(aws_endpoint: str) -> None:
    # Given an email address and the statuses to hear about
    parameters = {"NotificationEmail": "ops@example.com", "NotifyStatuses": "FAILED"}
    # When the stack is deployed
    stack = deploy_stack(aws_endpoint, TEMPLATE, parameters, stack_name="lfv-mail")
    # Then the topic has one email subscription filtered on the `status` attribute
    sns = _client("sns", aws_endpoint)
    (subscription,) = sns.list_subscriptions_by_topic(TopicArn=stack.topic_arn)["Subscriptions"]
    assert (subscription["Protocol"], subscription["Endpoint"]) == ("email", "ops@example.com")
    attributes = sns.get_subscription_attributes(SubscriptionArn=subscription["SubscriptionArn"])
    assert json.loads(attributes["Attributes"]["FilterPolicy"]) == {"status": ["FAILED"]}
    assert stack.gap("NotificationEmailSubscription").handling == "api"


def test_a_slower_schedule_lengthens_the_alarm_periods(aws_endpoint: str) -> None:
    # Given a 15-minute schedule
    stack = deploy_stack(
        aws_endpoint, TEMPLATE, {"SchedulePeriodMinutes": "15"}, stack_name="lfv-slow"
    )
    # Then the function is told so and the "no healthy cycle" alarm counts 15-minute periods
    assert stack.function_environment("PollerFunction")["SCHEDULE_EXPRESSION"] == (
        "rate(15 minutes)"
    )
    cloudwatch = _client("cloudwatch", aws_endpoint)
    (alarm,) = cloudwatch.describe_alarms(AlarmNames=["lfv-slow-NoHealthyCycleAlarm"])[
        "MetricAlarms"
    ]
    assert (alarm["Period"], alarm["EvaluationPeriods"]) == (900, 5)


def test_slack_hears_the_chat_statuses_through_a_rule_on_the_bus(aws_endpoint: str) -> None:
    # Given Slack ids (the channel itself is not emulated) and the default ChatStatuses
    parameters = {"SlackWorkspaceId": "T0123456789", "SlackChannelId": "C0123456789"}
    stack = deploy_stack(aws_endpoint, TEMPLATE, parameters, stack_name="lfv-chat")
    # Then a rule on the monitor's bus sends SUCCEEDED and FAILED changes to the chat topic
    events = _client("events", aws_endpoint)
    rules = events.list_rules(EventBusName=stack.event_bus_name)["Rules"]
    (rule,) = [r for r in rules if "ChatNotificationRule" in r["Name"]]
    assert json.loads(rule["EventPattern"])["detail"] == {"status": ["SUCCEEDED", "FAILED"]}
    (target,) = events.list_targets_by_rule(Rule=rule["Name"], EventBusName=stack.event_bus_name)[
        "Targets"
    ]
    assert target["Arn"] == stack.as_dict()["ChatTopicArn"]
    assert "InputTransformer" in target
    assert stack.gap("ChatTopicPolicy").handling == "api"


def test_an_unknown_parameter_is_refused_by_name(aws_endpoint: str) -> None:
    with pytest.raises(StackDeployError, match="NotAParameter"):
        deploy_stack(aws_endpoint, TEMPLATE, {"NotAParameter": "x"})


MULTI_TARGET = {
    "Targets": "123456789012:us-east-1,111111111111:eu-west-1",
    "OrganizationalUnitIds": "ou-ab12-11111111",
    "TargetRegions": "eu-west-1",
}


def test_with_targets_the_dispatcher_fills_a_fifo_queue_the_poller_reads(
    aws_endpoint: str,
) -> None:
    # Given two static targets and an organizational unit
    stack = deploy_stack(aws_endpoint, TEMPLATE, MULTI_TARGET, stack_name="lfv-org")
    outputs = stack.as_dict()
    # Then the target queue is FIFO, encrypted with the stack key, its visibility timeout at
    # least 6 x the poller's timeout, and its failures go to a FIFO dead-letter queue
    sqs = _client("sqs", aws_endpoint)
    attributes = sqs.get_queue_attributes(
        QueueUrl=outputs["TargetQueueUrl"], AttributeNames=["All"]
    )["Attributes"]
    assert attributes["FifoQueue"] == "true"
    assert int(attributes["VisibilityTimeout"]) >= 6 * 58
    assert attributes["KmsMasterKeyId"]
    redrive = json.loads(attributes["RedrivePolicy"])
    dlq = sqs.get_queue_attributes(
        QueueUrl=outputs["TargetDeadLetterQueueUrl"], AttributeNames=["QueueArn", "FifoQueue"]
    )["Attributes"]
    assert redrive["deadLetterTargetArn"] == dlq["QueueArn"]
    assert dlq["FifoQueue"] == "true"
    # and the dispatcher is told the targets, the units, the regions and the queue
    environment = stack.function_environment("DispatcherFunction")
    assert environment["TARGETS"] == MULTI_TARGET["Targets"]
    assert environment["ORGANIZATIONAL_UNIT_IDS"] == "ou-ab12-11111111"
    assert environment["TARGET_REGIONS"] == "eu-west-1"
    assert environment["TARGET_QUEUE_URL"] == outputs["TargetQueueUrl"]
    assert environment["MONITOR_ACCOUNT_ID"] == "123456789012"
    assert environment["MEMBER_ROLE_NAME"] == "lfv-monitor-reader"
    # and the poller's event source mapping (not emulated) takes one message at a time
    mapping = stack.template["Resources"]["PollerTargetQueueMapping"]["Properties"]
    assert mapping["BatchSize"] == 1
    assert stack.gap("PollerTargetQueueMapping").handling == "not-emulated"
    # and the per-target (grouped) and dispatcher alarms exist; the single-account one not
    cloudwatch = _client("cloudwatch", aws_endpoint)
    names = {
        a["AlarmName"]
        for a in cloudwatch.describe_alarms(AlarmNamePrefix="lfv-org-")["MetricAlarms"]
    }
    assert {
        "lfv-org-UnhealthyTargetsAlarm",
        "lfv-org-DispatchFailuresAlarm",
        "lfv-org-NothingDispatchedAlarm",
        "lfv-org-TargetProjectFailureStreakAlarm",
        "lfv-org-TargetPoisonItemsAlarm",
        "lfv-org-TargetPublishFailuresAlarm",
        "lfv-org-TargetThrottlesAlarm",
    } <= names
    # (the service-only ones would never see a metric: every poll metric has a target)
    assert (
        not {
            "lfv-org-NoHealthyCycleAlarm",
            "lfv-org-ProjectFailureStreakAlarm",
            "lfv-org-ThrottlesAlarm",
        }
        & names
    )
    (health,) = cloudwatch.describe_alarms(AlarmNames=["lfv-org-UnhealthyTargetsAlarm"])[
        "MetricAlarms"
    ]
    (query,) = health["Metrics"]
    assert "GROUP BY target" in query["Expression"]
    assert "WHERE service = 'lfv-org'" in query["Expression"]


def test_without_targets_nothing_of_the_multi_target_mode_is_deployed(
    aws_endpoint: str, stack: StackOutputs
) -> None:
    # Given the default parameters (no Targets, no OrganizationalUnitIds)
    outputs = stack.as_dict()
    # Then there is no dispatcher, no target queue and no per-target alarm: today's stack
    assert not {"TargetQueueUrl", "DispatcherFunctionName"} & set(outputs)
    queues = _client("sqs", aws_endpoint).list_queues().get("QueueUrls", [])
    assert not any("targets" in url for url in queues)
    alarms = _client("cloudwatch", aws_endpoint).describe_alarms()["MetricAlarms"]
    names = {a["AlarmName"] for a in alarms}
    assert "lfv-monitor-NoHealthyCycleAlarm" in names
    assert not any("Target" in name or "Dispatch" in name for name in names)


def test_the_dispatcher_with_the_deployed_environment_queues_each_static_target(
    aws_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the stack deployed with two static targets (no OU: nothing to list)
    parameters = {"Targets": "123456789012:us-east-1,111111111111:eu-west-1"}
    stack = deploy_stack(aws_endpoint, TEMPLATE, parameters, stack_name="lfv-fan")
    for name, value in stack.function_environment("DispatcherFunction").items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws_endpoint)
    # When one scheduled period is dispatched with that environment
    summary = lambda_handler(scheduled_event(), LocalContext(), service=build_dispatcher())
    # Then each target has one message in the encrypted FIFO queue, in its own group
    assert (summary["dispatched"], summary["failures"]) == (2, [])
    sqs = _client("sqs", aws_endpoint)
    received = sqs.receive_message(
        QueueUrl=stack.as_dict()["TargetQueueUrl"],
        MaxNumberOfMessages=10,
        AttributeNames=["MessageGroupId"],
    )["Messages"]
    bodies = {m["Attributes"]["MessageGroupId"]: json.loads(m["Body"]) for m in received}
    assert bodies["123456789012:us-east-1"]["roleArn"] is None
    assert bodies["111111111111:eu-west-1"]["roleArn"] == (
        "arn:aws:iam::111111111111:role/lfv-monitor-reader"
    )
