"""The expected-states oracle: what a job showed a monitor that looked at it at given times.

One reading of the ground truth (a job's timeline, when its project appears, when it or its
project is deleted), written from the documented rules and not from the monitor's code, for
everything that holds the monitor to it:

- the demo (``demo/accounting.py``: the changes its summary compares with the table and deliveries);
- the soak (``soak/ledger.py``: the states each job's history must hold, no more, no less);
- the benchmarks (``benchmarks/fleet.py``: a job's state at a cycle time, for the P1 minimum).

The rules: at each observation time a job shows the last step it reached, if it exists then
(its project has appeared and neither it nor its project has been deleted). The monitor records
each distinct (status, message) it sees; a job that disappears while its last seen status was
not final is recorded once more as ``REMOVED`` (a finished job is final and stays as it was).

A job is its project, its name and its creation time: a job deleted and created again under its
name is another *incarnation*, a :class:`JobTruth` of its own (``created_at``) with its own
history, so an old incarnation in progress ends ``REMOVED`` and the new one starts afresh
(``DISCOVERED``). The observation times are the caller's: a time at which the monitor could not
see a job (its project denied, the service unreachable, the store refusing writes) is left out
for that job, so what showed only then is not expected, and what it showed then and later is
expected later: late, never lost.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

#: The status the monitor records for a job that disappeared while in progress.
REMOVED = "REMOVED"
#: The service's final statuses: a job in one of them never changes again.
TERMINAL = frozenset({"SUCCEEDED", "FAILED"})


class StepLike(Protocol):
    """A moment of a job's timeline: from ``at`` on, it shows ``status`` and ``message``."""

    @property
    def at(self) -> float: ...
    @property
    def status(self) -> str: ...
    @property
    def message(self) -> str | None: ...


@dataclass(frozen=True)
class Step:
    at: float
    status: str
    message: str | None


S = TypeVar("S", bound=StepLike)


def step_at(steps: Sequence[S], t: float) -> S | None:
    """The last of ``steps`` (in time order) reached at ``t``; None before the first."""
    current = None
    for step in steps:
        if step.at > t:
            break
        current = step
    return current


@dataclass(frozen=True)
class JobTruth:
    """One job as the service holds it over time."""

    project: str
    job: str
    steps: tuple[Step, ...]
    appears_at: float = -math.inf  # when its project appears
    gone_at: float | None = None  # when it or its project is deleted
    #: This incarnation's creation (its CreationTimestamp, as a virtual offset); None: unknown.
    created_at: float | None = None

    def exists(self, t: float) -> bool:
        return self.appears_at <= t and (self.gone_at is None or t < self.gone_at)

    def state_at(self, t: float) -> Step | None:
        """What a listing or a describe at ``t`` shows (None: nothing, the job is not there)."""
        return step_at(self.steps, t) if self.exists(t) else None


@dataclass(frozen=True)
class Observed:
    """A state the monitor must record: first seen at observation time ``at``."""

    status: str
    message: str | None
    at: float


def observed_states(truth: JobTruth, times: Iterable[float]) -> list[Observed]:
    """The distinct states ``truth`` showed at ``times``, and ``REMOVED`` once if it disappeared
    while its last state seen was not final."""
    states: list[Observed] = []
    for t in sorted(times):
        step = truth.state_at(t)
        last = states[-1] if states else None
        if step is not None:
            if last is None or (last.status, last.message) != (step.status, step.message):
                states.append(Observed(step.status, step.message, t))
        elif last is not None:  # it was there and is not: deleted
            if last.status not in TERMINAL and last.status != REMOVED:
                states.append(Observed(REMOVED, None, t))
            break  # gone for good
    return states


def jobs_from_state(
    state: Mapping[str, Any], deletions: Mapping[tuple[str, str], float] | None = None
) -> list[JobTruth]:
    """Every job incarnation of the simulator's ``GET /_simulator/state`` (its full history:
    read it after the last step) with its project's appearance and deletion, and its own
    deletion (the state's ``deleted_at``; else ``deletions``, the scenario's, by name)."""
    projects = {project["name"]: project for project in state["projects"]}
    deletions = deletions or {}
    truths = []
    for job in state["jobs"]:
        project = projects[job["project"]]
        own = job.get("deleted_at", deletions.get((job["project"], job["job"])))
        ends = [end for end in (own, project.get("deleted_at")) if end is not None]
        truths.append(
            JobTruth(
                project=job["project"],
                job=job["job"],
                steps=tuple(Step(s["at"], s["status"], s["message"]) for s in job["history"]),
                appears_at=_or(project.get("appears_at"), -math.inf),
                gone_at=min(ends, default=None),
                created_at=job.get("created_at"),
            )
        )
    return truths


def _or(value: float | None, default: float) -> float:
    return default if value is None else value
