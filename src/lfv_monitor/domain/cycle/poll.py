"""``PollCycle``: one scheduled invocation, over the ports.  Orchestration only, no I/O of its own.

One invocation:
1. delivers what earlier cycles recorded but could not announce (the outbox, ``delivery``);
2. **scans** (``scan``): lists projects and (a slice of) their jobs while one worker describes;
   every change is recorded atomically;
3. announces what was recorded; what fails stays in the outbox;
4. **watches** (``watch``, optional, sub-minute detection): while jobs are in progress and time
   is left before the next tick, re-checks only the projects with jobs in progress.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime

from lfv_monitor.domain.cycle.delivery import flush, retry_outbox
from lfv_monitor.domain.cycle.invocation import Invocation
from lfv_monitor.domain.cycle.report import CyclePolicy, CycleReport, RemainingTime
from lfv_monitor.domain.cycle.scan import scan
from lfv_monitor.domain.cycle.watch import Watch
from lfv_monitor.domain.errors import ServiceUnreachableError, StoreError
from lfv_monitor.domain.models import JobKey
from lfv_monitor.domain.ports import ChangePublisher, JobSource, SnapshotStore
from lfv_monitor.domain.targets import Scope

log = logging.getLogger("lfv_monitor.cycle")


class PollCycle:
    """Lists, compares, records and announces.  Build one per process; ``run`` once per tick."""

    def __init__(
        self,
        source: JobSource,
        store: SnapshotStore,
        publishers: Sequence[ChangePublisher],
        *,
        clock: Callable[[], datetime],
        observer: str = "lfv-monitor",
        policy: CyclePolicy | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        scope: Scope | None = None,
    ) -> None:
        self.source = source
        #: Whose jobs this cycle watches (issue 15); the default is the home target with an
        #: unknown account (unqualified keys and event ids, as in the single-account version).
        self.scope = scope or Scope()
        self.store = store
        self.publishers = tuple(publishers)
        self.clock = clock
        self.observer = observer
        self.policy = policy or CyclePolicy()
        self._monotonic = monotonic
        self._sleep = sleep

    def run(
        self,
        remaining: RemainingTime | None = None,
        *,
        margin_seconds: float | None = None,
        correlation_id: str | None = None,
    ) -> CycleReport:
        """One scheduled cycle: outbox, scan, announce, and the watch when configured."""
        policy = self.policy
        if margin_seconds is not None:
            policy = replace(policy, margin_seconds=margin_seconds)
        start = self._monotonic()
        report = CycleReport(started_at=self.clock())

        def out_of_time() -> bool:
            if remaining is not None and remaining() <= policy.margin_seconds:
                report.deadline_reached = True
            return report.deadline_reached

        inv = self._invocation(report, out_of_time, correlation_id)
        if remaining is not None:
            inv.time_left = lambda: remaining() - policy.margin_seconds

        def work() -> None:
            retry_outbox(inv, self.publishers)
            report.baseline = not self.store.is_initialized()
            scan(inv, policy)
            flush(inv, self.publishers)
            if policy.watch_interval > 0 and not report.baseline:
                watch = Watch(
                    inv,
                    policy,
                    monotonic=self._monotonic,
                    sleep=self._sleep,
                    flush=lambda: flush(inv, self.publishers),
                )
                watch.run(remaining, start)

        self._guarded(inv, work)
        report.duration_seconds = self._monotonic() - start
        return report

    def check(self, keys: Sequence[JobKey], *, correlation_id: str | None = None) -> CycleReport:
        """Check named jobs at once (a CloudTrail ``StartModelPackagingJob`` event): describe,
        record and announce them like the scheduled cycle would, and nothing else."""
        start = self._monotonic()
        report = CycleReport(started_at=self.clock())
        inv = self._invocation(report, lambda: False, correlation_id)

        def work() -> None:
            if not self.store.is_initialized():
                report.baseline = True  # the baseline scan will record them silently
                return
            unique = list(dict.fromkeys(keys))
            stored = self.store.get_jobs(unique)
            for key in unique:
                inv.check_job(key, stored.get(key), {})

        self._guarded(inv, work)
        report.duration_seconds = self._monotonic() - start
        return report

    def _invocation(
        self, report: CycleReport, out_of_time: Callable[[], bool], correlation_id: str | None
    ) -> Invocation:
        return Invocation(
            self.source,
            self.store,
            clock=self.clock,
            observer=self.observer,
            correlation_id=correlation_id,
            report=report,
            out_of_time=out_of_time,
            scope=self.scope,
        )

    def _count_poisoned(self, report: CycleReport) -> Callable[[], None]:
        def count() -> None:
            report.poison_items += self.store.take_poisoned()

        return count

    def _guarded(self, inv: Invocation, work: Callable[[], None]) -> None:
        """Run ``work``; end early, with one clear log line and the report saying why, when
        Lookout for Vision cannot be reached or DynamoDB fails past its retries. Every write is
        one transaction, so nothing is half-written; whatever was recorded is announced."""
        report = inv.report
        for step in (work, lambda: flush(inv, self.publishers), self._count_poisoned(report)):
            try:
                step()
            except ServiceUnreachableError as exc:
                report.unreachable = True
                report.errors["ServiceUnreachable"] += 1
                log.error(
                    "Lookout for Vision is unreachable; cycle ended early",
                    extra={"reason": str(exc)},
                )
            except StoreError as exc:
                report.store_failed = True
                report.errors["StoreError"] += 1
                log.error(
                    "the snapshot store failed; cycle ended early", extra={"reason": str(exc)}
                )
