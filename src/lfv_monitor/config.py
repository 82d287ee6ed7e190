"""The monitor's configuration: one validated model, parsed once, with errors that name the
variable.  Endpoints, region and credentials are not here: they come from the SDK's standard
configuration (``AWS_REGION``, ``AWS_ENDPOINT_URL_*``, ``AWS_PROFILE``, ...).

Plain typed dataclass and a table of variables rather than pydantic: the poller imports this on
every cold start, and pydantic alone costs ~45 ms of it (see benchmarks, P4) for a dozen values.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from lfv_monitor.domain.errors import ConfigurationError
from lfv_monitor.domain.targets import Target, parse_regions, parse_targets, parse_units

_RATE = re.compile(r"rate\((?P<value>[1-9][0-9]*) (?P<unit>minutes?|hours?|days?)\)")
_TOPIC_ARN = re.compile(r"arn:[a-z-]+:sns:[a-z0-9-]*:[0-9]*:[A-Za-z0-9_.-]{1,256}")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def _text(min_length: int = 1, max_length: int = 1600) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if not min_length <= len(value) <= max_length:
            raise ValueError(f"must be {min_length} to {max_length} characters long")
        return value

    return parse


def _number(
    kind: type[int] | type[float],
    *,
    gt: float | None = None,
    ge: float | None = None,
    le: float | None = None,
) -> Callable[[str], float]:
    def parse(value: str) -> float:
        try:
            number = kind(value)
        except ValueError:
            article = "an integer" if kind is int else "a number"
            raise ValueError(f"must be {article}, got {value!r}") from None
        if isinstance(number, float) and not math.isfinite(number):
            raise ValueError(f"must be a finite number, got {value!r}")
        if gt is not None and not number > gt:
            raise ValueError(f"must be greater than {gt:g}, got {value}")
        if ge is not None and not number >= ge:
            raise ValueError(f"must be greater than or equal to {ge:g}, got {value}")
        if le is not None and not number <= le:
            raise ValueError(f"must be less than or equal to {le:g}, got {value}")
        return number

    return parse


def _topic_arn(value: str) -> str:
    if not _TOPIC_ARN.fullmatch(value):
        raise ValueError(
            f"must be an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>), got {value!r}"
        )
    return value


def _event_source(value: str) -> str:
    if value.startswith("aws."):
        raise ValueError("must not start with 'aws.' (EventBridge reserves it)")
    return _text()(value)


def _schedule(value: str) -> str:
    if not (_RATE.fullmatch(value.strip()) or value.strip().startswith("cron(")):
        raise ValueError(
            f"must be rate(N minute|minutes|hour|hours|day|days) or cron(...), got {value!r}"
        )
    return value.strip()


def _period(expression: str | None, default: float) -> float:
    """``rate(N unit)`` sets the period; a cron expression (or none) keeps ``default``."""
    match = _RATE.fullmatch(expression or "")
    if not match:
        return default
    return float(int(match["value"]) * _UNIT_SECONDS[match["unit"].rstrip("s")])


@dataclass(frozen=True)
class Settings:
    """Environment variables of the poller (see docs/architecture.md, "Configuration")."""

    table_name: str
    event_bus_name: str
    topic_arn: str
    event_source: str = "lfv-monitor"
    lfv_rate_per_second: float = 4.0
    lfv_max_attempts: int = 5
    deadline_margin_seconds: float = 5.0
    history_retention_days: int = 0
    active_poll_interval: float = 10.0
    schedule_period_seconds: float = 60.0
    list_budget_per_cycle: int = 0
    full_scan_periods: int = 1
    schedule_expression: str | None = None

    def __post_init__(self) -> None:
        period = _period(self.schedule_expression, self.schedule_period_seconds)
        object.__setattr__(self, "schedule_period_seconds", period)

    def list_budget(self) -> int | None:
        """Projects one cycle lists: as set, or what the rate allows within one period."""
        if self.list_budget_per_cycle:
            return self.list_budget_per_cycle
        usable = self.schedule_period_seconds - self.deadline_margin_seconds
        return max(1, int(usable * self.lfv_rate_per_second * 0.8))

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Parse ``environ``; raise ``ConfigurationError`` naming every bad variable."""
        values: dict[str, Any] = {}
        problems: list[str] = []
        for name, (variable, parse) in _VARIABLES.items():
            raw = environ.get(variable, "")
            if raw == "":
                if name in _REQUIRED:
                    problems.append(f"{variable} is required")
                continue
            try:
                values[name] = parse(raw)
            except ValueError as exc:
                problems.append(f"{variable} {exc}")
        if problems:
            raise ConfigurationError("invalid configuration: " + "; ".join(problems))
        return cls(**values)


_VARIABLES: dict[str, tuple[str, Callable[[str], Any]]] = {
    "table_name": ("TABLE_NAME", _text(3, 255)),
    "event_bus_name": ("EVENT_BUS_NAME", _text(1, 1600)),
    "topic_arn": ("TOPIC_ARN", _topic_arn),
    "event_source": ("EVENT_SOURCE", _event_source),
    "lfv_rate_per_second": ("LFV_RATE_PER_SECOND", _number(float, gt=0, le=100)),
    "lfv_max_attempts": ("LFV_MAX_ATTEMPTS", _number(int, ge=1, le=10)),
    "deadline_margin_seconds": ("DEADLINE_MARGIN_SECONDS", _number(float, ge=0, le=600)),
    "history_retention_days": ("HISTORY_RETENTION_DAYS", _number(int, ge=0)),
    "active_poll_interval": ("ACTIVE_POLL_INTERVAL", _number(float, ge=0, le=300)),
    "schedule_period_seconds": ("SCHEDULE_PERIOD_SECONDS", _number(float, ge=10, le=86400)),
    "list_budget_per_cycle": ("LIST_BUDGET_PER_CYCLE", _number(int, ge=0)),
    "full_scan_periods": ("FULL_SCAN_PERIODS", _number(int, ge=1, le=1440)),
    "schedule_expression": ("SCHEDULE_EXPRESSION", _schedule),
}
_REQUIRED = frozenset({"table_name", "event_bus_name", "topic_arn"})
assert _REQUIRED | set(_VARIABLES) == {f.name for f in fields(Settings)}


@dataclass(frozen=True)
class AuditSettings:
    """Environment variables of the audit API function."""

    table_name: str

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> AuditSettings:
        """Parse ``environ``; raise ``ConfigurationError`` naming the bad variable."""
        raw = environ.get("TABLE_NAME", "")
        if raw == "":
            raise ConfigurationError("invalid configuration: TABLE_NAME is required")
        try:
            return cls(table_name=_text(3, 255)(raw))
        except ValueError as exc:
            raise ConfigurationError(f"invalid configuration: TABLE_NAME {exc}") from None


_ROLE_NAME = re.compile(r"[\w+=,.@-]{1,64}")
_ACCOUNT_ID = re.compile(r"[0-9]{12}")


@dataclass(frozen=True)
class DispatchSettings:
    """Environment variables of the dispatcher (multi-target mode; docs/architecture.md,
    "Many accounts and regions")."""

    queue_url: str
    monitor_account: str
    targets: tuple[Target, ...] = ()
    units: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    member_role_name: str = "lfv-monitor-reader"
    partition: str = "aws"
    schedule_period_seconds: float = 60.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> DispatchSettings:
        """Parse ``environ``; raise ``ConfigurationError`` naming every bad variable."""
        problems: list[str] = []

        def read(variable: str, parse: Callable[[str], Any], default: Any = None) -> Any:
            raw = environ.get(variable, "").strip()
            if not raw:
                return default
            try:
                return parse(raw)
            except (ValueError, ConfigurationError) as exc:
                problems.append(f"{variable} {exc}")
                return default

        queue_url = read("TARGET_QUEUE_URL", _text(1, 2048))
        account = read("MONITOR_ACCOUNT_ID", _pattern(_ACCOUNT_ID, "a 12-digit account id"))
        targets = read("TARGETS", lambda v: parse_targets(v, where="entry"), ())
        units = read("ORGANIZATIONAL_UNIT_IDS", lambda v: parse_units(v, where="entry"), ())
        regions = read("TARGET_REGIONS", lambda v: parse_regions(v, where="entry"), ())
        regions = regions or read("AWS_REGION", lambda v: parse_regions(v, where="entry"), ())
        role = read("MEMBER_ROLE_NAME", _pattern(_ROLE_NAME, "an IAM role name"), None)
        seconds = read("SCHEDULE_PERIOD_SECONDS", _number(float, ge=10, le=86400), 60.0)
        period = _period(read("SCHEDULE_EXPRESSION", _schedule), seconds)
        for variable, value in (("TARGET_QUEUE_URL", queue_url), ("MONITOR_ACCOUNT_ID", account)):
            if value is None and not any(p.startswith(variable) for p in problems):
                problems.append(f"{variable} is required")
        if not targets and not units and not problems:
            problems.append("TARGETS or ORGANIZATIONAL_UNIT_IDS must name at least one target")
        if units and not regions:
            problems.append("TARGET_REGIONS (or AWS_REGION) is needed for ORGANIZATIONAL_UNIT_IDS")
        if problems:
            raise ConfigurationError("invalid configuration: " + "; ".join(problems))
        return cls(
            queue_url=queue_url,
            monitor_account=account,
            targets=targets,
            units=units,
            regions=regions,
            member_role_name=role or cls.member_role_name,
            partition=environ.get("AWS_PARTITION", "").strip() or cls.partition,
            schedule_period_seconds=period,
        )


def _pattern(pattern: re.Pattern[str], what: str) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if not pattern.fullmatch(value):
            raise ValueError(f"must be {what}, got {value!r}")
        return value

    return parse
