"""What the monitor watches: targets (an AWS account and a region) and how they are resolved.

A static list (the template's ``Targets``) plus, optionally, the active accounts of AWS
Organizations organizational units (nested units included) in each of ``TargetRegions``. Pure:
the organization is read through the ``OrganizationDirectory`` port.
"""

from __future__ import annotations

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
