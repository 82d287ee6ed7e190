"""Every setting has a range the validator enforces, naming the variable (issue 12, point 7).

Each case of issue 12's "Why" is listed in docs/reliability.md with what the user sees.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from lfv_monitor.bootstrap import Monitor
from lfv_monitor.cli import main
from lfv_monitor.config import AuditSettings, Settings
from lfv_monitor.domain.cycle import PollCycle
from lfv_monitor.domain.errors import ConfigurationError
from tests.fakes import FakeClock, FakeJobSource, InMemorySnapshotStore

GOOD = {
    "TABLE_NAME": "lfv-monitor",
    "EVENT_BUS_NAME": "lfv-bus",
    "TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:lfv-topic",
}
#: Issue 12's cases and a few neighbours: (variable, value, what the message says).
OUT_OF_RANGE = [
    ("HISTORY_RETENTION_DAYS", "3000000", "less than or equal to 36500"),
    ("SCHEDULE_EXPRESSION", "rate(99999999 days)", "a period of at most 1 day"),
    ("SCHEDULE_EXPRESSION", "rate(9999999999 minutes)", "must be rate("),
    ("SCHEDULE_EXPRESSION", "cron(nonsense)", "cron(<6 fields>)"),
    ("LFV_RATE_PER_SECOND", "0.001", "greater than or equal to 0.1"),
    ("LFV_RATE_PER_SECOND", "10", "at most 5, Lookout for Vision's quota"),
    ("DEADLINE_MARGIN_SECONDS", "60", "below the schedule's period (60 s)"),
    ("LIST_BUDGET_PER_CYCLE", "99999999", "less than or equal to 100000"),
    ("SCHEDULE_PERIOD_SECONDS", "1e9", "less than or equal to 86400"),
    ("TABLE_NAME", "my table!", "of A-Z a-z 0-9 _ . -"),
    ("POWERTOOLS_LOG_LEVEL", "LOUD", "must be one of DEBUG, INFO, WARNING"),
    ("AWS_ENDPOINT_URL", "not-a-url", "must be an http(s):// URL"),
    ("AWS_ENDPOINT_URL_LOOKOUTVISION", "http://127.0.0.1:99999", "a port of 0-65535"),
    ("AWS_ENDPOINT_URL_DYNAMODB", "ftp://127.0.0.1", "must be an http(s):// URL"),
]


@pytest.mark.parametrize(("variable", "value", "reason"), OUT_OF_RANGE)
def test_a_setting_out_of_its_range_is_named(variable: str, value: str, reason: str) -> None:
    # Given one setting outside its documented range
    # When the configuration is parsed
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_env({**GOOD, variable: value})
    # Then the error names the variable and the range
    assert variable in str(caught.value) and reason in str(caught.value)


@pytest.mark.parametrize(("variable", "value", "reason"), OUT_OF_RANGE)
def test_poll_exits_2_on_a_setting_out_of_range(
    variable: str,
    value: str,
    reason: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given the environment of `lfv-monitor poll` with one setting out of range
    for name, good in {**GOOD, "POWERTOOLS_METRICS_DISABLED": "true"}.items():
        monkeypatch.setenv(name, good)
    monkeypatch.setenv(variable, value)
    # When poll runs, Then it exits 2 with one line naming the variable (no traceback)
    assert main(["poll"]) == 2
    err = capsys.readouterr().err
    assert variable in err and reason in err and "Traceback" not in err


def test_a_rate_above_the_quota_is_allowed_against_a_custom_endpoint() -> None:
    # Given a simulator, whose quota is its own, as the Lookout for Vision endpoint
    env = {**GOOD, "AWS_ENDPOINT_URL_LOOKOUTVISION": "http://127.0.0.1:4510"}
    # Then a client rate of 50 is accepted, and 101 is not
    assert Settings.from_env({**env, "LFV_RATE_PER_SECOND": "50"}).lfv_rate_per_second == 50
    with pytest.raises(ConfigurationError, match="less than or equal to 100"):
        Settings.from_env({**env, "LFV_RATE_PER_SECOND": "101"})


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:4566", "https://lookoutvision.eu-west-1.amazonaws.com", "http://[::1]:80"],
)
def test_good_endpoint_urls_are_accepted(url: str) -> None:
    assert Settings.from_env({**GOOD, "AWS_ENDPOINT_URL": url}).table_name == "lfv-monitor"


def test_the_ranges_hold_at_their_edges() -> None:
    settings = Settings.from_env(
        {
            **GOOD,
            "HISTORY_RETENTION_DAYS": "36500",
            "SCHEDULE_EXPRESSION": "rate(1 day)",
            "LFV_RATE_PER_SECOND": "0.1",
            "DEADLINE_MARGIN_SECONDS": "600",
            "POWERTOOLS_LOG_LEVEL": "debug",
        }
    )
    assert settings.schedule_period_seconds == 86400 and settings.lfv_rate_per_second == 0.1


def test_a_margin_at_or_above_the_timeout_is_refused_by_poll(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a margin of 30 s and a poll whose invocation lasts 30 s
    for name, good in {**GOOD, "POWERTOOLS_METRICS_DISABLED": "true"}.items():
        monkeypatch.setenv(name, good)
    monkeypatch.setenv("DEADLINE_MARGIN_SECONDS", "30")
    # When poll runs, Then it exits 2 naming the margin and the timeout
    assert main(["poll", "--timeout", "30"]) == 2
    err = capsys.readouterr().err
    assert "DEADLINE_MARGIN_SECONDS (30) must be below the function's timeout (30 s)" in err


def test_a_margin_at_or_above_the_invocations_time_is_a_configuration_error() -> None:
    # Given a monitor with a 5 s margin, invoked with 5 s left (a 5 s function timeout)
    source, store = FakeJobSource(), InMemorySnapshotStore()
    monitor = Monitor(
        cycle=PollCycle(source, store, [], clock=FakeClock()),
        settings=Settings.from_env(GOOD),
    )
    # When it runs, Then it refuses with the variable named, before touching anything
    with pytest.raises(ConfigurationError, match="DEADLINE_MARGIN_SECONDS"):
        monitor.run(lambda: 5.0)
    assert not store.is_initialized()


def test_the_audit_function_checks_the_log_level_and_endpoints() -> None:
    with pytest.raises(ConfigurationError) as caught:
        AuditSettings.from_env({"TABLE_NAME": "t", "POWERTOOLS_LOG_LEVEL": "LOUD"})
    assert "TABLE_NAME" in str(caught.value) and "POWERTOOLS_LOG_LEVEL" in str(caught.value)


def test_a_bad_log_level_does_not_break_the_handlers_import() -> None:
    # Given a log level that is no level (Powertools' Logger raises ValueError for it)
    env = {**os.environ, "POWERTOOLS_LOG_LEVEL": "LOUD"}
    # When a fresh process imports the handler (as Lambda does at init)
    done = subprocess.run(
        [sys.executable, "-c", "import lfv_monitor.handlers.poll"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    # Then the import succeeds: the configuration check, not a traceback, reports the variable
    assert done.returncode == 0, done.stderr


def test_poll_without_a_region_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a valid configuration but no AWS region anywhere
    for name, good in {**GOOD, "POWERTOOLS_METRICS_DISABLED": "true"}.items():
        monkeypatch.setenv(name, good)
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.delenv("AWS_REGION")
    # When poll runs, Then it says so and exits 2 (botocore's NoRegionError was a traceback)
    assert main(["poll"]) == 2
    assert "no AWS region" in capsys.readouterr().err
