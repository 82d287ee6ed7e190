"""The poller's Lambda entry point: check config, run one cycle, emit metrics.

Two events invoke it: the schedule (a poll cycle) and, where the account has a CloudTrail trail,
the ``StartModelPackagingJob`` API-call event on the default bus (the new job is checked at once).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from lfv_monitor import bootstrap
from lfv_monitor.domain.cycle import CycleReport
from lfv_monitor.domain.errors import ConfigurationError
from lfv_monitor.handlers.models import CLOUDTRAIL_DETAIL_TYPE, started_job
from lfv_monitor.observability import capture_lambda_handler, logger, metrics


def emit_metrics(report: CycleReport) -> None:
    """One metric per outcome; the template's alarms and dashboard read these names."""
    add = metrics.add_metric
    add(name="CycleSucceeded", unit=MetricUnit.Count, value=1 if report.succeeded else 0)
    add(name="ServiceUnreachable", unit=MetricUnit.Count, value=int(report.unreachable))
    add(name="StoreFailures", unit=MetricUnit.Count, value=int(report.store_failed))
    add(name="JobsSeen", unit=MetricUnit.Count, value=report.jobs_seen)
    add(name="JobsDescribed", unit=MetricUnit.Count, value=report.jobs_described)
    add(name="Changes", unit=MetricUnit.Count, value=len(report.announced))
    add(name="EventsPublished", unit=MetricUnit.Count, value=report.delivered["events"])
    add(name="NotificationsPublished", unit=MetricUnit.Count, value=report.delivered["sns"])
    add(name="PublishFailures", unit=MetricUnit.Count, value=sum(report.publish_failures.values()))
    add(name="SourceErrors", unit=MetricUnit.Count, value=sum(report.errors.values()))
    add(name="Throttles", unit=MetricUnit.Count, value=report.throttles)
    add(name="LostRaces", unit=MetricUnit.Count, value=report.lost_races)
    add(name="DeadlineReached", unit=MetricUnit.Count, value=int(report.deadline_reached))
    add(name="CycleDuration", unit=MetricUnit.Seconds, value=report.duration_seconds)
    add(name="Coverage", unit=MetricUnit.Percent, value=report.coverage_percent)
    add(name="ProjectFailureStreak", unit=MetricUnit.Count, value=report.project_failure_streak)
    add(name="PoisonItems", unit=MetricUnit.Count, value=report.poison_items)
    add(name="Backlog", unit=MetricUnit.Count, value=report.backlog)
    add(
        name="OldestCheckAgeSeconds", unit=MetricUnit.Seconds, value=report.oldest_check_age_seconds
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.EVENT_BRIDGE, clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
@capture_lambda_handler
def lambda_handler(
    event: dict[str, Any], context: LambdaContext, service: bootstrap.Monitor | None = None
) -> dict[str, object]:
    """Run one poll cycle.  ``service`` lets tests and the CLI pass their own monitor.

    Never raises for an unreachable service: a retried invocation would only make a retry
    storm; the ``CycleSucceeded`` metric and its alarm report it instead.
    """
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
    emit_metrics(report)
    summary = report.as_dict()
    if report.succeeded:
        logger.info("cycle finished", extra={"cycle": summary})
    else:
        logger.warning("cycle not healthy", extra={"reason": report.reason(), "cycle": summary})
    return summary
