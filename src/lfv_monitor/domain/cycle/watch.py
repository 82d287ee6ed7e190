"""The watch (optional, sub-minute detection): while jobs are in progress and time is left
before the next tick, re-check only the projects with jobs in progress every interval, and
describe only the jobs whose list entry moved or that vanished from the list."""

from __future__ import annotations

from collections.abc import Callable

from lfv_monitor.domain.changes import listing_differs
from lfv_monitor.domain.cycle.invocation import Invocation
from lfv_monitor.domain.cycle.report import CyclePolicy, RemainingTime
from lfv_monitor.domain.models import JobKey, JobSummary, Project, StoredJob


class Watch:
    """Re-check the projects with jobs in progress until the next tick comes near."""

    def __init__(
        self,
        inv: Invocation,
        policy: CyclePolicy,
        *,
        monotonic: Callable[[], float],
        sleep: Callable[[float], None],
        flush: Callable[[], None],
    ) -> None:
        self.inv = inv
        self.policy = policy
        self.monotonic = monotonic
        self.sleep = sleep
        self.flush = flush

    def run(self, remaining: RemainingTime | None, start: float) -> None:
        last_check = self.monotonic()  # the scan's checks
        while True:
            active = {job.key: job for job in self.inv.store.active_jobs()}
            if not active or not self._wait(remaining, start, last_check):
                return
            last_check = self.monotonic()
            self.inv.report.watch_rounds += 1
            if not self._round(active):
                return
            self.flush()

    def _wait(self, remaining: RemainingTime | None, start: float, last_check: float) -> bool:
        """Sleep until the next round is due; False when no round fits before the next tick.

        Rounds start an interval apart (a round's own calls count towards the interval); the
        last one may come early so that it lands just before the deadline, but a round less
        than half an interval after the previous one is not worth its calls.
        """
        interval, margin = self.policy.watch_interval, self.policy.margin_seconds
        now = self.monotonic()
        left = self.policy.period_seconds - (now - start)
        if remaining is not None:
            left = min(left, remaining())
        if min(interval, left - margin) < interval / 2:
            return False
        wait_seconds = min(interval - (now - last_check), left - margin)
        if wait_seconds > 0:
            self.sleep(wait_seconds)
        return True

    def _round(self, active: dict[JobKey, StoredJob]) -> bool:
        """List the projects with jobs in progress; describe what moved.  False: out of time."""
        inv = self.inv
        stored = dict(active)
        listed: dict[JobKey, JobSummary] = {}
        for name in sorted({key.project for key in active}):
            if inv.out_of_time():
                return False
            for summary in inv.list_jobs(Project(name)) or []:
                listed[summary.key] = summary
        stored.update(inv.store.get_jobs([k for k in listed if k not in stored]))
        recheck = [k for k, s in sorted(listed.items()) if listing_differs(s, stored.get(k))]
        recheck += [k for k in sorted(active) if k not in listed]
        for key in recheck:
            if inv.out_of_time():
                return False
            inv.check_job(key, stored.get(key), {})
        return True
