"""Build ``Change`` values for tests (announced change types only)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from lfv_monitor.domain.events import event_id_for
from lfv_monitor.domain.models import Change, ChangeType, JobDescription, JobKey

OBSERVED = datetime(2026, 3, 2, 9, 21, 5, tzinfo=UTC)


def make_change(
    project: str = "widgets",
    job: str = "cam-7",
    *,
    version: int = 2,
    change_type: ChangeType = ChangeType.STATUS,
    status: str | None = "FAILED",
    previous_status: str | None = "RUNNING",
    status_message: str | None = "Compilation failed",
    previous_status_message: str | None = "Compiling",
    project_arn: str | None = "arn:aws:lookoutvision:us-east-1:123456789012:project/widgets",
    document: dict[str, Any] | None = None,
    with_description: bool = True,
    observed_at: datetime = OBSERVED,
) -> Change:
    key = JobKey(project, job)
    description = None
    if with_description:
        description = JobDescription(
            key=key,
            status=status,
            status_message=status_message,
            model_version="1",
            creation_timestamp=datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
            last_updated=observed_at,
            document=document if document is not None else {},
        )
    return Change(
        event_id=event_id_for(key, version, status, status_message),
        change_type=change_type,
        key=key,
        version=version,
        status=status,
        previous_status=previous_status,
        status_message=status_message,
        previous_status_message=previous_status_message,
        observed_at=observed_at,
        project_arn=project_arn,
        description=description,
    )


def many_changes(count: int, *, status: str = "FAILED", project: str = "widgets") -> list[Change]:
    """``count`` distinct changes (jobs job-0 .. job-<count-1>)."""
    return [
        make_change(project, f"job-{i}", status=status, status_message=f"message {i}")
        for i in range(count)
    ]
