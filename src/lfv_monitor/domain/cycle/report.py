"""What one invocation may do (the policy) and what it saw and did (the report)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from lfv_monitor.domain.models import Change

#: Remaining seconds of the invocation (Lambda's ``get_remaining_time_in_millis`` / 1000).
RemainingTime = Callable[[], float]


@dataclass(frozen=True)
class CyclePolicy:
    """How much one invocation may do.  Built from the settings by the composition root."""

    margin_seconds: float = 10.0  # stop starting work this long before the deadline
    period_seconds: float = 60.0  # the schedule's period
    list_budget: int | None = None  # at most this many projects listed per cycle (None: all)
    full_scan_periods: int = 1  # spread one full scan over this many periods
    watch_interval: float = 0.0  # seconds between watch rounds (0: no watching)
    rate_per_second: float | None = None  # calls per second per operation (None: unpaced)


@dataclass
class CycleReport:
    """What one invocation saw and did; the handler turns it into metrics, the CLI prints it."""

    started_at: datetime
    baseline: bool = False
    unreachable: bool = False
    store_failed: bool = False
    listing_complete: bool = True
    deadline_reached: bool = False
    projects_seen: int = 0
    projects_listed: int = 0
    jobs_seen: int = 0
    jobs_described: int = 0
    lost_races: int = 0
    outbox_retried: int = 0
    watch_rounds: int = 0
    recorded: list[Change] = field(default_factory=list)
    delivered: Counter[str] = field(default_factory=Counter)
    publish_failures: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    throttles: int = 0
    duration_seconds: float = 0.0
    #: Set when the settings were invalid and no cycle ran (the message names the variable).
    config_error: str | None = None
    #: Listings denied this cycle (the account's ListProjects, or a project's jobs).
    listing_denied: int = 0
    #: Jobs whose change could not be written this cycle (retried next cycle).
    write_failures: int = 0
    #: The first scan was cut by the deadline before it covered every project.
    baseline_cut: bool = False
    poison_items: int = 0
    coverage_percent: float = 100.0
    backlog: int = 0
    oldest_check_age_seconds: float = 0.0
    project_failure_streak: int = 0

    @property
    def announced(self) -> list[Change]:
        return [c for c in self.recorded if c.announce]

    @property
    def health(self) -> str:
        """One verdict, the most serious first: ``config``, ``unreachable``, ``store`` (the table
        could not be read or written), ``denied`` (the account or a project could not be
        listed), ``deadline`` (the first scan was cut short), ``partial`` (some projects or jobs
        failed, or were left for the next cycle) or ``healthy``.  Stored items set aside as
        malformed do not change the verdict (every other job was still watched): they are
        counted in ``poison_items`` (the ``PoisonItems`` metric and its alarm)."""
        verdicts = (
            ("config", self.config_error is not None),
            ("unreachable", self.unreachable),
            ("store", self.store_failed or self.write_failures > 0),
            ("denied", self.listing_denied > 0),
            ("deadline", self.baseline_cut),
            ("partial", self._partial()),
        )
        return next((name for name, applies in verdicts if applies), "healthy")

    def _partial(self) -> bool:
        return (
            bool(+self.errors)
            or self.backlog > 0
            or not self.listing_complete
            or self.coverage_percent < 100.0
        )

    def reason(self) -> str:
        """Why the cycle is not healthy, in one line (empty when it is)."""
        health = self.health
        errors = ", ".join(f"{k} {v}" for k, v in sorted(self.errors.items()))
        reasons = {
            "healthy": "",
            "config": f"bad configuration: {self.config_error}",
            "unreachable": "Lookout for Vision could not be reached; the cycle ended early",
            "store": f"the table could not be read or written ({self.write_failures} job writes "
            "failed; the rest is retried next cycle)",
            "denied": f"{self.listing_denied} listing(s) denied (the account or a project)",
            "deadline": f"the first scan was cut by the deadline; {self.backlog} left for the "
            "next cycle",
            "partial": f"coverage {self.coverage_percent:.1f}%, backlog {self.backlog}, "
            f"poison items {self.poison_items}, errors: {errors or 'none'}",
        }
        text = f"{health}: {reasons[health]}" if health != "healthy" else ""
        return " ".join(text.split())

    @property
    def succeeded(self) -> bool:
        """True only for a healthy cycle: it saw everything it had to see."""
        return self.health == "healthy"

    def as_dict(self) -> dict[str, object]:
        return {
            "health": self.health,
            "succeeded": self.succeeded,
            "baseline": self.baseline,
            "unreachable": self.unreachable,
            "storeFailed": self.store_failed,
            "listingComplete": self.listing_complete,
            "deadlineReached": self.deadline_reached,
            "projectsSeen": self.projects_seen,
            "projectsListed": self.projects_listed,
            "jobsSeen": self.jobs_seen,
            "jobsDescribed": self.jobs_described,
            "changesRecorded": len(self.recorded),
            "changesByType": dict(Counter(c.change_type.value for c in self.recorded)),
            "announced": len(self.announced),
            "lostRaces": self.lost_races,
            "outboxRetried": self.outbox_retried,
            "watchRounds": self.watch_rounds,
            "delivered": dict(self.delivered),
            "publishFailures": dict(self.publish_failures),
            "errors": dict(self.errors),
            "throttles": self.throttles,
            "writeFailures": self.write_failures,
            "poisonItems": self.poison_items,
            "coveragePercent": round(self.coverage_percent, 2),
            "backlog": self.backlog,
            "oldestCheckAgeSeconds": round(self.oldest_check_age_seconds, 3),
            "projectFailureStreak": self.project_failure_streak,
            "configError": self.config_error,
            "durationSeconds": round(self.duration_seconds, 3),
        }


def changes_of(reports: Iterable[CycleReport]) -> list[Change]:
    """Every change recorded by ``reports``, in order (handy for the CLI and tests)."""
    return [c for r in reports for c in r.recorded]
