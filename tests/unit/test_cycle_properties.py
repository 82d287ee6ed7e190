"""Property: whatever the job timelines and the cycle times, the recorded history is exactly the
sequence of distinct states observable at the cycle times: no duplicates, no transition missed."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from lfv_monitor.domain.cycle import PollCycle
from lfv_monitor.domain.models import ChangeType, JobKey
from tests.fakes import T0, FakeClock, FakeJobSource, FakePublisher, InMemorySnapshotStore

STATUSES = st.sampled_from(["CREATED", "RUNNING", "SUCCEEDED", "FAILED", "PAUSED"])
MESSAGES = st.sampled_from([None, "", "step 1", "step 2", "done", "ünïcode ✓"])
Step = tuple[int, str, str | None]


@st.composite
def timelines(draw: st.DrawFn) -> dict[JobKey, list[Step]]:
    jobs = draw(st.integers(1, 4))
    result: dict[JobKey, list[Step]] = {}
    for i in range(jobs):
        start = draw(st.integers(0, 300))
        gaps = draw(st.lists(st.integers(1, 120), min_size=0, max_size=5))
        times = [start]
        for gap in gaps:
            times.append(times[-1] + gap)
        steps = [(t, draw(STATUSES), draw(MESSAGES)) for t in times]
        result[JobKey(f"p{i % 2}", f"job-{i}")] = steps
    return result


def state_at(steps: list[Step], t: int) -> tuple[str, str | None] | None:
    reached = [s for s in steps if s[0] <= t]
    return (reached[-1][1], reached[-1][2]) if reached else None


@settings(max_examples=150, deadline=None)
@given(
    jobs=timelines(),
    cycle_times=st.lists(st.integers(0, 1000), min_size=1, max_size=12, unique=True).map(sorted),
)
def test_history_is_the_distinct_states_seen_at_cycle_times(
    jobs: dict[JobKey, list[Step]], cycle_times: list[int]
) -> None:
    source = FakeJobSource()
    store = InMemorySnapshotStore()
    events, sns = FakePublisher("events"), FakePublisher("sns")
    clock = FakeClock()
    cycle = PollCycle(source, store, [events, sns], clock=clock)

    for t in cycle_times:
        clock.now = T0 + timedelta(seconds=t)
        source.projects.clear()
        for key, steps in jobs.items():
            reached = [s for s in steps if s[0] <= t]
            if reached:
                at, status, message = reached[-1]
                source.set(key.project, key.job, status, message, T0 + timedelta(seconds=at))
        cycle.run()

    for key, steps in jobs.items():
        observed: list[tuple[str, str | None]] = []
        for t in cycle_times:
            state = state_at(steps, t)
            if state is not None and (not observed or observed[-1] != state):
                observed.append(state)
        recorded = store.history.get(key, [])
        assert [(c.status, c.status_message) for c in recorded] == observed
        # announced exactly once each, on each channel, and never the baseline
        announced = [c for c in recorded if c.change_type is not ChangeType.BASELINE]
        for publisher in (events, sns):
            ids = [c.event_id for c in publisher.published if c.key == key]
            assert ids == [c.event_id for c in announced]
    assert len({c.event_id for c in events.published}) == len(events.published)
    assert store.outbox == {}
