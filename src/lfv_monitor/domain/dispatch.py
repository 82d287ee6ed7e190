"""The dispatcher's period: resolve the targets, queue one poll message per target.

Pure: the organization and the queue are ports. Nothing here raises for a target or a unit
that fails: each failure is named in the report (the handler turns it into ``DispatchFailures``
and a log line), and every target that could be resolved is still dispatched.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from lfv_monitor.domain.ports import OrganizationDirectory, TargetQueue
from lfv_monitor.domain.targets import Target, TargetMessage, resolve_targets

logger = logging.getLogger(__name__)


def period_number(at: datetime, period_seconds: float) -> int:
    """The schedule period ``at`` falls in (periods counted from the Unix epoch)."""
    return int(at.timestamp() // period_seconds)


@dataclass(frozen=True)
class MemberRoles:
    """How a target's account is reached: the monitor's own account directly, any other by
    assuming ``arn:<partition>:iam::<account>:role/<role_name>``."""

    monitor_account: str
    role_name: str
    partition: str = "aws"

    def role_arn(self, account: str) -> str | None:
        if account == self.monitor_account:
            return None
        return f"arn:{self.partition}:iam::{account}:role/{self.role_name}"


@dataclass
class DispatchReport:
    """One dispatch: how many targets were resolved and queued, and what failed (named)."""

    period: int
    targets: tuple[Target, ...] = ()
    dispatched: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def dispatch_failures(self) -> int:
        return len(self.failures)

    def as_dict(self) -> dict[str, object]:
        return {
            "period": self.period,
            "targets": len(self.targets),
            "dispatched": self.dispatched,
            "failures": list(self.failures),
        }


@dataclass
class Dispatcher:
    """Each period: the static targets plus the active accounts of the units in each region,
    one message each on the queue (deduplicated per target and period)."""

    static: Sequence[Target]
    units: Sequence[str]
    regions: Sequence[str]
    directory: OrganizationDirectory | None
    queue: TargetQueue
    roles: MemberRoles
    period_seconds: float

    def dispatch(self, at: datetime) -> DispatchReport:
        period = period_number(at, self.period_seconds)
        resolution = resolve_targets(self.static, self.units, self.regions, self.directory)
        report = DispatchReport(period, resolution.targets, failures=list(resolution.failures))
        if not resolution.targets:
            # Watching nothing is the quiet failure this monitor must never have.
            report.failures.append("no targets resolved: nothing is watched this period")
            return report
        messages = [
            TargetMessage(target, period, self.roles.role_arn(target.account))
            for target in resolution.targets
        ]
        sent = self.queue.send(messages)
        report.dispatched = sum(1 for m in messages if m.deduplication_id in sent)
        report.failures.extend(
            f"{m.target.id}: not queued" for m in messages if m.deduplication_id not in sent
        )
        for failure in report.failures:
            logger.warning("dispatch failure", extra={"failure": failure, "period": period})
        return report
