"""The soak's ledger: three accounts of what happened, balanced, and the verdict.

* the simulator's ground truth (``GET /_simulator/state`` job histories) read by the
  expected-states oracle (``lfv_workbench.oracle``) at every cycle time: the distinct states the
  monitor could observe, which each job's history must hold, no more and no less;
* the store: every job's history items;
* the deliveries captured on SQS from an EventBridge rule on the bus and an SNS subscription:
  every announced change delivered on each channel, once (a copy only after an injected crash or
  a lost response), under one event id, within two clean cycles;
* the health verdicts: every invocation's report against what the soak injected. A cycle in
  which a project was denied, Lookout for Vision was unreachable or the table refused writes is
  never ``healthy``; a clean cycle is; a malformed item written before a cycle is set aside and
  counted (``poisonItems``) by it.

A job re-created under its name is one account per incarnation (its history items carry the
incarnation's creation time); a cycle that could not see a project (denied, unreachable, writes
refused) is not an observation time for that project's jobs: their changes arrive late, and
must arrive.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from lfv_workbench.oracle import REMOVED, JobTruth, jobs_from_state, observed_states

CHANNELS = ("events", "sns")
#: (status, status message): one state, as the history records it.
State = tuple[str, str | None]


@dataclass
class CycleRecord:
    index: int
    kind: str
    at: float  # virtual offset
    started: float  # wall (epoch seconds)
    ended: float = 0.0
    killed: bool = False
    kill_point: str | None = None
    lost_response: bool = False  # a publish's response was lost after the service acted
    unhandled: list[str] = field(default_factory=list)
    #: Each invocation's report (``CycleReport.as_dict``); none for a killed one.
    reports: list[dict[str, Any]] = field(default_factory=list)
    #: What fired that the monitor cannot get past (its verdict must not be healthy).
    outage: str | None = None
    #: Projects the monitor could not see or record this cycle ("*": every project).
    unseen: set[str] = field(default_factory=set)
    #: The malformed item written into the table before the cycle.
    poison: str | None = None

    def observes(self, project: str) -> bool:
        return not self.unseen & {"*", project}

    @property
    def clean(self) -> bool:
        return self.kind == "clean"


@dataclass
class SoakResult:
    seed: int
    cycles: int
    faults: Counter[str]
    changes: int  # distinct states at cycle times (expected history items)
    recorded: int
    announced: int
    delivered: dict[str, int]  # unique event ids per channel
    deliveries: dict[str, int]  # copies per channel
    lost: list[str]
    extra: list[str]
    undelivered: list[str]
    duplicates: list[dict[str, Any]]
    id_conflicts: list[str]
    max_lag: int
    max_clean_lag: int
    late: list[str]
    unhandled: list[str]
    wall_seconds: float
    health: Counter[str] = field(default_factory=Counter)  # verdicts reported
    outages: int = 0  # cycles with a denied project, an unreachable service or refused writes
    #: Cycles with an outage whose report said healthy: the quiet failure.
    unhealthy_as_healthy: list[str] = field(default_factory=list)
    #: Clean cycles whose report said not healthy: a false alarm.
    false_alarms: list[str] = field(default_factory=list)
    poisoned: int = 0  # malformed items written
    poison_reported: int = 0  # items set aside, as the reports counted them
    #: Malformed items written before a cycle whose report counted none.
    poison_unseen: list[str] = field(default_factory=list)
    incarnations: int = 0  # re-created jobs' incarnations accounted apart
    #: Kept for the command line's ``--strict``; overlap duplicates always fail now that the
    #: outbox is leased (docs/reliability.md, "Overlapping invocations").
    strict: bool = True

    def problems(self) -> list[str]:
        allowed = {"crash", "lost_response"}
        bad = [d for d in self.duplicates if d["cause"] not in allowed]
        checks: list[tuple[list[Any], str, int]] = [
            (self.lost, f"{len(self.lost)} changes lost", 5),
            (self.extra, f"{len(self.extra)} history items that were never a state", 5),
            (self.undelivered, f"{len(self.undelivered)} never delivered", 5),
            (self.id_conflicts, "duplicates with different event ids", 5),
            (bad, f"{len(bad)} duplicates not after an injected crash", 3),
            (self.late, "delivered after more than 2 clean cycles", 5),
            (self.unhandled, "unhandled exceptions", 3),
            (self.unhealthy_as_healthy, "unhealthy cycles reported as healthy", 5),
            (self.false_alarms, "clean cycles reported unhealthy", 5),
            (self.poison_unseen, "malformed items never set aside", 5),
        ]
        return [f"{what}: {found[:shown]}" for found, what, shown in checks if found]

    @property
    def ok(self) -> bool:
        return not self.problems()

    def render(self) -> str:
        faults = ", ".join(f"{k} {v}" for k, v in sorted(self.faults.items())) or "none"
        dup_causes = Counter(d["cause"] for d in self.duplicates)
        lines = [
            f"soak: seed {self.seed}, {self.cycles} cycles in {self.wall_seconds:.0f}s",
            f"faults injected: {faults}",
            f"changes (distinct states at cycle times): {self.changes}",
            f"recorded (history items): {self.recorded}; announced: {self.announced}",
            "delivered: "
            + ", ".join(f"{c} {self.delivered[c]} ({self.deliveries[c]} copies)" for c in CHANNELS),
            f"lost: {len(self.lost)}; never a state: {len(self.extra)}; "
            f"undelivered: {len(self.undelivered)}",
            f"duplicates: {len(self.duplicates)} "
            f"({', '.join(f'{k} {v}' for k, v in dup_causes.items()) or 'none'}); "
            f"same change under different ids: {len(self.id_conflicts)}",
            f"longest delivery lag: {self.max_lag} cycles ({self.max_clean_lag} clean cycles)",
            f"unhandled exceptions: {len(self.unhandled)}",
            "health verdicts: "
            + (", ".join(f"{k} {v}" for k, v in sorted(self.health.items())) or "none"),
            f"unhealthy cycles reported as healthy: {len(self.unhealthy_as_healthy)} "
            f"(of {self.outages} with a denied project, an unreachable service or refused "
            f"writes); clean cycles reported unhealthy: {len(self.false_alarms)}",
            f"malformed items written: {self.poisoned}; set aside (poisonItems): "
            f"{self.poison_reported}; never set aside: {len(self.poison_unseen)}",
            f"re-created jobs: {self.incarnations} incarnations accounted apart",
        ]
        lines += [
            "RESULT: " + ("OK" if self.ok else "FAILED: " + "; ".join(self.problems())),
        ]
        return "\n".join(lines)


#: The proxy's faults after which a publish may have been acted on by the service while its
#: client saw no answer and retried: a reset after forwarding, or a delay past the client's read
#: timeout, after forwarding or before it (the proxy still forwards the late request).
LOST_RESPONSE_FAULTS = frozenset({"reset_after", "delay_after", "delay_before"})


def loses_response(fault: str, service: str) -> bool:
    """Whether ``fault`` (the proxy's label) on ``service`` may duplicate a delivery."""
    return fault in LOST_RESPONSE_FAULTS and service in ("events", "sns")


def expected_history(truth: JobTruth, times: Iterable[float]) -> list[State]:
    """The states ``truth``'s history must hold after cycles at ``times``."""
    return [(seen.status, seen.message) for seen in observed_states(truth, times)]


@dataclass
class _StoreAccount:
    changes: int = 0
    recorded: int = 0
    lost: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    #: event id -> (job, the cycle that recorded it)
    announced: dict[str, tuple[str, int]] = field(default_factory=dict)
    incarnations: int = 0


def _store_account(
    truths: list[JobTruth], store: Any, records: list[CycleRecord], start: datetime
) -> _StoreAccount:
    """Each job incarnation's history against what it showed when the monitor could see it;
    ``start`` is the simulator's virtual offset 0 (incarnations are told apart by creation)."""
    from lfv_monitor.domain.models import JobKey

    account = _StoreAccount()
    names = Counter((t.project, t.job) for t in truths)
    for truth in truths:
        times = [r.at for r in records if r.observes(truth.project)]
        expected = expected_history(truth, times)
        history = store.history(JobKey(truth.project, truth.job))
        if names[(truth.project, truth.job)] > 1:  # re-created: this incarnation's items only
            history = [c for c in history if _same_incarnation(c, truth, start)]
        got = [(c.status, None if c.status == REMOVED else c.status_message) for c in history]
        name = f"{truth.project}/{truth.job}"
        account.changes += len(expected)
        account.recorded += len(history)
        account.lost += [_lost(name, item, history) for item in expected if item not in got]
        account.extra += [f"{name} {s} {str(m)[:40]!r}" for s, m in got if (s, m) not in expected]
        for change in history:
            if change.announce:
                account.announced[change.event_id] = (name, _cycle_of(change.observed_at, records))
    account.incarnations = sum(n for n in names.values() if n > 1)
    return account


def _same_incarnation(change: Any, truth: JobTruth, start: datetime) -> bool:
    """Was ``change`` recorded for ``truth``'s incarnation (its CreationTimestamp)?"""
    if change.created is None or truth.created_at is None:
        return False
    return bool(abs((change.created - start).total_seconds() - truth.created_at) < 0.01)


def _lost(name: str, item: State, history: list[Any]) -> str:
    return (
        f"{name} {item[0]} {str(item[1])[:40]!r} (history: "
        + ", ".join(f"v{c.version} {c.status} {str(c.status_message)[:20]!r}" for c in history)
        + ")"
    )


@dataclass
class _ChannelAccount:
    delivered: int
    copies: int
    duplicates: list[dict[str, Any]]
    id_conflicts: set[str]
    undelivered: list[str]
    late: list[str]
    max_lag: int = 0
    max_clean_lag: int = 0


def _channel_account(
    channel: str,
    deliveries: list[tuple[int, dict[str, Any]]],
    announced: Mapping[str, tuple[str, int]],
    records: list[CycleRecord],
) -> _ChannelAccount:
    first: dict[str, int] = {}
    by_change: dict[tuple[Any, ...], set[str]] = {}
    duplicates: list[dict[str, Any]] = []
    for index, detail in deliveries:
        event_id = detail.get("eventId")
        key = tuple(
            detail.get(name)
            for name in (
                "projectName",
                "jobName",
                "creationTimestamp",  # a re-created job: another incarnation
                "status",
                "statusMessage",
                "previousStatus",
            )
        )
        by_change.setdefault(key, set()).add(str(event_id))
        if event_id in first:
            duplicates.append(
                {
                    "channel": channel,
                    "event_id": str(event_id)[:12],
                    "cycles": (first[event_id], index),
                    "cause": _cause(records, first[event_id], index),
                }
            )
        else:
            first[str(event_id)] = index
    account = _ChannelAccount(
        delivered=len(first),
        copies=len(deliveries),
        duplicates=duplicates,
        id_conflicts={f"{channel} {k[:3]}" for k, ids in by_change.items() if len(ids) > 1},
        undelivered=[],
        late=[],
    )
    _lags(account, channel, first, announced, records)
    details = {str(d.get("eventId")): (i, d) for i, d in deliveries}
    for unknown in sorted(set(first) - set(announced)):
        i, d = details[unknown]
        account.undelivered.append(
            f"{channel} delivered in cycle {i} but not in the store: {unknown[:12]} "
            f"{d.get('jobName')} v{d.get('version')} {d.get('previousStatus')}->"
            f"{d.get('status')} {str(d.get('statusMessage'))[:30]!r}"
        )
    return account


def _lags(
    account: _ChannelAccount,
    channel: str,
    first: Mapping[str, int],
    announced: Mapping[str, tuple[str, int]],
    records: list[CycleRecord],
) -> None:
    """Each announced change's delivery on ``channel``: missing, or its lag in cycles."""
    for event_id, (name, cycle) in announced.items():
        if event_id not in first:
            account.undelivered.append(f"{channel} {name} {event_id[:12]}")
            continue
        lag = first[event_id] - cycle
        clean = sum(1 for r in records[cycle + 1 : first[event_id] + 1] if r.clean)
        account.max_lag = max(account.max_lag, lag)
        account.max_clean_lag = max(account.max_clean_lag, clean)
        if clean > 2:
            account.late.append(f"{channel} {name} after {clean} clean cycles")


def ledger(
    *,
    seed: int,
    state: dict[str, Any],
    records: list[CycleRecord],
    deliveries: Mapping[str, list[tuple[int, dict[str, Any]]]],
    faults: Counter[str],
    store: Any,
    wall_start: float,
    deletions: Mapping[tuple[str, str], float] | None = None,
) -> SoakResult:
    """Balance the accounts: ``state`` is the simulator's at the end (every job incarnation,
    with its deletion; ``deletions`` only for a state without them), ``deliveries`` what each
    channel's queue received in which cycle."""
    now = datetime.fromisoformat(state["time"].replace("Z", "+00:00"))
    start = now - timedelta(seconds=state["now"])
    stored = _store_account(jobs_from_state(state, deletions), store, records, start)
    channels = {
        channel: _channel_account(channel, deliveries[channel], stored.announced, records)
        for channel in CHANNELS
    }
    return SoakResult(
        seed=seed,
        cycles=len(records),
        faults=faults,
        changes=stored.changes,
        recorded=stored.recorded,
        announced=len(stored.announced),
        delivered={c: a.delivered for c, a in channels.items()},
        deliveries={c: a.copies for c, a in channels.items()},
        lost=stored.lost,
        extra=stored.extra,
        undelivered=[u for a in channels.values() for u in a.undelivered],
        duplicates=[d for a in channels.values() for d in a.duplicates],
        id_conflicts=sorted(set().union(*(a.id_conflicts for a in channels.values()))),
        max_lag=max(a.max_lag for a in channels.values()),
        max_clean_lag=max(a.max_clean_lag for a in channels.values()),
        late=[x for a in channels.values() for x in a.late],
        unhandled=[u for r in records for u in r.unhandled],
        wall_seconds=time.monotonic() - wall_start,
        incarnations=stored.incarnations,
        **health_account(records),
    )


def health_account(records: list[CycleRecord]) -> dict[str, Any]:
    """Every report's verdict against what the soak injected (``SoakResult``'s health fields):
    an outage is never reported healthy, a clean cycle always is, poison is always counted."""
    verdicts: Counter[str] = Counter()
    quiet, alarms, unseen = [], [], []
    for record in records:
        healths = [str(report.get("health")) for report in record.reports]
        verdicts.update(healths)
        cycle = f"cycle {record.index} ({record.kind})"
        if record.outage and "healthy" in healths:
            quiet.append(f"{cycle}: {record.outage}")
        if record.clean and any(h != "healthy" for h in healths):
            reasons = [r.get("health") for r in record.reports]
            alarms.append(f"{cycle}: {reasons} {record.reports[0].get('errors')}")
        if record.poison and not sum(_poison(r) for r in record.reports):
            unseen.append(f"{cycle}: {record.poison}")
    return {
        "health": verdicts,
        "outages": sum(1 for r in records if r.outage),
        "unhealthy_as_healthy": quiet,
        "false_alarms": alarms,
        "poisoned": sum(1 for r in records if r.poison),
        "poison_reported": sum(_poison(report) for r in records for report in r.reports),
        "poison_unseen": unseen,
    }


def _poison(report: Mapping[str, Any]) -> int:
    return int(report.get("poisonItems") or 0)


def _cycle_of(observed: datetime, records: list[CycleRecord]) -> int:
    ts = observed.astimezone(UTC).timestamp()
    for record in records:
        if record.started - 0.5 <= ts <= record.ended + 0.5:
            return record.index
    return len(records) - 1


def _cause(records: list[CycleRecord], first: int, again: int) -> str:
    window = records[first : again + 1]
    if any(r.killed for r in window):
        return "crash"
    if any(r.lost_response for r in window):
        return "lost_response"
    if any(r.kind == "overlap" for r in window):
        return "overlap"
    return "none"
