"""Configuration errors name the variable and the reason; nothing silently defaults."""

from __future__ import annotations

import pytest

from lfv_monitor.config import Settings
from lfv_monitor.domain.errors import ConfigurationError

GOOD = {
    "TABLE_NAME": "lfv-monitor-jobs",
    "EVENT_BUS_NAME": "lfv-monitor-events",
    "TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:lfv-monitor",
}


def test_defaults() -> None:
    s = Settings.from_env(GOOD)
    assert (s.event_source, s.lfv_rate_per_second, s.deadline_margin_seconds) == (
        "lfv-monitor",
        4.0,
        5.0,
    )
    assert s.schedule_period_seconds == 60 and s.history_retention_days == 0
    assert s.list_budget() == int((60 - 5) * 4 * 0.8)


@pytest.mark.parametrize("missing", sorted(GOOD))
def test_each_required_variable_is_named_when_missing(missing: str) -> None:
    env = {k: v for k, v in GOOD.items() if k != missing}
    with pytest.raises(ConfigurationError, match=f"{missing} is required"):
        Settings.from_env(env)


def test_an_empty_value_counts_as_missing() -> None:
    with pytest.raises(ConfigurationError, match="TABLE_NAME is required"):
        Settings.from_env({**GOOD, "TABLE_NAME": ""})


@pytest.mark.parametrize(
    ("variable", "value", "reason"),
    [
        ("TOPIC_ARN", "my-topic", "must be an SNS topic ARN"),
        ("LFV_RATE_PER_SECOND", "fast", "must be a number"),
        ("LFV_RATE_PER_SECOND", "0", "greater than or equal to 0.1"),
        ("DEADLINE_MARGIN_SECONDS", "-1", "greater than or equal to 0"),
        ("LFV_RATE_PER_SECOND", "nan", "finite"),
        ("HISTORY_RETENTION_DAYS", "1.5", "must be an integer"),
        ("EVENT_SOURCE", "aws.lookoutvision", "must not start with 'aws.'"),
        ("SCHEDULE_EXPRESSION", "every minute", "must be rate("),
        ("ACTIVE_POLL_INTERVAL", "999", "less than or equal to 300"),
    ],
)
def test_invalid_values_are_named_with_the_reason(variable: str, value: str, reason: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_env({**GOOD, variable: value})
    assert variable in str(caught.value) and reason in str(caught.value)


def test_all_problems_are_reported_at_once() -> None:
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_env({"LFV_RATE_PER_SECOND": "x"})
    text = str(caught.value)
    assert all(name in text for name in [*GOOD, "LFV_RATE_PER_SECOND"])


@pytest.mark.parametrize(
    ("expression", "seconds"),
    [
        ("rate(1 minute)", 60),
        ("rate(5 minutes)", 300),
        ("rate(1 hour)", 3600),
        ("cron(0/5 * * * ? *)", 60),
    ],
)
def test_the_period_follows_the_schedule_expression(expression: str, seconds: int) -> None:
    assert (
        Settings.from_env({**GOOD, "SCHEDULE_EXPRESSION": expression}).schedule_period_seconds
        == seconds
    )
