"""The poller's metrics, all from one cycle's report (namespace LfvMonitor)."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit

from lfv_monitor.config import Settings
from lfv_monitor.domain.cycle import CycleReport
from lfv_monitor.observability import metrics


def emit_metrics(report: CycleReport, settings: Settings | None = None) -> None:
    """One metric per outcome; the template's alarms and dashboard read these names.

    With ``settings`` (a cycle ran), also ``OldestCheckOverduePeriods``: the oldest check's
    age in schedule periods beyond a full scan (FULL_SCAN_PERIODS), the bound
    ``OldestCheckAgeAlarm`` computes with metric math, which its multi-target twin (a Metrics
    Insights alarm, per target) cannot.
    """
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
    if settings is not None:
        overdue = (
            report.oldest_check_age_seconds / settings.schedule_period_seconds
            - settings.full_scan_periods
        )
        add(name="OldestCheckOverduePeriods", unit=MetricUnit.Count, value=overdue)
