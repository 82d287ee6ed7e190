"""The composition root: builds the real adapters once per process (reused while warm)."""

from __future__ import annotations

import math
import os
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import boto3
from botocore.config import Config

from lfv_monitor.adapters.dynamodb import DynamoDBSnapshotStore
from lfv_monitor.adapters.eventbridge import EventBridgePublisher
from lfv_monitor.adapters.lookoutvision import MAX_PAGES, LookoutVisionJobSource
from lfv_monitor.adapters.organizations import OrganizationsDirectory
from lfv_monitor.adapters.sns import SnsNotifier
from lfv_monitor.adapters.sqs import SqsTargetQueue
from lfv_monitor.clients import aws_client, lookoutvision_client, register_service_model
from lfv_monitor.config import Settings
from lfv_monitor.dispatch_config import DispatchSettings
from lfv_monitor.domain.cycle import CyclePolicy, CycleReport, PollCycle, RemainingTime
from lfv_monitor.domain.dispatch import Dispatcher, MemberRoles
from lfv_monitor.domain.errors import ConfigurationError
from lfv_monitor.domain.models import JobKey
from lfv_monitor.domain.ports import ChangePublisher


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Monitor:
    """The poll cycle with its settings: what the handler, ``poll`` and the demo run."""

    cycle: PollCycle
    settings: Settings
    source: LookoutVisionJobSource | None = None
    last_report: CycleReport | None = None

    def run(
        self, remaining: RemainingTime | None = None, *, correlation_id: str | None = None
    ) -> CycleReport:
        """One scheduled cycle (and its watch), as configured.  The source checks the same
        deadline between the pages of a listing.

        Raises ``ConfigurationError`` when DEADLINE_MARGIN_SECONDS is not below the time the
        invocation starts with (the function's timeout: only the invocation knows it).
        """
        if remaining is not None:
            self.settings.check_timeout(remaining())
        if self.source is None or remaining is None:
            return self._measured(lambda: self.cycle.run(remaining, correlation_id=correlation_id))
        margin = self.settings.deadline_margin_seconds
        self.source.out_of_time = lambda: remaining() <= margin
        try:
            return self._measured(lambda: self.cycle.run(remaining, correlation_id=correlation_id))
        finally:
            self.source.out_of_time = None

    def check(self, keys: list[JobKey], *, correlation_id: str | None = None) -> CycleReport:
        """Check the named jobs now (a CloudTrail StartModelPackagingJob event)."""
        return self._measured(lambda: self.cycle.check(keys, correlation_id=correlation_id))

    def _measured(self, call: Callable[[], CycleReport]) -> CycleReport:
        throttles_before = self.source.throttles if self.source else 0
        report = call()
        if self.source is not None:
            report.throttles = self.source.throttles - throttles_before
        self.last_report = report
        return report


def default_observer(environ: Mapping[str, str]) -> str:
    function = environ.get("AWS_LAMBDA_FUNCTION_NAME")
    return f"lambda:{function}" if function else f"cli@{socket.gethostname()}"


def build_monitor(
    settings: Settings | None = None,
    *,
    session: boto3.Session | None = None,
    environ: Mapping[str, str] | None = None,
    observer: str | None = None,
    clock: Callable[[], datetime] = utc_now,
    monotonic: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Monitor:
    """Wire the real adapters.  Endpoints and credentials follow the SDK's configuration.

    ``clock``, ``monotonic`` and ``sleep`` let a run follow a virtual clock (the demo, the
    latency benchmark); the Lambda function uses the real ones.
    """
    env = os.environ if environ is None else environ
    settings = settings or Settings.from_env(env)
    session = register_service_model(session or boto3.Session())
    if not session.region_name:  # botocore would raise NoRegionError, a traceback in poll
        raise ConfigurationError(
            "invalid configuration: no AWS region: set AWS_DEFAULT_REGION (or pass --region)"
        )
    rate = settings.lfv_rate_per_second
    retries = Config(retries={"mode": "standard", "max_attempts": settings.lfv_max_attempts})
    source = LookoutVisionJobSource(
        lookoutvision_client(session, config=retries),
        rate_per_second=settings.lfv_rate_per_second,
        # one listing takes at most what the client's rate serves in one period (an invocation
        # never outlives it), never more than the service's quota serves in 900 s
        max_pages=max(1, min(MAX_PAGES, math.ceil(rate * settings.schedule_period_seconds))),
    )
    store = DynamoDBSnapshotStore(
        settings.table_name,
        client=aws_client("dynamodb", session),
        retention_days=settings.history_retention_days,
        # An invocation never outlives one period (the function's timeout is shorter), so a
        # fresh outbox entry is its writer's for one period; then anyone may retry it.
        outbox_lease_seconds=settings.schedule_period_seconds,
    )
    publishers: list[ChangePublisher] = [
        EventBridgePublisher(
            settings.event_bus_name,
            source=settings.event_source,
            client=aws_client("events", session),
        ),
        SnsNotifier(settings.topic_arn, client=aws_client("sns", session)),
    ]
    policy = CyclePolicy(
        margin_seconds=settings.deadline_margin_seconds,
        period_seconds=settings.schedule_period_seconds,
        list_budget=settings.list_budget(),
        full_scan_periods=settings.full_scan_periods,
        watch_interval=settings.active_poll_interval,
        rate_per_second=settings.lfv_rate_per_second,
    )
    cycle = PollCycle(
        source,
        store,
        publishers,
        clock=clock,
        observer=observer or default_observer(env),
        policy=policy,
        monotonic=monotonic,
        sleep=sleep,
    )
    return Monitor(cycle=cycle, settings=settings, source=source)


_monitor: Monitor | None = None


def monitor() -> Monitor:
    """The process-wide monitor, built on first use (not at import)."""
    global _monitor  # noqa: PLW0603 - one composition per warm Lambda container
    if _monitor is None:
        _monitor = build_monitor()
    return _monitor


def build_dispatcher(
    settings: DispatchSettings | None = None,
    *,
    session: boto3.Session | None = None,
    environ: Mapping[str, str] | None = None,
) -> Dispatcher:
    """Wire the dispatcher (multi-target mode): Organizations only when units are configured."""
    env = os.environ if environ is None else environ
    settings = settings or DispatchSettings.from_env(env)
    session = session or boto3.Session()
    directory = (
        OrganizationsDirectory(aws_client("organizations", session)) if settings.units else None
    )
    return Dispatcher(
        static=settings.targets,
        units=settings.units,
        regions=settings.regions,
        directory=directory,
        queue=SqsTargetQueue(settings.queue_url, aws_client("sqs", session)),
        roles=MemberRoles(
            settings.monitor_account, settings.member_role_name, partition=settings.partition
        ),
        period_seconds=settings.schedule_period_seconds,
    )


_dispatcher: Dispatcher | None = None


def dispatcher() -> Dispatcher:
    """The process-wide dispatcher, built on first use (not at import)."""
    global _dispatcher  # noqa: PLW0603 - one composition per warm Lambda container
    if _dispatcher is None:
        _dispatcher = build_dispatcher()
    return _dispatcher
