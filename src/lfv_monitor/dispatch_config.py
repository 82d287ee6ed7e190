"""The dispatcher's configuration (multi-target mode): one validated model, parsed once, every
bad variable named. Its own module: the poller never reads it (config.py is the poller's and
the audit API's)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from lfv_monitor.config import _RATE, _number, _period, _schedule, _text
from lfv_monitor.domain.errors import ConfigurationError
from lfv_monitor.domain.targets import Target, parse_regions, parse_targets, parse_units


def _period_of(expression: str | None, default: float) -> float:
    """``rate(N unit)`` sets the period; a cron expression (or none) keeps ``default``."""
    match = _RATE.fullmatch(expression or "")
    return float(_period(match)) if match else default


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
        period = _period_of(read("SCHEDULE_EXPRESSION", _schedule), seconds)
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
