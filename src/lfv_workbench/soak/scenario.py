"""The soak's seeded scenario: projects and job timelines the monitor must see every state of.

Every state of a job lasts at least ``MIN_STATE_CYCLES`` cycles (flash jobs aside: they start
and end between two cycles), longer than the longest run of cycles that may lose observations
(``plan.MAX_DEGRADED_RUN``), so every state is observable at some clean cycle time. Some jobs
carry non-ASCII messages, an unknown status, a message longer than any event may carry; one
project appears late and one is deleted while some of its jobs still run.
"""

from __future__ import annotations

import random
from typing import Any

from lfv_workbench.soak.plan import MIN_STATE_CYCLES, lfv_faults

NON_ASCII = "Kompilierung läuft, 步骤 {n}/3 ✓"


def make_scenario(rng: random.Random, cycles: int, interval: int, jobs: int) -> dict[str, Any]:
    """Projects and job timelines whose states each last at least ``MIN_STATE_CYCLES`` cycles
    (flash jobs aside: they start and end between two cycles)."""
    horizon = cycles * interval
    n_projects = max(3, jobs // 8)
    projects: list[dict[str, Any]] = []
    for p in range(n_projects):
        project: dict[str, Any] = {"name": f"soak-p{p}", "jobs": []}
        if p == n_projects - 1:
            project["appears_at"] = round(rng.uniform(0.2, 0.5) * horizon)
        projects.append(project)
    doomed = projects[1]  # deleted while some of its jobs still run
    doomed["deleted_at"] = round(0.6 * horizon) + 7
    for j in range(jobs):
        project = projects[j % n_projects]
        earliest = project.get("appears_at", -10 * interval)
        start = rng.uniform(earliest, 0.75 * horizon)
        deleted = project.get("deleted_at")
        if deleted is not None:
            start = min(start, deleted - (MIN_STATE_CYCLES + 1) * interval)
        job = _job(rng, f"job-{j:03d}", start, interval)
        if deleted is not None:  # every state seen for MIN_STATE_CYCLES before the project goes
            last = deleted - MIN_STATE_CYCLES * interval
            job["timeline"] = [s for s in job["timeline"] if s["at"] <= last]
        project["jobs"].append(job)
    return {"seed": rng.randrange(2**31), "projects": projects, "faults": lfv_faults(None)}


def _job(rng: random.Random, name: str, start: float, interval: int) -> dict[str, Any]:
    kind = rng.random()
    if kind < 0.1:  # flash: starts and ends between two cycle times
        base = (int(start) // interval) * interval + 10
        end = rng.choice(["SUCCEEDED", "FAILED"])
        flash: list[tuple[float, str, str | None]] = [
            (base, "CREATED", None),
            (base + 30, end, "done fast" if end[0] == "S" else "bad"),
        ]
        return _timeline(name, flash)
    steps: list[tuple[float, str, str | None]] = []
    t = start

    def dwell() -> float:
        return rng.randint(MIN_STATE_CYCLES, MIN_STATE_CYCLES + 4) * interval + rng.uniform(1, 9)

    steps.append((t, "CREATED", None))
    t += dwell()
    steps.append((t, "RUNNING", "Packaging the model."))
    for n in range(rng.randint(0, 2)):  # message-only changes, some in non-ASCII text
        t += dwell()
        steps.append((t, "RUNNING", NON_ASCII.format(n=n + 1) if n else f"Step {n + 1} of 3"))
    if rng.random() < 0.1:
        t += dwell()
        steps.append((t, "PAUSED", "An unknown status, served as is."))
    extra: dict[str, Any] = {}
    t += dwell()
    if rng.random() < 0.06:  # deleted while still running, before its last step
        extra["deleted_at"] = t
        t += dwell()
    if rng.random() < 0.3:
        message = "Compilation failed: out of memory."
        if rng.random() < 0.3:
            message += " " + "x" * 20_000  # longer than any event may carry
        steps.append((t, "FAILED", message))
    else:
        steps.append((t, "SUCCEEDED", None))
    return _timeline(name, steps, **extra)


def _timeline(
    name: str, steps: list[tuple[float, str, str | None]], **extra: Any
) -> dict[str, Any]:
    return {
        "name": name,
        "timeline": [
            {"at": round(at, 3), "status": status, **({"message": m} if m else {})}
            for at, status, m in steps
        ],
        **extra,
    }


def deletions(scenario: dict[str, Any]) -> dict[tuple[str, str], float]:
    """When each job stops existing (its own deletion or its project's), from the scenario."""
    out: dict[tuple[str, str], float] = {}
    for project in scenario["projects"]:
        for job in project["jobs"]:
            ends = [t for t in (job.get("deleted_at"), project.get("deleted_at")) if t is not None]
            if ends:
                out[(project["name"], job["name"])] = min(ends)
    return out
