"""A job is project, name and CreationTimestamp: change detection across re-creation (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lfv_monitor.domain.changes import RECREATED_REASON, detect_changes
from lfv_monitor.domain.models import ChangeType, JobDescription, JobKey, StoredJob

T0 = datetime(2026, 11, 1, tzinfo=UTC)
KEY = JobKey("widgets", "cam-7")
OLD, NEW = T0 - timedelta(days=1), T0


def stored(status: str, created: datetime | None = OLD, *, removed: bool = False) -> StoredJob:
    return StoredJob(KEY, status, "m", 4, created=created, removed=removed)


def seen(status: str, created: datetime | None) -> JobDescription:
    return JobDescription(KEY, status, "m", creation_timestamp=created)


def kinds(job: StoredJob, description: JobDescription) -> list[tuple[ChangeType, int, object]]:
    changes = detect_changes(job, description, observed_at=T0, baseline=False)
    return [(c.change_type, c.version, c.created) for c in changes]


def test_a_job_in_progress_recreated_is_removed_then_discovered_in_order() -> None:
    changes = detect_changes(
        stored("RUNNING"), seen("RUNNING", NEW), observed_at=T0, baseline=False
    )
    assert [(c.change_type, c.version, c.created) for c in changes] == [
        (ChangeType.REMOVED, 5, OLD),
        (ChangeType.DISCOVERED, 6, NEW),
    ]
    assert changes[0].status_message == RECREATED_REASON
    assert changes[1].previous_status is None
    assert len({c.event_id for c in changes}) == 2


def test_a_finished_job_recreated_is_only_discovered() -> None:
    assert kinds(stored("SUCCEEDED"), seen("SUCCEEDED", NEW)) == [(ChangeType.DISCOVERED, 5, NEW)]


def test_the_same_incarnation_or_an_unknown_one_is_compared_as_before() -> None:
    assert kinds(stored("RUNNING"), seen("RUNNING", OLD)) == []
    assert kinds(stored("RUNNING", None), seen("RUNNING", NEW)) == []  # written before it was kept
    assert kinds(stored("RUNNING"), seen("RUNNING", None)) == []
    assert kinds(stored("RUNNING"), seen("FAILED", OLD)) == [(ChangeType.STATUS, 5, OLD)]


def test_a_removed_job_coming_back_is_discovered_once() -> None:
    gone = stored("REMOVED", removed=True)
    assert kinds(gone, seen("RUNNING", NEW)) == [(ChangeType.DISCOVERED, 5, NEW)]
