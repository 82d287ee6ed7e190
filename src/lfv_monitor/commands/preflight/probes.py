"""The AWS calls behind ``lfv-monitor doctor``: each probe reads facts and returns a ``Finding``.

A probe that cannot read (denied, throttled, unreachable) reports that as a problem with the
permission to grant; it never stops the other probes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from lfv_monitor.clients import lookoutvision_client, register_service_model
from lfv_monitor.commands.preflight import checks
from lfv_monitor.commands.preflight.checks import Finding, StackFacts, Trail
from lfv_monitor.observability import NAMESPACE

PROBE_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": 2},
    connect_timeout=5,
    read_timeout=15,
    user_agent_extra="lfv-monitor-doctor",
)
#: How far back the last healthy cycle is looked for.
LOOKBACK = timedelta(days=1)
AWS_ERRORS = (ClientError, BotoCoreError)


def _reason(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code', 'error')}: {error.get('Message', '')}".rstrip(": ")
    return str(exc)


class Probes:
    """Reads an account (and optionally a stack) through one boto3 session."""

    def __init__(self, session: boto3.Session) -> None:
        self.session = register_service_model(session)
        self.region = session.region_name or "us-east-1"

    def client(self, service: str) -> Any:
        make: Any = self.session.client
        return make(service, config=PROBE_CONFIG)

    # -- account -------------------------------------------------------------------------
    def lookout_for_vision(self) -> Finding:
        try:
            client = lookoutvision_client(self.session, config=PROBE_CONFIG)
            projects = client.list_projects().get("Projects", [])
        except AWS_ERRORS as exc:
            return checks.lookout_for_vision(self.region, None, _reason(exc))
        return checks.lookout_for_vision(self.region, len(projects), None)

    def cloudtrail(self, stack: StackFacts | None) -> Finding:
        try:
            trails = self._trails()
        except AWS_ERRORS as exc:
            return Finding(
                "cloudtrail",
                "problem",
                f"cannot read the trails: {_reason(exc)}",
                "grant cloudtrail:DescribeTrails, GetTrailStatus and GetEventSelectors",
            )
        return checks.cloudtrail(self.region, trails, stack)

    def _trails(self) -> list[Trail]:
        client = self.client("cloudtrail")
        found = []
        for trail in client.describe_trails(includeShadowTrails=True).get("trailList", []):
            if not (trail.get("IsMultiRegionTrail") or trail.get("HomeRegion") == self.region):
                continue
            arn = trail.get("TrailARN") or trail["Name"]
            status = client.get_trail_status(Name=arn)
            selectors = client.get_event_selectors(TrailName=arn)
            writes = checks.records_management_writes(
                selectors.get("EventSelectors", []), selectors.get("AdvancedEventSelectors", [])
            )
            found.append(Trail(trail["Name"], bool(status.get("IsLogging")), writes))
        return found

    def concurrency(self, reserve: int) -> Finding:
        try:
            limits = self.client("lambda").get_account_settings()["AccountLimit"]
        except (*AWS_ERRORS, KeyError) as exc:
            reason = _reason(exc) if isinstance(exc, AWS_ERRORS) else "no AccountLimit"
            return checks.concurrency(None, reserve, reason)
        return checks.concurrency(int(limits["UnreservedConcurrentExecutions"]), reserve)

    def api_gateway_role(self, access_logging: bool) -> Finding:
        if not access_logging:
            return checks.api_gateway_role(False, None, None)
        try:
            role = self.client("apigateway").get_account().get("cloudwatchRoleArn")
        except AWS_ERRORS as exc:
            return checks.api_gateway_role(True, None, _reason(exc))
        return checks.api_gateway_role(True, role, None)

    # -- stack ---------------------------------------------------------------------------
    def stack(self, name: str) -> StackFacts | Finding:
        try:
            found = self.client("cloudformation").describe_stacks(StackName=name)["Stacks"][0]
        except AWS_ERRORS as exc:
            return Finding(
                "stack",
                "problem",
                f"cannot read stack {name} in {self.region}: {_reason(exc)}",
                "check --stack, --region and --profile (or grant cloudformation:DescribeStacks)",
            )
        return StackFacts(
            name=name,
            parameters={
                p["ParameterKey"]: p.get("ParameterValue", "") for p in found.get("Parameters", [])
            },
            outputs={o["OutputKey"]: o.get("OutputValue", "") for o in found.get("Outputs", [])},
        )

    def email_subscriptions(self, stack: StackFacts) -> Finding:
        topics = [stack.outputs[k] for k in ("TopicArn", "AlarmTopicArn") if stack.outputs.get(k)]
        pending: list[str] = []
        confirmed: list[str] = []
        try:
            sns = self.client("sns")
            for topic in topics:
                pages = sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic)
                for page in pages:
                    for sub in page.get("Subscriptions", []):
                        if sub.get("Protocol") != "email":
                            continue
                        unconfirmed = sub.get("SubscriptionArn") == "PendingConfirmation"
                        (pending if unconfirmed else confirmed).append(sub.get("Endpoint", "?"))
        except AWS_ERRORS as exc:
            return Finding(
                "email-subscription",
                "problem",
                f"cannot list the topics' subscriptions: {_reason(exc)}",
                "grant sns:ListSubscriptionsByTopic",
            )
        return checks.email_subscriptions(pending, confirmed)

    def schedule(self, stack: StackFacts) -> Finding:
        name = stack.outputs.get("ScheduleName")
        if not name:
            return checks.schedule(None, None, "the stack has no ScheduleName output")
        try:
            state = self.client("scheduler").get_schedule(Name=name).get("State")
        except AWS_ERRORS as exc:
            return checks.schedule(name, None, _reason(exc))
        return checks.schedule(name, state, None)

    def last_healthy_cycle(self, stack: StackFacts, now: datetime | None = None) -> Finding:
        now = now or datetime.now(UTC)
        try:
            points = (
                self.client("cloudwatch")
                .get_metric_statistics(
                    Namespace=NAMESPACE,
                    MetricName="CycleSucceeded",
                    Dimensions=[{"Name": "service", "Value": stack.name}],
                    StartTime=now - LOOKBACK,
                    EndTime=now,
                    Period=60,
                    Statistics=["Maximum"],
                )
                .get("Datapoints", [])
            )
        except AWS_ERRORS as exc:
            return checks.last_healthy_cycle(None, now, stack.schedule_expression, _reason(exc))
        healthy = [p["Timestamp"] for p in points if p.get("Maximum", 0) >= 1]
        return checks.last_healthy_cycle(max(healthy, default=None), now, stack.schedule_expression)
