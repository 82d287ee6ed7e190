"""Every key of the table, spelled once (design: docs/architecture.md, "Table design").

Writer and reader both build keys here: ``key_time`` is the one spelling of an instant in a
sort key (ISO-8601, UTC, microseconds, year zero-padded so keys sort like instants).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from lfv_monitor.domain.models import JobKey

STATE_SK = "STATE"
HISTORY_PREFIX = "V#"
OUTBOX_PK = "OUTBOX"
META_PK = "META"
BASELINE_SK = "BASELINE"
BASELINE_CURSOR_SK = "BASELINE_CURSOR"
#: The scan's fair order, while a cycle left checks for the next (META/ROTATION).
ROTATION_SK = "ROTATION"
#: Per-project records (a pending first scan, a failure streak): pk PROJECT, sk the name.
PROJECT_PK = "PROJECT"
ACTIVE_PK = "ACTIVE"
#: Malformed items set aside (one per item, with the reason; never read by the cycle).
QUARANTINE_PK = "QUARANTINE"

#: Index names (template.yaml declares them; tests/support/table.py creates them the same way).
BY_PROJECT = "ByProject"
BY_STATUS = "ByStatus"
ACTIVE_INDEX = "Active"

VERSION_PATTERN = re.compile(r"^\d{10}$")
KEY_TIME_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")


def key_time(ts: datetime) -> str:
    """``ts`` as the table's sort keys spell it: ISO-8601 UTC, microseconds, year zero-padded."""
    t = ts.astimezone(UTC)
    return (
        f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}"
        f".{t.microsecond:06d}Z"
    )


def parse_key_time(text: object) -> datetime | None:
    """The instant ``key_time`` spelled, or None when ``text`` is not such a spelling."""
    if not isinstance(text, str) or not KEY_TIME_PATTERN.match(text):
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def job_pk(key: JobKey) -> str:
    return job_partition(key.project, key.job)


def job_partition(project: str, job: str) -> str:
    return f"JOB#{project}#{job}"


def job_key_of(pk: str) -> JobKey | None:
    """The job whose partition is ``pk`` (names never hold a '#'), or None."""
    parts = pk.split("#")
    if len(parts) != 3 or parts[0] != "JOB" or not parts[1] or not parts[2]:
        return None
    return JobKey(parts[1], parts[2])


def version_of(sk: str) -> int | None:
    """The version a history sort key names, or None when ``sk`` is not one."""
    digits = sk[len(HISTORY_PREFIX) :]
    ok = sk.startswith(HISTORY_PREFIX) and VERSION_PATTERN.match(digits)
    return int(digits) if ok else None


def quarantine_sk(pk: str, sk: str, fingerprint: str) -> str:
    return f"{pk}#{sk}#{fingerprint}"


def history_sk(version: int) -> str:
    return f"{HISTORY_PREFIX}{version:010d}"


def outbox_sk(channel: str, event_id: str) -> str:
    return f"{channel}#{event_id}"


def job_sk(key: JobKey) -> str:
    """``<project>#<job>``: the sort key of a job in the Active and ByStatus (state) indexes."""
    return f"{key.project}#{key.job}"


def project_partition(project: str) -> str:
    return f"PROJECT#{project}"


def project_change_sk(observed: str, key: JobKey, version: int) -> str:
    return f"{observed}#{key.job}#{version:010d}"


def status_change_partition(status: str | None) -> str:
    return f"STATUS#{status}"


def status_change_sk(observed: str, key: JobKey, version: int) -> str:
    return f"{observed}#{key.project}#{key.job}#{version:010d}"


def state_partition(status: str | None) -> str:
    return f"STATE#{status}"


# -- table keys from index sort keys (the reader checks page tokens with these) -------------


def _split(value: str, parts: int) -> list[str] | None:
    pieces = value.split("#")
    return pieces if len(pieces) == parts and all(pieces) else None


def history_key_of(project: str, job: str, sk: str) -> tuple[str, str] | None:
    """(pk, sk) of a history item of ``project/job`` with sort key ``sk``; None if malformed."""
    ok = sk.startswith(HISTORY_PREFIX) and VERSION_PATTERN.match(sk[len(HISTORY_PREFIX) :])
    return (job_partition(project, job), sk) if ok else None


def key_of_project_change(project: str, value: str) -> tuple[str, str] | None:
    """(pk, sk) of the history item whose ByProject sort key is ``value``."""
    parts = _split(value, 3)
    if not parts or not KEY_TIME_PATTERN.match(parts[0]) or not VERSION_PATTERN.match(parts[2]):
        return None
    return job_partition(project, parts[1]), f"{HISTORY_PREFIX}{parts[2]}"


def key_of_status_change(value: str) -> tuple[str, str] | None:
    """(pk, sk) of the history item whose ByStatus sort key is ``value``."""
    parts = _split(value, 4)
    if not parts or not KEY_TIME_PATTERN.match(parts[0]) or not VERSION_PATTERN.match(parts[3]):
        return None
    return job_partition(parts[1], parts[2]), f"{HISTORY_PREFIX}{parts[3]}"


def key_of_state(value: str) -> tuple[str, str] | None:
    """(pk, sk) of the state item whose ByStatus (state) sort key is ``value``."""
    parts = _split(value, 2)
    return (job_partition(parts[0], parts[1]), STATE_SK) if parts else None
