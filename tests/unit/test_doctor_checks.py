"""``lfv-monitor doctor``'s verdicts from facts (the pure half; the probes are tested over HTTP)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lfv_monitor.commands.preflight import checks
from lfv_monitor.commands.preflight.checks import StackFacts, Trail

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("selectors", "advanced", "expected"),
    [
        ([{"ReadWriteType": "All", "IncludeManagementEvents": True}], [], True),
        ([{"ReadWriteType": "ReadOnly", "IncludeManagementEvents": True}], [], False),
        ([{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": False}], [], False),
        ([], [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}], True),
        (
            [],
            [
                {
                    "FieldSelectors": [
                        {"Field": "eventCategory", "Equals": ["Management"]},
                        {"Field": "readOnly", "Equals": ["true"]},
                    ]
                }
            ],
            False,
        ),
        ([], [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]}]}], False),
    ],
)
def test_a_trail_records_management_writes_only_when_its_selectors_keep_them(
    selectors: list[dict[str, object]], advanced: list[dict[str, object]], expected: bool
) -> None:
    # Given a trail's event selectors / When judged / Then writes are recorded or not
    assert checks.records_management_writes(selectors, advanced) is expected


def test_without_a_trail_the_delay_follows_the_stack_schedule_and_rotation() -> None:
    # Given a stack polling every 2 minutes with a rotation over 15 periods, and a stopped trail
    stack = StackFacts("s", {"ScheduleExpression": "rate(2 minutes)", "FullScanPeriods": "15"})
    # When the CloudTrail check runs
    finding = checks.cloudtrail("eu-west-1", [Trail("t", False, True)], stack)
    # Then it is a problem that states the delay new jobs wait
    assert finding.status == "problem"
    assert "30 min (15 x rate(2 minutes))" in finding.detail and "create-trail" in finding.fix


def test_with_cloudtrail_discovery_off_the_trail_is_not_needed() -> None:
    stack = StackFacts("s", {"CloudTrailDiscovery": "DISABLED"})
    assert checks.cloudtrail("eu-west-1", [], stack).status == "skipped"


@pytest.mark.parametrize(("unreserved", "status"), [(113, "ok"), (112, "problem")])
def test_concurrency_headroom_keeps_lambdas_minimum_of_100(unreserved: int, status: str) -> None:
    assert checks.concurrency(unreserved, 13).status == status


def test_an_unconfirmed_email_is_a_problem_naming_the_address() -> None:
    finding = checks.email_subscriptions(["ops@example.com"], ["dev@example.com"])
    assert finding.status == "problem" and "ops@example.com" in finding.detail


@pytest.mark.parametrize(
    ("expression", "age", "status"),
    [
        ("rate(1 minute)", timedelta(minutes=7), "ok"),
        ("rate(1 minute)", timedelta(minutes=8), "problem"),
        ("rate(1 hour)", timedelta(hours=2), "ok"),
        ("cron(0 8 * * ? *)", timedelta(hours=20), "ok"),
    ],
)
def test_the_last_healthy_cycle_is_overdue_after_two_periods_and_the_metric_delay(
    expression: str, age: timedelta, status: str
) -> None:
    assert checks.last_healthy_cycle(NOW - age, NOW, expression).status == status


def test_no_healthy_cycle_at_all_is_a_problem() -> None:
    assert checks.last_healthy_cycle(None, NOW, "rate(1 minute)").status == "problem"


def test_the_exit_code_is_1_only_for_problems() -> None:
    ok = checks.Finding("a", "ok", "")
    skipped = checks.Finding("b", "skipped", "")
    assert checks.exit_code([ok, skipped]) == 0
    assert checks.exit_code([ok, checks.Finding("c", "problem", "", "fix")]) == 1
