"""Which target an audit question is about (issue 15): the stack's own by default."""

from __future__ import annotations

import pytest

from lfv_monitor.audit import InvalidQueryError
from lfv_monitor.audit.scope import where
from lfv_monitor.domain.targets import Target
from lfv_monitor.table import layout

HOME = Target("123456789012", "us-east-1")


def test_the_stack_own_target_named_or_not_reads_the_single_account_keys() -> None:
    for account, region in ((None, None), (HOME.account, HOME.region), (HOME.account, None)):
        at = where(account, region, HOME)
        assert at.keys == layout.HOME and at.place == (HOME.account, HOME.region)


def test_another_target_reads_its_qualified_keys_completing_what_is_not_given() -> None:
    at = where(None, "eu-west-1", HOME)
    assert at.place == (HOME.account, "eu-west-1")
    assert at.keys == layout.TableKeys(HOME.account, "eu-west-1")


@pytest.mark.parametrize(
    ("account", "region", "home", "reason"),
    [
        ("12345", None, HOME, "account '12345' is not a 12-digit AWS account id"),
        (None, "moon", HOME, "region 'moon' is not a region name"),
        ("111111111111", "eu-west-1", None, "need the stack's own account and region"),
    ],
)
def test_a_target_that_cannot_be_told_is_refused_naming_why(
    account: str | None, region: str | None, home: Target | None, reason: str
) -> None:
    with pytest.raises(InvalidQueryError, match=reason):
        where(account, region, home)
