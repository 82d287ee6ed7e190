"""Which target an audit question is about (issue 15): an account and a region, by default the
stack's own (the home target, whose items keep the single-account keys)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from lfv_monitor.audit.errors import InvalidQueryError
from lfv_monitor.domain.targets import Target
from lfv_monitor.table import layout

ACCOUNT_PATTERN = r"^[0-9]{12}$"
REGION_PATTERN = r"^[a-z]{2}(-[a-z]+)+-[0-9]+$"


@dataclass(frozen=True)
class Where:
    """The target a question is about: its (account, region) and the keys of its items."""

    account: str | None
    region: str | None
    keys: layout.TableKeys

    @property
    def place(self) -> tuple[str | None, str | None]:
        return self.account, self.region


def where(account: str | None, region: str | None, home: Target | None) -> Where:
    """The target ``account``/``region`` name, the stack's own (``home``) for what is not given.

    The home target's items keep the single-account keys (a table written before issue 15 is
    read as the home target's); any other target's keys are qualified with it.
    """
    if account is not None and not re.match(ACCOUNT_PATTERN, account):
        raise InvalidQueryError(f"account {account!r} is not a 12-digit AWS account id")
    if region is not None and not re.match(REGION_PATTERN, region):
        raise InvalidQueryError(f"region {region!r} is not a region name (like eu-west-1)")
    if account is None and region is None:
        return Where(home.account if home else None, home.region if home else None, layout.HOME)
    if home is None:
        # Which keys hold the named target's records depends on whether it is the stack's own:
        # guessing could answer "no history" for records that are there.
        raise InvalidQueryError(
            "account/region need the stack's own account and region, which are not known here "
            "(MONITOR_ACCOUNT_ID and AWS_REGION)"
        )
    target = Target(account or home.account, region or home.region)
    if target == home:
        return Where(target.account, target.region, layout.HOME)
    return Where(target.account, target.region, layout.TableKeys(target.account, target.region))


def in_target(at: Where) -> str:
    """`` in account A, region R`` for another target than the stack's own (else nothing)."""
    return f" in account {at.account}, region {at.region}" if at.keys.qualified else ""
