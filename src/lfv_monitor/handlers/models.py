"""The events the poller accepts besides the schedule's.

Read with plain, defensive dictionary access: Powertools' parser models (or pydantic) would add
~45-60 ms to every cold start to read four keys of one rare event.
"""

from __future__ import annotations

from typing import Any

from lfv_monitor.domain.models import JobKey

CLOUDTRAIL_DETAIL_TYPE = "AWS API Call via CloudTrail"


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _first(mapping: dict[str, Any], *names: str) -> str | None:
    for name in names:
        value = mapping.get(name)
        if isinstance(value, str) and value:
            return value
    return None


def started_job(event: dict[str, Any]) -> JobKey | None:
    """The job a CloudTrail ``StartModelPackagingJob`` event started, or None for any other event
    (the schedule's), a call that failed, or a malformed record."""
    if event.get("detail-type") != CLOUDTRAIL_DETAIL_TYPE:
        return None
    detail = _mapping(event.get("detail"))
    if detail.get("eventName") != "StartModelPackagingJob" or detail.get("errorCode"):
        return None
    request = _mapping(detail.get("requestParameters"))
    response = _mapping(detail.get("responseElements"))
    project = _first(request, "projectName", "ProjectName")
    job = _first(response, "jobName", "JobName") or _first(request, "jobName", "JobName")
    return JobKey(project, job) if project and job else None
