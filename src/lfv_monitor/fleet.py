"""The poller's monitors per target (multi-target mode): one per target and member role, built
on first use and kept while the Lambda container is warm (credentials, clients, rate limiter).

Every monitor shares the home account's table, bus and topic clients (``bootstrap.Parts``); a
target's Lookout for Vision client comes from ``clients.TargetClients`` (the member role
assumed, or the function's own credentials for ``roleArn`` null, in the target's region). The
home target (the stack's own account and region) keeps the single-account table keys and event
ids; any other target's are qualified with its account and region (``table.layout``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

import boto3

from lfv_monitor.bootstrap import Monitor, Parts, default_observer
from lfv_monitor.clients import TargetClients, register_service_model, role_session_name
from lfv_monitor.config import Settings
from lfv_monitor.domain.errors import ConfigurationError
from lfv_monitor.domain.targets import Scope, Target, TargetMessage
from lfv_monitor.table import layout


@dataclass
class Fleet:
    """The monitors of one poller process, per (target, role)."""

    parts: Parts
    clients: TargetClients
    #: The stack's own account and region (None when the account is not configured: every
    #: target is then qualified).
    home: Target | None
    _monitors: dict[tuple[Target, str | None], Monitor] = field(default_factory=dict)

    def monitor(self, message: TargetMessage) -> Monitor:
        """The monitor of ``message``'s target, built on first use."""
        key = (message.target, message.role_arn)
        if key not in self._monitors:
            target = message.target
            scope = Scope.of(target, self.home)
            keys = layout.TableKeys(target.account, target.region) if scope.qualified else None
            source = self.clients.lookoutvision(message.role_arn, target.region)
            self._monitors[key] = self.parts.monitor(source, scope, keys or layout.HOME)
        return self._monitors[key]


def build_fleet(
    settings: Settings | None = None,
    *,
    session: boto3.Session | None = None,
    environ: Mapping[str, str] | None = None,
    sts_endpoint_url: str | None = None,
) -> Fleet:
    """Wire the per-target monitors; endpoints and credentials follow the SDK's configuration."""
    env = os.environ if environ is None else environ
    settings = settings or Settings.from_env(env)
    session = register_service_model(session or boto3.Session())
    if not session.region_name:
        raise ConfigurationError("invalid configuration: no AWS region: set AWS_REGION")
    if settings.monitor_account is None:
        raise ConfigurationError(
            "invalid configuration: MONITOR_ACCOUNT_ID is required for target messages "
            "(it tells the stack's own account, whose records keep the single-account keys)"
        )
    parts = Parts(settings, session, default_observer(env))
    clients = TargetClients(
        session,
        session_name=role_session_name(settings.stack_name),
        sts_endpoint_url=sts_endpoint_url,
        config=parts.retries,
    )
    return Fleet(parts, clients, Target(settings.monitor_account, session.region_name))


_fleet: Fleet | None = None


def fleet() -> Fleet:
    """The process-wide fleet, built on first use (not at import)."""
    global _fleet  # noqa: PLW0603 - one composition per warm Lambda container
    if _fleet is None:
        _fleet = build_fleet()
    return _fleet
