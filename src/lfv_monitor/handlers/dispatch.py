"""The dispatcher's Lambda entry point (multi-target mode): each period, one message per target.

EventBridge Scheduler invokes it instead of the poller when the stack has ``Targets`` or
``OrganizationalUnitIds``; the poller then runs once per target from the FIFO queue.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from lfv_monitor import bootstrap
from lfv_monitor.domain.dispatch import Dispatcher, DispatchReport
from lfv_monitor.observability import capture_lambda_handler, logger, metrics


def scheduled_time(event: dict[str, Any]) -> datetime:
    """The schedule's ``time`` (the period it stands for); now when absent or malformed."""
    raw = event.get("time")
    if isinstance(raw, str):
        try:
            parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            logger.warning("scheduled time unreadable; using now", extra={"time": raw})
        else:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return datetime.now(UTC)


def emit_metrics(report: DispatchReport) -> None:
    """The dispatcher's health: the template's alarms read these names."""
    metrics.add_metric(name="TargetsResolved", unit=MetricUnit.Count, value=len(report.targets))
    metrics.add_metric(name="TargetsDispatched", unit=MetricUnit.Count, value=report.dispatched)
    metrics.add_metric(
        name="DispatchFailures", unit=MetricUnit.Count, value=report.dispatch_failures
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.EVENT_BRIDGE, clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
@capture_lambda_handler
def lambda_handler(
    event: dict[str, Any], context: LambdaContext, service: Dispatcher | None = None
) -> dict[str, object]:
    """Dispatch one period. Never raises for a unit or target that fails (DispatchFailures and
    its alarm report it); a bad configuration raises (the invocation fails, its alarm fires)."""
    dispatcher = service or bootstrap.dispatcher()
    report = dispatcher.dispatch(scheduled_time(event))
    emit_metrics(report)
    summary = report.as_dict()
    logger.info("dispatch finished", extra={"dispatch": summary})
    return summary
