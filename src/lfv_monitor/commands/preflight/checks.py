"""What ``lfv-monitor doctor`` concludes from facts about an account and a stack (pure: no I/O).

Each check returns one ``Finding``: ``ok``, ``problem`` (exit 1) or ``skipped`` (not applicable,
or it needs ``--stack``), with one line of detail and, for a problem, the fix.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

Status = Literal["ok", "problem", "skipped"]

#: Lambda refuses a reservation that leaves fewer unreserved units than this in the account.
MIN_UNRESERVED = 100
#: What template.yaml reserves when its reservations are on: poller 1, job-started 2, audit API 10.
TEMPLATE_RESERVED_UNITS = 13
#: template.yaml's defaults, used when no stack is named.
DEFAULT_SCHEDULE = "rate(1 minute)"
DEFAULT_FULL_SCAN_PERIODS = 10
#: A healthy cycle is overdue after two schedule periods plus CloudWatch's ingestion delay.
METRIC_DELAY_SECONDS = 300
#: A cron schedule's period is not derived; a healthy cycle a day old is overdue.
CRON_PERIOD_SECONDS = 86_400
_RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86_400}


@dataclass(frozen=True)
class Finding:
    check: str
    status: Status
    detail: str
    fix: str = ""

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True)
class Trail:
    """A CloudTrail trail as it applies to the region checked."""

    name: str
    logging: bool
    #: Management events with write calls (ReadWriteType All/WriteOnly, or an advanced selector
    #: on eventCategory Management that does not keep only read-only calls).
    management_writes: bool


@dataclass(frozen=True)
class StackFacts:
    """What the deployed stack says about itself (describe-stacks)."""

    name: str
    parameters: Mapping[str, str] = field(default_factory=dict)
    outputs: Mapping[str, str] = field(default_factory=dict)

    @property
    def schedule_expression(self) -> str:
        return self.parameters.get("ScheduleExpression", DEFAULT_SCHEDULE)

    @property
    def full_scan_periods(self) -> int:
        value = self.parameters.get("FullScanPeriods", "")
        return int(value) if value.isdigit() else DEFAULT_FULL_SCAN_PERIODS


def period_seconds(expression: str) -> int | None:
    """``rate(5 minutes)`` -> 300; a cron expression -> None."""
    match = _RATE.match(expression.strip())
    if not match:
        return None
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2).rstrip("s")]


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def lookout_for_vision(region: str, projects: int | None, error: str | None) -> Finding:
    if error is None and projects is not None:
        return Finding("lookout-for-vision", "ok", f"reachable in {region}: {projects} project(s)")
    return Finding(
        "lookout-for-vision",
        "problem",
        f"cannot list projects in {region}: {error}",
        "grant lookoutvision:ListProjects, pick a region that serves Lookout for Vision, or set "
        "AWS_ENDPOINT_URL_LOOKOUTVISION / --lfv-endpoint-url (AWS ended the service on "
        "2025-10-31)",
    )


def cloudtrail(region: str, trails: Sequence[Trail], stack: StackFacts | None) -> Finding:
    if stack is not None and stack.parameters.get("CloudTrailDiscovery") == "DISABLED":
        return Finding(
            "cloudtrail",
            "skipped",
            "CloudTrailDiscovery is DISABLED: every period lists every project",
        )
    recording = [t.name for t in trails if t.logging and t.management_writes]
    if recording:
        return Finding(
            "cloudtrail",
            "ok",
            f"trail {recording[0]} records management write events in {region}: "
            "new jobs are announced in seconds",
        )
    expression = stack.schedule_expression if stack else DEFAULT_SCHEDULE
    periods = stack.full_scan_periods if stack else DEFAULT_FULL_SCAN_PERIODS
    period = period_seconds(expression)
    delay = (
        f"up to {_duration(period * periods)} ({periods} x {expression})"
        if period
        else f"up to {periods} schedule periods"
    )
    return Finding(
        "cloudtrail",
        "problem",
        f"no logging trail records management write events in {region}: discovery falls back "
        f"to the rotation, so a new job is announced {delay} after it starts",
        "aws cloudtrail create-trail --name lfv-monitor --s3-bucket-name BUCKET "
        "--is-multi-region-trail && aws cloudtrail start-logging --name lfv-monitor",
    )


def concurrency(unreserved: int | None, reserve: int, error: str | None = None) -> Finding:
    if unreserved is None:
        return Finding(
            "lambda-concurrency",
            "problem",
            f"cannot read Lambda's account settings: {error}",
            "grant lambda:GetAccountSettings",
        )
    left = unreserved - reserve
    detail = (
        f"{unreserved} unreserved unit(s); reserving {reserve} leaves {left} "
        f"(Lambda keeps at least {MIN_UNRESERVED})"
    )
    if left >= MIN_UNRESERVED:
        return Finding("lambda-concurrency", "ok", detail)
    return Finding(
        "lambda-concurrency",
        "problem",
        detail,
        "deploy without reserved concurrency (the template's default), or ask Service Quotas "
        "for a higher 'Concurrent executions' quota",
    )


def api_gateway_role(access_logging: bool, role_arn: str | None, error: str | None) -> Finding:
    if not access_logging:
        return Finding("apigateway-logs-role", "skipped", "access logging is off")
    if role_arn:
        return Finding("apigateway-logs-role", "ok", f"CloudWatch Logs role set: {role_arn}")
    return Finding(
        "apigateway-logs-role",
        "problem",
        f"API Gateway has no CloudWatch Logs role in this region{f': {error}' if error else ''}"
        " (the deploy fails: 'CloudWatch Logs role ARN must be set in account settings')",
        "deploy with CreateApiGatewayAccountRole=true, or turn access logging off",
    )


def email_subscriptions(pending: Sequence[str], confirmed: Sequence[str]) -> Finding:
    if pending:
        return Finding(
            "email-subscription",
            "problem",
            f"not confirmed: {', '.join(pending)} (SNS sends nothing until it is)",
            "open the 'AWS Notification - Subscription Confirmation' email and click the link",
        )
    if not confirmed:
        return Finding("email-subscription", "skipped", "no email subscription on the topics")
    return Finding("email-subscription", "ok", f"confirmed: {', '.join(confirmed)}")


def schedule(name: str | None, state: str | None, error: str | None) -> Finding:
    if state == "ENABLED":
        return Finding("schedule", "ok", f"schedule {name} is ENABLED")
    if state is not None:
        return Finding(
            "schedule",
            "problem",
            f"schedule {name} is {state}: no cycle runs",
            "redeploy with ScheduleState=ENABLED",
        )
    return Finding(
        "schedule",
        "problem",
        f"cannot read schedule {name}: {error}",
        "grant scheduler:GetSchedule",
    )


def last_healthy_cycle(
    latest: datetime | None, now: datetime, expression: str, error: str | None = None
) -> Finding:
    period = period_seconds(expression) or CRON_PERIOD_SECONDS
    allowed = 2 * period + METRIC_DELAY_SECONDS
    fix = "run `lfv-monitor poll` with the stack's settings to see why, and read the logs"
    if error is not None:
        return Finding(
            "last-healthy-cycle",
            "problem",
            f"cannot read CycleSucceeded: {error}",
            "grant cloudwatch:GetMetricStatistics",
        )
    if latest is None:
        return Finding(
            "last-healthy-cycle", "problem", "no healthy cycle recorded in the last day", fix
        )
    age = (now - latest).total_seconds()
    detail = f"last healthy cycle {_duration(max(age, 0))} ago (allowed {_duration(allowed)})"
    if age <= allowed:
        return Finding("last-healthy-cycle", "ok", detail)
    return Finding("last-healthy-cycle", "problem", detail, fix)


def needs_stack(check: str) -> Finding:
    return Finding(check, "skipped", "pass --stack NAME to check the deployed stack")


def exit_code(findings: Sequence[Finding]) -> int:
    return 1 if any(f.status == "problem" for f in findings) else 0


def records_management_writes(
    selectors: Sequence[Mapping[str, Any]], advanced: Sequence[Mapping[str, Any]]
) -> bool:
    """Whether a trail's event selectors (basic or advanced) keep management write events."""
    for selector in selectors:
        if selector.get("IncludeManagementEvents", True) and selector.get(
            "ReadWriteType", "All"
        ) in ("All", "WriteOnly"):
            return True
    for selector in advanced:
        fields = {f.get("Field"): f for f in selector.get("FieldSelectors", [])}
        category = fields.get("eventCategory", {})
        read_only = fields.get("readOnly", {})
        if "Management" in category.get("Equals", []) and "true" not in read_only.get("Equals", []):
            return True
    return False
