"""The soak's seeded scenario: projects and job timelines the monitor must see every state of.

Every state of a job lasts at least ``MIN_STATE_CYCLES`` cycles (flash jobs aside: they start
and end between two cycles), longer than the longest run of cycles that may lose observations
(``plan.MAX_DEGRADED_RUN``), so every state is observable at some clean cycle time. Some jobs
carry non-ASCII messages, an unknown status, a message longer than any event may carry; one
project appears late and one is deleted while some of its jobs still run.

Issue 12's hostile answers are in every scenario too: jobs deleted and re-created under their
name between two cycles (one while in progress, one after it finished: ``RECREATED``), and
jobs whose text no DynamoDB attribute holds as it is (``ODD_TEXT``: a 2,100-character Status, a
StatusMessage of hundreds of KB, lone surrogates and control characters).
"""

from __future__ import annotations

import random
from typing import Any

from lfv_workbench.soak.plan import MIN_STATE_CYCLES, lfv_faults

NON_ASCII = "Kompilierung läuft, 步骤 {n}/3 ✓"
#: Statuses and messages that no DynamoDB attribute holds as they are (issue 12, point 4).
LONG_STATUS = "COMPILING-" + "Z" * 2090  # 2,100 characters: over an index key's bytes
LONE_SURROGATES = "half a pair \ud800 and the other half \udfff, then \ud83d alone"
CONTROL_CHARACTERS = "\x1b[2J\x1b[31mred\r\x07 bell \u202egnp.exe\x00 nul \x7f\x9b end"
#: Jobs re-created under their name between two cycles: one in progress, one finished.
RECREATED = ("in-progress", "finished")


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
    odd = _odd_text_jobs(rng, horizon, interval)
    for j in range(jobs - len(odd) - 2 * len(RECREATED)):
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
    project = projects[0]  # appears from the start, never deleted
    for n, how in enumerate(RECREATED):
        project["jobs"] += _recreated(rng, f"again-{n}", how, horizon, interval)
    project["jobs"] += odd
    return {"seed": rng.randrange(2**31), "projects": projects, "faults": lfv_faults(None)}


def _recreated(
    rng: random.Random, name: str, how: str, horizon: int, interval: int
) -> list[dict[str, Any]]:
    """Two incarnations of ``name``: the first deleted (``how``: while in progress, or after it
    finished) and the second created under the same name before the next cycle, early enough
    that even a short soak sees both."""
    dwell = (MIN_STATE_CYCLES + 1) * interval
    start = rng.uniform(-2 * interval, 0.1 * horizon)
    steps: list[tuple[float, str, str | None]] = [
        (start, "CREATED", None),
        (start + dwell, "RUNNING", "Packaging the model."),
    ]
    if how == "finished":
        steps.append((start + 2 * dwell, "SUCCEEDED", None))
    deleted = (int(steps[-1][0] + dwell) // interval) * interval + 7  # just after a cycle time
    again = _job(rng, name, deleted + rng.uniform(5, interval - 20), interval)
    again.pop("deleted_at", None)
    return [_timeline(name, steps, deleted_at=deleted), again]


def _odd_text_jobs(rng: random.Random, horizon: int, interval: int) -> list[dict[str, Any]]:
    """Jobs whose statuses and messages no attribute holds as they are."""
    words = ["model", "layer", "tensor", "compile", "Gerät", "步骤", "✓", "0x7f", "ok"]
    huge = " ".join(rng.choice(words) + str(rng.randrange(1000)) for _ in range(40_000))
    texts: list[tuple[str, str | None]] = [
        (LONG_STATUS, "A 2,100-character status, served as is."),
        ("RUNNING", huge),  # about 300 KB
        ("RUNNING", LONE_SURROGATES),
        ("RUNNING\ud800", CONTROL_CHARACTERS),  # a status with a lone surrogate too
    ]
    jobs = []
    for n, (status, message) in enumerate(texts):
        t = rng.uniform(0, 0.5 * horizon)
        dwell = (MIN_STATE_CYCLES + 1) * interval
        steps = [(t, "CREATED", None), (t + dwell, status, message)]
        steps.append((t + 2 * dwell, "SUCCEEDED", None))
        jobs.append(_timeline(f"odd-{n}", steps))
    return jobs


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
