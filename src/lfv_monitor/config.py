"""The monitor's configuration: one validated model, parsed once, with errors that name the
variable.  Endpoints, region and credentials are not here: they come from the SDK's standard
configuration (``AWS_REGION``, ``AWS_ENDPOINT_URL_*``, ``AWS_PROFILE``, ...)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from lfv_monitor.domain.errors import ConfigurationError

_RATE = re.compile(r"rate\((?P<value>[1-9][0-9]*) (?P<unit>minutes?|hours?|days?)\)")
_TOPIC_ARN = re.compile(r"arn:[a-z-]+:sns:[a-z0-9-]*:[0-9]*:[A-Za-z0-9_.-]{1,256}")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


class Settings(BaseModel):
    """Environment variables of the poller (see docs/architecture.md, "Configuration")."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    table_name: str = Field(alias="TABLE_NAME", min_length=3, max_length=255)
    event_bus_name: str = Field(alias="EVENT_BUS_NAME", min_length=1, max_length=1600)
    topic_arn: str = Field(alias="TOPIC_ARN")
    event_source: str = Field(default="lfv-monitor", alias="EVENT_SOURCE", min_length=1)
    lfv_rate_per_second: float = Field(default=4.0, alias="LFV_RATE_PER_SECOND", gt=0, le=100)
    lfv_max_attempts: int = Field(default=5, alias="LFV_MAX_ATTEMPTS", ge=1, le=10)
    deadline_margin_seconds: float = Field(
        default=10.0, alias="DEADLINE_MARGIN_SECONDS", ge=0, le=600
    )
    history_retention_days: int = Field(default=0, alias="HISTORY_RETENTION_DAYS", ge=0)
    active_poll_interval: float = Field(default=10.0, alias="ACTIVE_POLL_INTERVAL", ge=0, le=300)
    schedule_period_seconds: float = Field(
        default=60.0, alias="SCHEDULE_PERIOD_SECONDS", ge=10, le=86400
    )
    list_budget_per_cycle: int = Field(default=0, alias="LIST_BUDGET_PER_CYCLE", ge=0)
    schedule_expression: str | None = Field(default=None, alias="SCHEDULE_EXPRESSION")

    @model_validator(mode="after")
    def _period_from_schedule(self) -> Settings:
        """``rate(N unit)`` sets the period; a cron expression keeps SCHEDULE_PERIOD_SECONDS."""
        if self.schedule_expression:
            match = _RATE.fullmatch(self.schedule_expression.strip())
            if match:
                seconds = int(match["value"]) * _UNIT_SECONDS[match["unit"].rstrip("s")]
                object.__setattr__(self, "schedule_period_seconds", float(seconds))
        return self

    def list_budget(self) -> int | None:
        """Projects one cycle lists: as set, or what the rate allows within one period."""
        if self.list_budget_per_cycle:
            return self.list_budget_per_cycle
        usable = self.schedule_period_seconds - self.deadline_margin_seconds
        return max(1, int(usable * self.lfv_rate_per_second * 0.8))

    @field_validator("topic_arn")
    @classmethod
    def _topic_arn(cls, value: str) -> str:
        if not _TOPIC_ARN.fullmatch(value):
            raise ValueError(
                f"must be an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>), got {value!r}"
            )
        return value

    @field_validator("schedule_expression")
    @classmethod
    def _schedule(cls, value: str | None) -> str | None:
        if value and not (_RATE.fullmatch(value.strip()) or value.startswith("cron(")):
            raise ValueError(
                f"must be rate(N minute|minutes|hour|hours|day|days) or cron(...), got {value!r}"
            )
        return value

    @field_validator("event_source")
    @classmethod
    def _not_aws(cls, value: str) -> str:
        if value.startswith("aws."):
            raise ValueError("must not start with 'aws.' (EventBridge reserves it)")
        return value

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Parse ``environ``; raise ``ConfigurationError`` naming every bad variable."""
        try:
            return cls.model_validate({k: v for k, v in environ.items() if v != ""})
        except ValidationError as exc:
            problems = []
            for error in exc.errors():
                name = ".".join(str(p) for p in error["loc"]) or "environment"
                reason = (
                    "is required"
                    if error["type"] == "missing"
                    else error["msg"].removeprefix("Value error, ")
                )
                problems.append(f"{name} {reason}")
            raise ConfigurationError("invalid configuration: " + "; ".join(problems)) from None
