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

    @property
    def announced(self) -> list[Change]:
        return [c for c in self.recorded if c.announce]

    @property
    def succeeded(self) -> bool:
        """The cycle ran: it reached the service and the store (errors on single jobs do not
        count)."""
        return not (self.unreachable or self.store_failed)

    def as_dict(self) -> dict[str, object]:
        return {
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
            "durationSeconds": round(self.duration_seconds, 3),
        }


def changes_of(reports: Iterable[CycleReport]) -> list[Change]:
    """Every change recorded by ``reports``, in order (handy for the CLI and tests)."""
    return [c for r in reports for c in r.recorded]
