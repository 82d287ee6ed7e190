"""The monitor's configuration: one validated model, parsed once, with errors that name the
variable.  Endpoints, region and credentials are not here: they come from the SDK's standard
configuration (``AWS_REGION``, ``AWS_ENDPOINT_URL_*``, ``AWS_PROFILE``, ...)."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from lfv_monitor.domain.errors import ConfigurationError


class Settings(BaseModel):
    """Environment variables of the poller (see docs/architecture.md, "Configuration")."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    table_name: str = Field(alias="TABLE_NAME", min_length=3, max_length=255)
    event_bus_name: str = Field(alias="EVENT_BUS_NAME", min_length=1, max_length=1600)
    topic_arn: str = Field(
        alias="TOPIC_ARN", pattern=r"^arn:[a-z-]+:sns:[a-z0-9-]*:[0-9]*:[A-Za-z0-9_.-]{1,256}$"
    )
    event_source: str = Field(default="lfv-monitor", alias="EVENT_SOURCE", min_length=1)
    lfv_rate_per_second: float = Field(default=4.0, alias="LFV_RATE_PER_SECOND", gt=0, le=100)
    deadline_margin_seconds: float = Field(
        default=10.0, alias="DEADLINE_MARGIN_SECONDS", ge=0, le=600
    )
    history_retention_days: int = Field(default=0, alias="HISTORY_RETENTION_DAYS", ge=0)
    active_poll_interval: float = Field(default=10.0, alias="ACTIVE_POLL_INTERVAL", ge=0, le=300)

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
                reason = "is required" if error["type"] == "missing" else error["msg"]
                problems.append(f"{name} {reason}")
            raise ConfigurationError("invalid configuration: " + "; ".join(problems)) from None


class AuditSettings(BaseModel):
    """Environment variables of the audit API function."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    table_name: str = Field(alias="TABLE_NAME", min_length=3, max_length=255)

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> AuditSettings:
        """Parse ``environ``; raise ``ConfigurationError`` naming every bad variable."""
        try:
            return cls.model_validate({k: v for k, v in environ.items() if v != ""})
        except ValidationError as exc:
            problems = [
                ".".join(str(p) for p in e["loc"])
                + (" is required" if e["type"] == "missing" else f" {e['msg']}")
                for e in exc.errors()
            ]
            raise ConfigurationError("invalid configuration: " + "; ".join(problems)) from None
