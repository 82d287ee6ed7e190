"""Shared test configuration.

Levels: ``tests/unit`` (pure, sockets blocked, in-memory fakes), ``tests/integration`` (real HTTP
to the simulator and moto server on 127.0.0.1 only), ``tests/e2e`` (opt-in, a deployed stack).
"""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may pick up a developer's real AWS configuration or credentials."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "LfvMonitorTests")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "lfv-monitor")
    # The sub-minute watch sleeps on the wall clock; tests that want it inject a virtual sleep.
    monkeypatch.setenv("ACTIVE_POLL_INTERVAL", "0")


# Fixture modules shared by the test levels (servers on 127.0.0.1).
pytest_plugins = [
    "tests.support.moto_server",
    "tests.support.simulator",
    "tests.support.deny_proxy",
    "tests.support.lambda_package",
    "tests.support.audit_history",
]
