"""The monitor's configuration: one validated model, parsed once, with errors that name the
variable.  Endpoints, region and credentials are not here: they come from the SDK's standard
configuration (``AWS_REGION``, ``AWS_ENDPOINT_URL_*``, ``AWS_PROFILE``, ...); the endpoint URLs
and ``POWERTOOLS_LOG_LEVEL`` are checked here all the same (the SDK and Powertools would answer a
bad one with a traceback).  Every setting has a range (docs/architecture.md, "Configuration").

Plain typed dataclass and a table of variables rather than pydantic: the poller imports this on
every cold start, and pydantic alone costs ~45 ms of it (see benchmarks, P4) for a dozen values.

Why over 300 lines: every setting, its default, its range and its error message sit in one table
here, so the table in docs/architecture.md has one source; splitting it would scatter the
checks that name a bad variable over several modules.
"""

from __future__ import annotations

import math
import re
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from lfv_monitor.domain.errors import ConfigurationError
from lfv_monitor.domain.targets import Target, parse_target

_RATE = re.compile(r"rate\((?P<value>[1-9][0-9]{0,8}) (?P<unit>minutes?|hours?|days?)\)")
_CRON = re.compile(r"cron\(\S+( \S+){5}\)")
_TOPIC_ARN = re.compile(r"arn:[a-z-]+:sns:[a-z0-9-]*:[0-9]*:[A-Za-z0-9_.-]{1,256}")
_TABLE_NAME = re.compile(r"[A-Za-z0-9_.-]{3,255}")
_HOST = re.compile(r"((?!-)[A-Za-z0-9-]{1,63}(?<!-)\.)*(?!-)[A-Za-z0-9-]{1,63}(?<!-)\.?")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
#: The longest schedule period: a monitor that looks less than daily is not watching.
MAX_PERIOD_SECONDS = 86400
#: Lookout for Vision's quota per API (clients.SERVICE_QUOTA_PER_SECOND; not imported: this
#: module stays free of boto3).  A custom endpoint (a simulator) may allow up to MAX_RATE.
SERVICE_QUOTA_PER_SECOND = 5.0
MIN_RATE, MAX_RATE = 0.1, 100.0
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "WARN", "ERROR", "CRITICAL")
#: The endpoint variables the SDK reads for the services the monitor calls.
ENDPOINT_VARIABLES = tuple(
    "AWS_ENDPOINT_URL" + suffix
    for suffix in ("", "_LOOKOUTVISION", "_DYNAMODB", "_EVENTBRIDGE", "_SNS")
)


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


def _table_name(value: str) -> str:
    if not _TABLE_NAME.fullmatch(value):
        raise ValueError(
            f"must be 3 to 255 characters long, of A-Z a-z 0-9 _ . -, got {value!r:.80}"
        )
    return value


def _schedule(value: str) -> str:
    value = value.strip()
    rate = _RATE.fullmatch(value)
    if not (rate or _CRON.fullmatch(value)):
        raise ValueError(
            "must be rate(N minute|minutes|hour|hours|day|days) or cron(<6 fields>), "
            f"got {value!r:.80}"
        )
    if rate and _period(rate) > MAX_PERIOD_SECONDS:
        raise ValueError(f"must be a period of at most 1 day, got {value!r}")
    return value


def _period(rate: re.Match[str]) -> int:
    return int(rate["value"]) * _UNIT_SECONDS[rate["unit"].rstrip("s")]


def _endpoint_url(value: str) -> str:
    """What botocore accepts as an endpoint (``is_valid_endpoint_url``), with a usable port."""
    problem = f"must be an http(s):// URL with a host name and a port of 0-65535, got {value!r:.80}"
    try:
        parts = urllib.parse.urlsplit(value)
        _ = parts.port  # ValueError outside 0-65535
    except ValueError:
        raise ValueError(problem) from None
    host = parts.hostname or ""
    named = len(host) <= 255 and bool(_HOST.fullmatch(host))
    if parts.scheme not in ("http", "https") or any(c.isspace() for c in value):
        raise ValueError(problem)
    if not (named or ":" in host):  # a name or an IPv4 literal, or an IPv6 literal
        raise ValueError(problem)
    return value


def _account_id(value: str) -> str:
    if not re.fullmatch(r"[0-9]{12}", value):
        raise ValueError(f"must be a 12-digit AWS account id, got {value!r:.40}")
    return value


def _log_level(value: str) -> str:
    if value.upper() not in LOG_LEVELS:
        raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}, got {value!r:.40}")
    return value.upper()


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
    #: The stack's own account (the home target's; the template sets it). Unknown to the CLI
    #: unless set: events then carry ``account`` null.
    monitor_account: str | None = None
    #: Names the session in a member account's CloudTrail (``lfv-monitor-<stack name>``).
    stack_name: str = "lfv-monitor"

    def __post_init__(self) -> None:
        # ``rate(N unit)`` sets the period; a cron expression keeps SCHEDULE_PERIOD_SECONDS.
        match = _RATE.fullmatch(self.schedule_expression or "")
        if match:
            object.__setattr__(self, "schedule_period_seconds", float(_period(match)))

    def check_timeout(self, timeout_seconds: float) -> None:
        """Raise ``ConfigurationError`` when DEADLINE_MARGIN_SECONDS leaves an invocation of
        ``timeout_seconds`` no time to work (the function's timeout is known only to the
        invocation: its remaining time at the start, or ``poll --timeout``)."""
        if self.deadline_margin_seconds >= timeout_seconds:
            raise ConfigurationError(
                "invalid configuration: DEADLINE_MARGIN_SECONDS "
                f"({self.deadline_margin_seconds:g}) must be below the function's timeout "
                f"({timeout_seconds:g} s): "
                "the cycle would stop before it started"
            )

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
        problems += _environment_problems(environ)
        settings = None if problems else cls(**values)
        if settings is not None:
            problems += settings._range_problems(environ)
        if settings is None or problems:
            raise ConfigurationError("invalid configuration: " + "; ".join(problems))
        return settings

    def _range_problems(self, environ: Mapping[str, str]) -> list[str]:
        """The ranges that depend on more than one setting."""
        problems = []
        if self.deadline_margin_seconds >= self.schedule_period_seconds:
            problems.append(
                f"DEADLINE_MARGIN_SECONDS ({self.deadline_margin_seconds:g}) must be below the "
                f"schedule's period ({self.schedule_period_seconds:g} s)"
            )
        custom = environ.get("AWS_ENDPOINT_URL_LOOKOUTVISION") or environ.get("AWS_ENDPOINT_URL")
        if not custom and self.lfv_rate_per_second > SERVICE_QUOTA_PER_SECOND:
            problems.append(
                f"LFV_RATE_PER_SECOND must be at most {SERVICE_QUOTA_PER_SECOND:g}, Lookout for "
                f"Vision's quota (got {self.lfv_rate_per_second:g}; up to {MAX_RATE:g} only with "
                "a custom endpoint such as the simulator)"
            )
        return problems


_VARIABLES: dict[str, tuple[str, Callable[[str], Any]]] = {
    "table_name": ("TABLE_NAME", _table_name),
    "event_bus_name": ("EVENT_BUS_NAME", _text(1, 1600)),
    "topic_arn": ("TOPIC_ARN", _topic_arn),
    "event_source": ("EVENT_SOURCE", _event_source),
    "lfv_rate_per_second": ("LFV_RATE_PER_SECOND", _number(float, ge=MIN_RATE, le=MAX_RATE)),
    "lfv_max_attempts": ("LFV_MAX_ATTEMPTS", _number(int, ge=1, le=10)),
    "deadline_margin_seconds": ("DEADLINE_MARGIN_SECONDS", _number(float, ge=0, le=600)),
    "history_retention_days": ("HISTORY_RETENTION_DAYS", _number(int, ge=0, le=36500)),
    "active_poll_interval": ("ACTIVE_POLL_INTERVAL", _number(float, ge=0, le=300)),
    "schedule_period_seconds": (
        "SCHEDULE_PERIOD_SECONDS",
        _number(float, ge=10, le=MAX_PERIOD_SECONDS),
    ),
    "list_budget_per_cycle": ("LIST_BUDGET_PER_CYCLE", _number(int, ge=0, le=100_000)),
    "full_scan_periods": ("FULL_SCAN_PERIODS", _number(int, ge=1, le=1440)),
    "schedule_expression": ("SCHEDULE_EXPRESSION", _schedule),
    "monitor_account": ("MONITOR_ACCOUNT_ID", _account_id),
    "stack_name": ("STACK_NAME", _text(1, 128)),
}
_REQUIRED = frozenset({"table_name", "event_bus_name", "topic_arn"})
assert _REQUIRED | set(_VARIABLES) == {f.name for f in fields(Settings)}
#: Read by the SDK and Powertools themselves, checked here so a bad one is a configuration error.
_CHECKED: tuple[tuple[str, Callable[[str], Any]], ...] = (
    *((variable, _endpoint_url) for variable in ENDPOINT_VARIABLES),
    ("POWERTOOLS_LOG_LEVEL", _log_level),
)


def _environment_problems(environ: Mapping[str, str]) -> list[str]:
    problems = []
    for variable, parse in _CHECKED:
        raw = environ.get(variable, "")
        if raw:
            try:
                parse(raw)
            except ValueError as exc:
                problems.append(f"{variable} {exc}")
    return problems


@dataclass(frozen=True)
class AuditSettings:
    """Environment variables of the audit API function."""

    table_name: str
    #: The stack's own account and region (MONITOR_ACCOUNT_ID, AWS_REGION): the target whose
    #: items keep the single-account keys, what a question without account/region is about.
    home: Target | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> AuditSettings:
        """Parse ``environ``; raise ``ConfigurationError`` naming the bad variable."""
        problems = _environment_problems(environ)
        raw = environ.get("TABLE_NAME", "")
        try:
            table_name = _table_name(raw) if raw else None
        except ValueError as exc:
            problems.insert(0, f"TABLE_NAME {exc}")
        if not raw:
            problems.insert(0, "TABLE_NAME is required")
        account, region = environ.get("MONITOR_ACCOUNT_ID", ""), environ.get("AWS_REGION", "")
        home = None
        if account and region:
            try:
                home = parse_target(f"{account}:{region}", where="MONITOR_ACCOUNT_ID:AWS_REGION")
            except ConfigurationError as exc:
                problems.append(str(exc))
        if problems:
            raise ConfigurationError("invalid configuration: " + "; ".join(problems))
        return cls(table_name=str(table_name), home=home)
