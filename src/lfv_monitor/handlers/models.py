"""The events the poller accepts, parsed with Powertools' parser models."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import BaseModel, ConfigDict, ValidationError

from lfv_monitor.domain.models import JobKey

CLOUDTRAIL_DETAIL_TYPE = "AWS API Call via CloudTrail"


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore")


class StartModelPackagingJobCall(_Loose):
    """The part of CloudTrail's record of ``StartModelPackagingJob`` that names the job."""

    eventName: str
    errorCode: str | None = None
    requestParameters: dict[str, Any] | None = None
    responseElements: dict[str, Any] | None = None


class CloudTrailEvent(EventBridgeModel):
    detail: StartModelPackagingJobCall


def _first(mapping: dict[str, Any] | None, *names: str) -> str | None:
    for name in names:
        value = (mapping or {}).get(name)
        if isinstance(value, str) and value:
            return value
    return None


def started_job(event: dict[str, Any]) -> JobKey | None:
    """The job a CloudTrail ``StartModelPackagingJob`` event started, or None for any other event
    (the schedule's) or a call that failed."""
    if event.get("detail-type") != CLOUDTRAIL_DETAIL_TYPE:
        return None
    try:
        call = CloudTrailEvent.model_validate(event).detail
    except ValidationError:
        return None
    if call.eventName != "StartModelPackagingJob" or call.errorCode:
        return None
    project = _first(call.requestParameters, "projectName", "ProjectName")
    job = _first(call.responseElements, "jobName", "JobName") or _first(
        call.requestParameters, "jobName", "JobName"
    )
    return JobKey(project, job) if project and job else None
