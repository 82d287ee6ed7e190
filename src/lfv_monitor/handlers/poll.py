"""The poller's Lambda entry point: check config, run one cycle, emit metrics.

Three events invoke it: the schedule (a poll cycle of the stack's own account and region),
where the account has a CloudTrail trail the ``StartModelPackagingJob`` API-call event on the
default bus (the new job is checked at once), and in multi-target mode the target queue's SQS
event (one cycle of the target its message names; its metrics carry the ``target`` dimension).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from lfv_monitor import bootstrap
from lfv_monitor.domain.cycle import CycleReport
from lfv_monitor.domain.errors import ConfigurationError
from lfv_monitor.fleet import Fleet
from lfv_monitor.handlers.cycle_metrics import emit_metrics
from lfv_monitor.handlers.models import CLOUDTRAIL_DETAIL_TYPE, started_job
from lfv_monitor.handlers.targets import is_target_event, poll_targets
from lfv_monitor.observability import capture_lambda_handler, logger, metrics


@logger.inject_lambda_context(correlation_id_path=correlation_paths.EVENT_BRIDGE, clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
@capture_lambda_handler
def lambda_handler(
    event: dict[str, Any],
    context: LambdaContext,
    service: bootstrap.Monitor | None = None,
    targets: Fleet | None = None,
) -> dict[str, object]:
    """Run one poll cycle.  ``service`` (a monitor) and ``targets`` (the per-target monitors)
    let tests, the CLI and the demo pass their own.

    Never raises for an unreachable, denied or throttled service: a retried invocation would
    only make a retry storm (and, from the target queue, send the message to its DLQ); the
    ``CycleSucceeded`` metric and its alarm report it instead.
    """
    if is_target_event(event):
        return poll_targets(event, context, targets)
    try:
        monitor = service or bootstrap.monitor()
    except ConfigurationError as exc:
        # No cycle can run: say so in the metrics (CycleSucceeded 0, alarmed) and the log, once.
        report = CycleReport(started_at=datetime.now(UTC), config_error=str(exc))
        logger.error("invalid configuration; no cycle ran", extra={"reason": str(exc)})
        emit_metrics(report)
        return report.as_dict()
    correlation_id = logger.get_correlation_id()
    if event.get("detail-type") == CLOUDTRAIL_DETAIL_TYPE:
        key = started_job(event)
        logger.info("job started (CloudTrail)", extra={"job": str(key) if key else None})
        report = monitor.check([key] if key else [], correlation_id=correlation_id)
    else:
        report = monitor.run(
            lambda: context.get_remaining_time_in_millis() / 1000, correlation_id=correlation_id
        )
    emit_metrics(report, monitor.settings)
    summary = report.as_dict()
    if report.succeeded:
        logger.info("cycle finished", extra={"cycle": summary})
    else:
        logger.warning("cycle not healthy", extra={"reason": report.reason(), "cycle": summary})
    return summary
