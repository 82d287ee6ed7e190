"""What the monitor watches: targets (an AWS account and a region) and how they are resolved.

A static list (the template's ``Targets``) plus, optionally, the active accounts of AWS
Organizations organizational units (nested units included) in each of ``TargetRegions``. Pure:
the organization is read through the ``OrganizationDirectory`` port.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lfv_monitor.domain.errors import ConfigurationError, MonitorError

if TYPE_CHECKING:
    from lfv_monitor.domain.ports import OrganizationDirectory

_ACCOUNT = re.compile(r"[0-9]{12}")
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]+")
_UNIT = re.compile(r"(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32})")


@dataclass(frozen=True, order=True)
class Target:
    """One AWS account and one region: what one poll cycle watches."""

    account: str
    region: str

    @property
    def id(self) -> str:
        """``<account>:<region>``: the message group, the metrics' ``target`` dimension."""
        return f"{self.account}:{self.region}"


@dataclass(frozen=True)
class Scope:
    """Where one cycle's jobs are: their account and region, and whether that is another target
    than the stack's own (``qualified``: its event ids and table keys then name the target).

    ``account`` is None when the monitor does not know its own account (``lfv-monitor poll``
    without MONITOR_ACCOUNT_ID): the home target's records do not need it.
    """

    account: str | None = None
    region: str | None = None
    qualified: bool = False

    @classmethod
    def of(cls, target: Target, home: Target | None) -> Scope:
        """``target``'s scope, the home target's (unqualified) when it is ``home``."""
        return cls(target.account, target.region, qualified=target != home)

    @property
    def target(self) -> Target | None:
        """The target, when both its account and region are known."""
        if self.account is None or self.region is None:
            return None
        return Target(self.account, self.region)

    @property
    def id_target(self) -> Target | None:
        """What event ids are qualified with: the target, or None for the home target."""
        return self.target if self.qualified else None


@dataclass(frozen=True)
class TargetMessage:
    """One period's poll of one target, as the dispatcher queues it for the poller.

    ``role_arn`` is the member role to assume, None for the monitor's own account.
    """

    target: Target
    period: int
    role_arn: str | None

    @property
    def group_id(self) -> str:
        """The FIFO message group: one poll per target at a time."""
        return self.target.id

    @property
    def deduplication_id(self) -> str:
        """``<target id>#<period>``: a retried dispatch of the same period is sent once."""
        return f"{self.target.id}#{self.period}"

    def body(self) -> dict[str, Any]:
        """The message body (docs/architecture.md, "Many accounts and regions")."""
        return {
            "target": {"account": self.target.account, "region": self.target.region},
            "period": self.period,
            "roleArn": self.role_arn,
        }


_ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::[0-9]{12}:role/[\w+=,.@/-]{1,512}")


def parse_target_message(body: object, *, where: str = "target message") -> TargetMessage:
    """A target queue message's body (the dispatcher's ``TargetMessage.body()``, as JSON text or
    already decoded); ``ConfigurationError`` naming what is wrong and where otherwise."""
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError as exc:
            raise ConfigurationError(f"{where}: the body is not JSON ({exc})") from None
    if not isinstance(body, dict):
        raise ConfigurationError(f"{where}: the body is not a JSON object")
    target = body.get("target")
    if not isinstance(target, dict) or not all(
        isinstance(target.get(k), str) for k in ("account", "region")
    ):
        raise ConfigurationError(f'{where}: target must be {{"account": ..., "region": ...}}')
    parsed = parse_target(f"{target['account']}:{target['region']}", where=f"{where}: target")
    period = body.get("period")
    if not isinstance(period, int) or isinstance(period, bool) or period < 0:
        raise ConfigurationError(f"{where}: period must be a whole number, got {period!r:.40}")
    role = body.get("roleArn")
    if role is not None and not (isinstance(role, str) and _ROLE_ARN.fullmatch(role)):
        raise ConfigurationError(
            f"{where}: roleArn must be an IAM role ARN or null, got {role!r:.80}"
        )
    return TargetMessage(parsed, period, role)


def parse_target(entry: str, *, where: str = "target") -> Target:
    """``"<account>:<region>"`` as a Target; ``ConfigurationError`` naming the entry otherwise."""
    account, sep, region = entry.strip().partition(":")
    account, region = account.strip(), region.strip()
    if not sep or not _ACCOUNT.fullmatch(account) or not _REGION.fullmatch(region):
        raise ConfigurationError(
            f"{where} {entry.strip()!r} is not <12-digit account>:<region> "
            "(for example 123456789012:eu-west-1)"
        )
    return Target(account, region)


def parse_targets(text: str, *, where: str = "target") -> tuple[Target, ...]:
    """Comma-separated ``<account>:<region>`` entries, in order, duplicates removed, blanks and
    whitespace ignored. A bad entry is a ``ConfigurationError`` naming it."""
    targets: dict[Target, None] = {}
    for entry in text.split(","):
        if entry.strip():
            targets[parse_target(entry, where=where)] = None
    return tuple(targets)


def parse_regions(text: str, *, where: str = "region") -> tuple[str, ...]:
    """Comma-separated region names (duplicates removed); a bad one names itself."""
    regions: dict[str, None] = {}
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        if not _REGION.fullmatch(entry):
            raise ConfigurationError(f"{where} {entry!r} is not a region name (like eu-west-1)")
        regions[entry] = None
    return tuple(regions)


def parse_units(text: str, *, where: str = "organizational unit") -> tuple[str, ...]:
    """Comma-separated organizational unit ids (``ou-...``) or a root id (``r-...``)."""
    units: dict[str, None] = {}
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        if not _UNIT.fullmatch(entry):
            raise ConfigurationError(
                f"{where} {entry!r} is not an organizational unit id (ou-...) or a root id (r-...)"
            )
        units[entry] = None
    return tuple(units)


@dataclass
class Resolution:
    """The targets of one period, and the units that could not be read (named, with why)."""

    targets: tuple[Target, ...]
    failures: list[str] = field(default_factory=list)


def resolve_targets(
    static: Sequence[Target],
    units: Sequence[str],
    regions: Sequence[str],
    directory: OrganizationDirectory | None,
) -> Resolution:
    """The static targets, then every active account under ``units`` (nested units too) in each
    of ``regions``; each target once. A unit that cannot be read is reported in ``failures``
    and the rest are still resolved: one unreadable unit never hides the other targets."""
    found: dict[Target, None] = dict.fromkeys(static)
    failures: list[str] = []
    seen: set[str] = set()
    for unit in units:
        if directory is None:
            failures.append(f"{unit}: no organization directory configured")
            continue
        try:
            accounts = _accounts_under(unit, directory, seen)
        except MonitorError as error:
            failures.append(f"{unit}: {error}")
            continue
        for account in accounts:
            for region in regions:
                found.setdefault(Target(account, region), None)
    return Resolution(tuple(found), failures)


def _accounts_under(root: str, directory: OrganizationDirectory, seen: set[str]) -> list[str]:
    """Active accounts of ``root`` and of every unit below it not yet ``seen``, breadth first."""
    accounts: dict[str, None] = {}
    pending: list[str] = [root]
    while pending:
        unit = pending.pop(0)
        if unit in seen:
            continue
        seen.add(unit)
        accounts.update(dict.fromkeys(directory.active_accounts(unit)))
        pending.extend(directory.child_units(unit))
    return list(accounts)
