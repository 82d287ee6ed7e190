"""Every key of the table, spelled once (design: docs/architecture.md, "Table design").

Writer and reader both build keys here: ``key_time`` is the one spelling of an instant in a
sort key (ISO-8601, UTC, microseconds, year zero-padded so keys sort like instants).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
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
    return HOME.job_pk(key)


def job_partition(project: str, job: str) -> str:
    return HOME.job_partition(project, job)


def job_key_of(pk: str) -> JobKey | None:
    """The job whose partition is ``pk`` (names never hold a '#'), or None."""
    return HOME.job_key_of(pk)


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
    return HOME.project_partition(project)


def project_change_sk(observed: str, key: JobKey, version: int) -> str:
    return f"{observed}#{key.job}#{version:010d}"


def status_change_partition(status: str | None) -> str:
    return HOME.status_change_partition(status)


def status_change_sk(observed: str, key: JobKey, version: int) -> str:
    return f"{observed}#{key.project}#{key.job}#{version:010d}"


def state_partition(status: str | None) -> str:
    return HOME.state_partition(status)


# -- table keys from index sort keys (the reader checks page tokens with these) -------------


def history_key_of(project: str, job: str, sk: str) -> tuple[str, str] | None:
    return HOME.history_key_of(project, job, sk)


def key_of_project_change(project: str, value: str) -> tuple[str, str] | None:
    return HOME.key_of_project_change(project, value)


def key_of_status_change(value: str) -> tuple[str, str] | None:
    return HOME.key_of_status_change(value)


def key_of_state(value: str) -> tuple[str, str] | None:
    return HOME.key_of_state(value)


def _split(value: str, parts: int) -> list[str] | None:
    pieces = value.split("#")
    return pieces if len(pieces) == parts and all(pieces) else None


@dataclass(frozen=True)
class TableKeys:
    """The keys of one target's items (issue 15: several accounts and regions in one table).

    ``HOME`` (no account, no region), the stack's own account and region, spells every key
    exactly as the single-account version did: a table it wrote keeps working, its jobs read as
    the home target's. Any other target's partitions carry ``<account>#<region>`` after their
    prefix (``JOB#<account>#<region>#<project>#<job>``, ``META#<account>#<region>``,
    ``OUTBOX#...``, ``PROJECT#...``, ``ACTIVE#...``, ``PROJECT#<account>#<region>#<project>``,
    ``STATUS#<account>#<region>#<status>``, ``STATE#...#<status>``), so two targets never share
    a job, a baseline, a rotation, a project record or an outbox; sort keys are the same for
    every target (their partition already names it). Names never hold a '#', an account is 12
    digits and a region has none either, so every key parses back to one target.
    """

    account: str | None = None
    region: str | None = None

    def __post_init__(self) -> None:
        if (self.account is None) != (self.region is None):
            raise ValueError("a target's keys need both its account and its region, or neither")

    @classmethod
    def of(cls, account: object, region: object) -> TableKeys:
        """The keys an item's ``account``/``region`` attributes name (HOME when absent)."""
        if isinstance(account, str) and isinstance(region, str) and account and region:
            return cls(account, region)
        return HOME

    @property
    def qualified(self) -> bool:
        return self.account is not None

    def _part(self, base: str) -> str:
        return f"{base}#{self.account}#{self.region}" if self.qualified else base

    def _q(self) -> str:
        return f"{self.account}#{self.region}#" if self.qualified else ""

    @property
    def meta_pk(self) -> str:
        return self._part(META_PK)

    @property
    def outbox_pk(self) -> str:
        return self._part(OUTBOX_PK)

    @property
    def project_pk(self) -> str:
        return self._part(PROJECT_PK)

    @property
    def active_pk(self) -> str:
        return self._part(ACTIVE_PK)

    def job_partition(self, project: str, job: str) -> str:
        return f"JOB#{self._q()}{project}#{job}"

    def job_pk(self, key: JobKey) -> str:
        return self.job_partition(key.project, key.job)

    def job_key_of(self, pk: str) -> JobKey | None:
        """The job of this target whose partition is ``pk``, or None."""
        prefix = f"JOB#{self._q()}"
        parts = _split(pk[len(prefix) :], 2) if pk.startswith(prefix) else None
        return JobKey(parts[0], parts[1]) if parts else None

    def project_partition(self, project: str) -> str:
        return f"PROJECT#{self._q()}{project}"

    def status_change_partition(self, status: str | None) -> str:
        return f"STATUS#{self._q()}{status}"

    def state_partition(self, status: str | None) -> str:
        return f"STATE#{self._q()}{status}"

    def history_key_of(self, project: str, job: str, sk: str) -> tuple[str, str] | None:
        """(pk, sk) of a history item of ``project/job`` with sort key ``sk``; None if
        malformed."""
        ok = sk.startswith(HISTORY_PREFIX) and VERSION_PATTERN.match(sk[len(HISTORY_PREFIX) :])
        return (self.job_partition(project, job), sk) if ok else None

    def key_of_project_change(self, project: str, value: str) -> tuple[str, str] | None:
        """(pk, sk) of the history item whose ByProject sort key is ``value``."""
        parts = _split(value, 3)
        if not parts or not KEY_TIME_PATTERN.match(parts[0]):
            return None
        if not VERSION_PATTERN.match(parts[2]):
            return None
        return self.job_partition(project, parts[1]), f"{HISTORY_PREFIX}{parts[2]}"

    def key_of_status_change(self, value: str) -> tuple[str, str] | None:
        """(pk, sk) of the history item whose ByStatus sort key is ``value``."""
        parts = _split(value, 4)
        if not parts or not KEY_TIME_PATTERN.match(parts[0]):
            return None
        if not VERSION_PATTERN.match(parts[3]):
            return None
        return self.job_partition(parts[1], parts[2]), f"{HISTORY_PREFIX}{parts[3]}"

    def key_of_state(self, value: str) -> tuple[str, str] | None:
        """(pk, sk) of the state item whose ByStatus (state) sort key is ``value``."""
        parts = _split(value, 2)
        return (self.job_partition(parts[0], parts[1]), STATE_SK) if parts else None


#: The stack's own account and region: the single-account version's keys, unchanged.
HOME = TableKeys()
