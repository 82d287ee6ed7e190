"""Fleets larger than one period's rate budget, the multi-cycle baseline, and the watch loop."""

from __future__ import annotations

from datetime import timedelta

from lfv_monitor.domain.cycle import CyclePolicy, PollCycle
from lfv_monitor.domain.models import ChangeType
from tests.fakes import FakeClock, FakeJobSource, FakePublisher, InMemorySnapshotStore


def make(
    policy: CyclePolicy,
    source: FakeJobSource,
    store: InMemorySnapshotStore | None = None,
    clock: FakeClock | None = None,
) -> tuple[PollCycle, InMemorySnapshotStore, FakePublisher]:
    store = store or InMemorySnapshotStore()
    events = FakePublisher("events")
    clock = clock or FakeClock()
    cycle = PollCycle(
        source,
        store,
        [events],
        clock=clock,
        policy=policy,
        monotonic=lambda: clock.now.timestamp(),  # type: ignore[union-attr]  # noqa: PLW0108
        sleep=clock.advance,
    )  # type: ignore[union-attr]
    return cycle, store, events


def listed_projects(source: FakeJobSource) -> list[str]:
    return [c.split(" ", 1)[1] for c in source.calls if c.startswith("ListModel")]


def test_a_fleet_beyond_the_budget_is_scanned_in_rotating_slices() -> None:
    source = FakeJobSource()
    for p in range(10):
        source.set(f"p{p:02d}", "done", "SUCCEEDED")
    source.set("p07", "busy", "RUNNING")
    clock = FakeClock()
    cycle, store, _ = make(CyclePolicy(list_budget=3), source, clock=clock)
    cycle.run()  # the baseline lists everything
    assert store.is_initialized()
    seen: set[str] = set()
    for _ in range(4):
        clock.advance(60)
        source.calls.clear()
        report = cycle.run()
        others = [p for p in listed_projects(source) if p != "p07"]
        assert len(others) <= 3
        seen.update(listed_projects(source))
        # the project with a job in progress is listed every cycle, whatever the slice
        assert "ListModelPackagingJobs p07" in source.calls
        assert report.listing_complete
    assert seen == {f"p{p:02d}" for p in range(10)}


def test_a_new_job_is_discovered_within_one_rotation() -> None:
    source = FakeJobSource()
    for p in range(10):
        source.set(f"p{p:02d}", "done", "SUCCEEDED")
    clock = FakeClock()
    cycle, _, events = make(CyclePolicy(list_budget=3), source, clock=clock)
    cycle.run()
    source.set("p09", "new", "CREATED")
    for _ in range(4):  # ceil(10 / 3) periods
        clock.advance(60)
        cycle.run()
    assert [(c.key.job, c.change_type) for c in events.published] == [
        ("new", ChangeType.DISCOVERED)
    ]


def test_a_baseline_too_long_for_one_cycle_continues_where_it_stopped() -> None:
    source = FakeJobSource()
    for p in range(6):
        for j in range(3):
            source.set(f"p{p}", f"j{j}", "SUCCEEDED")
    clock = FakeClock()
    cycle, store, events = make(CyclePolicy(margin_seconds=1), source, clock=clock)
    budget = {"left": 0}

    def remaining() -> float:  # each call to the source costs one second
        return budget["left"] - len(source.calls)

    rounds = 0
    while not store.is_initialized():
        rounds += 1
        source.calls.clear()
        budget["left"] = 14
        report = cycle.run(remaining)
        assert report.baseline
        assert rounds < 20
    assert rounds > 1
    history = store.all_history()
    assert len(history) == 18 and {c.change_type for c in history} == {ChangeType.BASELINE}
    assert len({c.key for c in history}) == 18  # nobody recorded twice
    assert events.published == []
    clock.advance(60)
    source.set("p5", "late", "FAILED", "oops")
    cycle.run()
    assert [c.key.job for c in events.published] == ["late"]


def test_the_watch_loop_sees_a_change_within_the_interval() -> None:
    source = FakeJobSource()
    source.set("widgets", "cam", "RUNNING", "compiling")
    source.set("widgets", "done", "SUCCEEDED")
    clock = FakeClock()
    cycle, _, events = make(
        CyclePolicy(watch_interval=10, period_seconds=60, margin_seconds=5), source, clock=clock
    )
    cycle.run()  # baseline: no watching
    clock.advance(60)
    start = clock.now
    sleeps: list[float] = []
    original = clock.advance

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        original(seconds)
        if clock.now - start >= timedelta(seconds=20):
            source.set("widgets", "cam", "SUCCEEDED", "done", at=clock.now)

    cycle._sleep = sleep
    source.calls.clear()
    report = cycle.run()
    assert report.watch_rounds == 2 and sleeps == [10, 10]
    (change,) = events.published
    assert change.status == "SUCCEEDED"
    assert change.observed_at - start == timedelta(seconds=20)
    # the scan and the watch listed only the project with a job in progress, and described
    # only what moved
    assert source.calls.count("DescribeModelPackagingJob widgets/cam") == 1
    assert "DescribeModelPackagingJob widgets/done" not in source.calls


def test_the_watch_stops_before_the_next_tick_and_when_nothing_is_in_progress() -> None:
    source = FakeJobSource()
    source.set("widgets", "cam", "RUNNING", "compiling")
    clock = FakeClock()
    cycle, _, _ = make(
        CyclePolicy(watch_interval=10, period_seconds=60, margin_seconds=5), source, clock=clock
    )
    cycle.run()
    clock.advance(60)
    start = clock.now
    report = cycle.run()
    # rounds at 10, 20, 30, 40, 50 s, and a last one at 55 s, the margin before the next tick
    assert report.watch_rounds == 6
    assert clock.now - start == timedelta(seconds=55)
    source.set("widgets", "cam", "SUCCEEDED")
    clock.advance(20)
    report = cycle.run()
    assert report.watch_rounds == 0  # nothing in progress after the cycle: return at once


def test_full_scan_periods_spread_the_listing_but_jobs_in_progress_stay_checked() -> None:
    source = FakeJobSource()
    for p in range(20):
        source.set(f"p{p:02d}", "done", "SUCCEEDED")
    source.set("p13", "busy", "RUNNING")
    clock = FakeClock()
    cycle, _, _ = make(CyclePolicy(list_budget=100, full_scan_periods=4), source, clock=clock)
    cycle.run()  # the baseline lists everything
    seen: set[str] = set()
    for _ in range(4):
        clock.advance(60)
        source.calls.clear()
        cycle.run()
        others = [p for p in listed_projects(source) if p != "p13"]
        assert len(others) in (4, 5)  # 20 projects over 4 periods
        assert "ListModelPackagingJobs p13" in source.calls  # in progress: every period
        seen.update(listed_projects(source))
    assert len(seen) == 20


def test_snapshots_are_read_in_full_batches_of_100() -> None:
    source = FakeJobSource()
    for p in range(35):  # 35 projects x 7 jobs = 245 jobs: 3 reads of 100, 100, 45
        for j in range(7):
            source.set(f"p{p:02d}", f"j{j}", "SUCCEEDED")
    cycle, store, _ = make(CyclePolicy(), source)
    cycle.run()
    store.batch_reads = 0
    reads: list[int] = []
    get_jobs = store.get_jobs

    def counting(keys):  # type: ignore[no-untyped-def]
        reads.append(len(keys))
        return get_jobs(keys)

    store.get_jobs = counting  # type: ignore[method-assign]
    cycle.run()
    assert reads == [100, 100, 45]
