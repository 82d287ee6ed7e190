"""The scan: list-first change detection, in a fair order that carries across invocations.

Every period the lister lists, oldest first: the projects owed from earlier cycles, this
period's slice of the whole fleet (``slice_of``: the same time-based rotation as ever, so an
idle cycle writes nothing; these are the lister's alone, so every project is listed in its
turn), then the rotation: every other project that holds a job in progress (from the store's
``Active`` index), starting where the last overloaded cycle stopped.  The describer describes
what the lists flagged and, under load, takes projects from the rotation's front too
(``workers``).  What the deadline leaves is written to the ``Rotation`` record and comes first
next cycle; a cycle that checks everything writes nothing.

The very first scan (the silent baseline) keeps a cursor in the store instead, so it can span
cycles without losing its place; it completes per project (``advance_baseline``).
"""

from __future__ import annotations

import logging
import math
from dataclasses import replace
from datetime import datetime

from lfv_monitor.domain.cycle.invocation import Invocation
from lfv_monitor.domain.cycle.report import CyclePolicy
from lfv_monitor.domain.cycle.workers import Outcome, Workers
from lfv_monitor.domain.models import JobKey, Project, ProjectRecord, Rotation, StoredJob

log = logging.getLogger("lfv_monitor.cycle")


def scan(inv: Invocation, policy: CyclePolicy) -> None:
    """One period's scan (or a part of the first scan)."""
    report = inv.report
    projects = sorted(inv.list_projects(), key=lambda p: p.name)
    records = inv.store.project_records()
    pending = {name for name, r in records.items() if r.baseline_pending}
    active = {job.key: job for job in inv.store.active_jobs()}
    rotation = Rotation() if report.baseline else inv.store.rotation()
    ring: list[Project] = []
    if report.baseline:
        cursor = inv.store.baseline_cursor()
        own = [p for p in projects if cursor is None or p.name > cursor]
        first_scan = {p.name for p in own}
    else:
        own, ring = _order(
            projects,
            active=active,
            rotation=rotation,
            pending=pending,
            policy=policy,
            now=inv.clock(),
        )
        first_scan = pending
    order = own + ring
    arns = {p.name: p.arn for p in projects}
    workers = Workers(
        inv,
        arns,
        active,
        first_scan,
        rate_per_second=policy.rate_per_second,
        owed=frozenset(rotation.owed),
    )
    outcome = workers.run(own, ring)
    report.projects_listed = len(outcome.listed)
    if not all(outcome.reached(p.name) for p in order):
        report.listing_complete = False
    _remember_projects(inv, records, outcome, first_scan)
    if report.baseline:
        advance_baseline(inv, order, outcome)
    _measure(inv, order, outcome)
    if not report.baseline:
        _carry(inv, rotation, own, ring, outcome)


def _order(
    projects: list[Project],
    *,
    active: dict[JobKey, StoredJob],
    rotation: Rotation,
    pending: set[str],
    policy: CyclePolicy,
    now: datetime,
) -> tuple[list[Project], list[Project]]:
    """The projects due this period, oldest first: the lister's own (pending first scans, the
    owed, this period's slice), then the rotation (the other projects with jobs in progress,
    from the cursor where the last overloaded cycle stopped)."""
    by_name = {p.name: p for p in projects}
    busy = sorted({key.project for key in active})
    for name in busy:  # a project gone from ListProjects is still listed: its jobs are tracked
        by_name.setdefault(name, Project(name))
    own: dict[str, Project] = {}
    for name in [*sorted(pending), *rotation.owed]:
        if name in by_name:
            own.setdefault(name, by_name[name])
    for project in slice_of(projects, policy, now):
        own.setdefault(project.name, project)
    start = next((i for i, name in enumerate(busy) if name >= (rotation.active_cursor or "")), 0)
    ring = [by_name[name] for name in busy[start:] + busy[:start] if name not in own]
    return list(own.values()), ring


def slice_of(projects: list[Project], policy: CyclePolicy, now: datetime) -> list[Project]:
    """This period's share of the full scan: the rate's budget, or less when the scan is
    spread over ``full_scan_periods`` (new jobs then come from CloudTrail at once)."""
    budget = math.ceil(len(projects) / max(1, policy.full_scan_periods))
    if policy.list_budget:
        budget = min(budget, policy.list_budget)
    if not budget or len(projects) <= budget:
        return projects
    slices = math.ceil(len(projects) / budget)
    index = int(now.timestamp() // policy.period_seconds) % slices
    return projects[index * budget : (index + 1) * budget]


def _carry(
    inv: Invocation, old: Rotation, own: list[Project], ring: list[Project], outcome: Outcome
) -> None:
    """Write what the deadline left (the lister's own projects it did not reach, the first
    project of the rotation that neither worker reached, since when), only when it differs
    from what is stored: a cycle that checks everything writes nothing.  A project taken by
    the describer counts as reached only once all its jobs were described.  A flagged
    describe the deadline cut does not move the cursor back (the flagged jobs come from
    anywhere in what was listed, and going back would list the same projects again and
    starve the rest): the job is flagged again when its project is next listed, then with
    an older change than the new ones, so it goes first.  A project of the lister's own (the
    slice) whose new job's describe was cut is owed, though: it would otherwise be listed
    again only when its slice comes round.  So is one the describer took past the lister's
    reach in a cycle that left a backlog: its jobs in progress were described, but only a list
    finds a new job, and at its slice's next turn it would be past the lister's reach again.
    (A cycle that checked everything owes nothing: its slice fitted, bar a call or two at the
    edge, and the next turn lists it.)"""
    owed = tuple(
        p.name
        for p in own
        if not outcome.reached(p.name) or p.name in outcome.new_left or p.name in outcome.described
    )
    cursor = next((p.name for p in ring if not outcome.reached(p.name)), None)
    if inv.report.backlog:
        since = old.backlog_since or inv.report.started_at
        inv.report.oldest_check_age_seconds = max(0.0, (inv.clock() - since).total_seconds())
        new = Rotation(owed=owed, active_cursor=cursor or old.active_cursor, backlog_since=since)
    else:
        new = Rotation()
    if new != old:
        inv.store.save_rotation(new)


def _remember_projects(
    inv: Invocation, records: dict[str, ProjectRecord], outcome: Outcome, first_scan: set[str]
) -> None:
    """Count each project's consecutive failures; a project whose first scan could not be
    completed (listing failed, a write failed, the deadline cut a describe) stays pending."""
    updated: dict[str, ProjectRecord] = {}
    for name in outcome.failed:
        old = records.get(name, ProjectRecord(name))
        updated[name] = replace(
            old,
            failures=old.failures + 1,
            baseline_pending=old.baseline_pending or name in first_scan,
        )
    for name in outcome.listed:
        old = records.get(name, ProjectRecord(name))
        incomplete = name in inv.skipped or name in inv.write_failed
        pending = name in first_scan and incomplete and not inv.report.baseline
        # During the first scan a project cut by the deadline is continued from the cursor;
        # one whose write failed is set aside as pending, so it cannot hold back the others.
        if inv.report.baseline and name in inv.write_failed:
            pending = True
        updated[name] = replace(old, failures=0, baseline_pending=pending)
    for name, record in updated.items():
        if record != records.get(name, ProjectRecord(name)):
            inv.store.save_project_record(record)
        records[name] = record
    inv.report.project_failure_streak = max((r.failures for r in records.values()), default=0)


def _measure(inv: Invocation, order: list[Project], outcome: Outcome) -> None:
    """Coverage (projects checked of those due, jobs described of those flagged) and the
    backlog (what is left for the next cycle)."""
    report = inv.report
    unreached = sum(1 for p in order if not outcome.reached(p.name))
    report.backlog = unreached + inv.skipped_jobs
    covered = len(outcome.listed) + len(outcome.described)
    ratios = []
    if order:
        ratios.append(covered / len(order))
    if outcome.due_jobs:
        ratios.append(min(1.0, report.jobs_described / outcome.due_jobs))
    report.coverage_percent = 100.0 * min(ratios, default=1.0)
    if report.baseline and report.deadline_reached and report.backlog:
        report.baseline_cut = True


def advance_baseline(inv: Invocation, chosen: list[Project], outcome: Outcome) -> None:
    """Mark the first scan complete, or remember the last project it covered.  A project is
    covered once its jobs were all recorded, or once it was set aside as pending (its listing
    or a write failed): a project that cannot be read never holds back the others."""
    done = None
    for project in chosen:
        name = project.name
        if not outcome.reached(name) or (name in inv.skipped and name not in inv.write_failed):
            break
        done = name
    if done is not None and done == chosen[-1].name:
        inv.store.mark_initialized(inv.clock())
        log.info("baseline complete", extra={"projects": len(outcome.listed)})
    elif not chosen and not inv.report.listing_denied and inv.report.listing_complete:
        inv.store.mark_initialized(inv.clock())
    elif done is not None:
        inv.store.save_baseline_cursor(done)
        log.info("baseline continues next cycle", extra={"through": done})
