"""Targets (issue 15): parsing the configured list, resolving organizational units."""

from __future__ import annotations

import pytest

from lfv_monitor.domain.errors import AccessDeniedError, ConfigurationError
from lfv_monitor.domain.targets import (
    Target,
    parse_regions,
    parse_targets,
    parse_units,
    resolve_targets,
)
from tests.fakes import FakeOrganization

ROOT_OU = "ou-ab12-11111111"
NESTED_OU = "ou-ab12-22222222"
OTHER_OU = "ou-ab12-33333333"


def test_targets_parse_in_order_without_whitespace_blanks_or_duplicates() -> None:
    text = " 111111111111:eu-west-1 ,222222222222:us-east-1,, 111111111111:eu-west-1 "
    assert parse_targets(text) == (
        Target("111111111111", "eu-west-1"),
        Target("222222222222", "us-east-1"),
    )
    assert parse_targets("111111111111:eu-west-1")[0].id == "111111111111:eu-west-1"


def test_no_targets_is_an_empty_list() -> None:
    assert parse_targets("") == ()
    assert parse_targets(" , ") == ()


@pytest.mark.parametrize(
    "bad",
    ["11111111111:eu-west-1", "111111111111", "111111111111:", "111111111111:Europe", "x:y"],
)
def test_a_bad_target_is_a_configuration_error_naming_it(bad: str) -> None:
    with pytest.raises(ConfigurationError) as error:
        parse_targets(f"222222222222:us-east-1,{bad}")
    assert repr(bad) in str(error.value)


def test_regions_and_units_are_checked_and_named() -> None:
    assert parse_regions("eu-west-1, us-gov-west-1,eu-west-1") == ("eu-west-1", "us-gov-west-1")
    assert parse_units(f"{ROOT_OU}, r-ab12") == (ROOT_OU, "r-ab12")
    with pytest.raises(ConfigurationError, match="'europe'"):
        parse_regions("eu-west-1,europe")
    with pytest.raises(ConfigurationError, match="'ou-x'"):
        parse_units("ou-x")


def test_units_resolve_to_their_active_accounts_nested_units_included_in_every_region() -> None:
    # Given an OU with one active and one suspended account, and a nested OU with another
    organization = FakeOrganization(
        units={ROOT_OU: [NESTED_OU]},
        accounts={
            ROOT_OU: [("111111111111", "ACTIVE"), ("999999999999", "SUSPENDED")],
            NESTED_OU: [("222222222222", "ACTIVE")],
        },
    )
    static = parse_targets("333333333333:ap-southeast-2,111111111111:eu-west-1")
    # When the targets are resolved for two regions
    resolution = resolve_targets(static, [ROOT_OU], ["eu-west-1", "us-east-1"], organization)
    # Then the static targets come first, then each active account in each region, each once
    assert [t.id for t in resolution.targets] == [
        "333333333333:ap-southeast-2",
        "111111111111:eu-west-1",
        "111111111111:us-east-1",
        "222222222222:eu-west-1",
        "222222222222:us-east-1",
    ]
    assert resolution.failures == []


def test_a_unit_that_cannot_be_read_is_named_and_the_others_still_resolve() -> None:
    organization = FakeOrganization(
        accounts={OTHER_OU: [("222222222222", "ACTIVE")]},
        errors={ROOT_OU: AccessDeniedError("ListAccountsForParent: AccessDeniedException")},
    )
    static = parse_targets("111111111111:eu-west-1")
    resolution = resolve_targets(static, [ROOT_OU, OTHER_OU], ["eu-west-1"], organization)
    assert [t.id for t in resolution.targets] == [
        "111111111111:eu-west-1",
        "222222222222:eu-west-1",
    ]
    assert len(resolution.failures) == 1
    assert ROOT_OU in resolution.failures[0]
    assert "AccessDenied" in resolution.failures[0]


def test_a_unit_listed_twice_or_reached_twice_is_read_once() -> None:
    organization = FakeOrganization(
        units={ROOT_OU: [NESTED_OU]}, accounts={NESTED_OU: [("222222222222", "ACTIVE")]}
    )
    resolution = resolve_targets([], [ROOT_OU, NESTED_OU], ["eu-west-1"], organization)
    assert [t.id for t in resolution.targets] == ["222222222222:eu-west-1"]
    assert organization.calls.count(f"accounts {NESTED_OU}") == 1
