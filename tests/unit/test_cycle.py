"""The poll cycle's semantics, over in-memory fakes."""

from __future__ import annotations

import pytest

from lfv_monitor.domain.cycle import PollCycle
from lfv_monitor.domain.errors import (
    AccessDeniedError,
    ServiceUnreachableError,
    ThrottledError,
)
from lfv_monitor.domain.events import event_id_for
from lfv_monitor.domain.models import ChangeType, JobKey
from lfv_monitor.domain.targets import Scope
from tests.fakes import FakeClock, FakeJobSource, FakePublisher, InMemorySnapshotStore


class World:
    def __init__(self) -> None:
        self.source = FakeJobSource()
        self.store = InMemorySnapshotStore()
        self.events = FakePublisher("events")
        self.sns = FakePublisher("sns")
        self.clock = FakeClock()
        self.cycle = PollCycle(self.source, self.store, [self.events, self.sns], clock=self.clock)

    def run(self, **kwargs: object):  # type: ignore[no-untyped-def]
        self.clock.advance(60)
        self.source.calls.clear()
        return self.cycle.run(**kwargs)  # type: ignore[arg-type]


@pytest.fixture
def world() -> World:
    return World()


def test_first_cycle_records_a_baseline_and_announces_nothing(world: World) -> None:
    world.source.set("widgets", "done", "SUCCEEDED", "ok")
    world.source.set("widgets", "busy", "RUNNING", "compiling")
    report = world.run()
    assert report.baseline
    assert {c.change_type for c in report.recorded} == {ChangeType.BASELINE}
    assert len(world.store.all_history()) == 2
    assert world.events.published == [] and world.sns.published == []
    assert world.store.is_initialized()


def test_idle_cycle_lists_jobs_in_progress_describes_nothing_and_writes_nothing(
    world: World,
) -> None:
    world.source.set("widgets", "done", "SUCCEEDED", "ok")
    world.source.set("widgets", "busy", "RUNNING", "compiling")
    world.run()
    writes = world.store.writes
    report = world.run()
    # the list already says the job in progress has not moved: no describe is spent on it
    assert "ListModelPackagingJobs widgets" in world.source.calls
    assert world.source.describes() == []
    assert report.recorded == [] and world.store.writes == writes
    assert world.events.calls == 0


def test_status_change_is_recorded_and_announced_once_on_each_channel(world: World) -> None:
    world.source.set("widgets", "cam-7", "RUNNING", "compiling")
    world.run()
    world.source.set("widgets", "cam-7", "FAILED", "out of memory")
    report = world.run()
    (change,) = report.recorded
    assert change.change_type is ChangeType.STATUS
    assert (change.previous_status, change.status) == ("RUNNING", "FAILED")
    assert (change.previous_status_message, change.status_message) == ("compiling", "out of memory")
    assert change.is_terminal
    assert [c.event_id for c in world.events.published] == [change.event_id]
    assert [c.event_id for c in world.sns.published] == [change.event_id]
    world.run()
    assert len(world.events.published) == 1  # nothing more: the job is terminal


def test_message_only_change_is_its_own_change_type(world: World) -> None:
    world.source.set("widgets", "cam", "RUNNING", "step 1/3")
    world.run()
    world.source.set("widgets", "cam", "RUNNING", "step 2/3")
    (change,) = world.run().recorded
    assert change.change_type is ChangeType.STATUS_MESSAGE
    assert change.skipped_states == ()


def test_last_updated_alone_is_not_a_change(world: World) -> None:
    world.source.set("widgets", "cam", "SUCCEEDED", "done")
    world.run()
    world.clock.advance(1)
    world.source.set("widgets", "cam", "SUCCEEDED", "done", at=world.clock.now)
    report = world.run()
    assert report.recorded == [] and world.events.published == []
    assert world.source.describes() == ["widgets/cam"]
    world.run()
    assert world.source.describes() == []  # the new timestamp was remembered


def test_new_job_after_baseline_is_discovered_with_skipped_states(world: World) -> None:
    world.source.set("widgets", "old", "SUCCEEDED")
    world.run()
    world.source.set("gadgets", "flash", "FAILED", "bad model")  # started and failed in between
    (change,) = world.run().recorded
    assert change.change_type is ChangeType.DISCOVERED
    assert change.previous_status is None
    assert change.skipped_states == ("CREATED", "RUNNING")
    assert world.events.published == [change]


def test_skipped_running_between_two_cycles(world: World) -> None:
    world.source.set("widgets", "quick", "CREATED")
    world.run()
    world.source.set("widgets", "quick", "SUCCEEDED")
    (change,) = world.run().recorded
    assert change.skipped_states == ("RUNNING",)


def test_job_that_finished_and_vanished_from_the_list_is_still_described(world: World) -> None:
    world.source.set("widgets", "cam", "RUNNING")
    world.run()
    del world.source.projects["widgets"]  # project deleted: the job is gone
    (change,) = world.run().recorded
    assert change.change_type is ChangeType.REMOVED
    assert change.previous_status == "RUNNING"
    world.run()
    assert world.source.describes() == []  # no longer polled


def test_unknown_status_is_kept_and_treated_as_in_progress(world: World) -> None:
    world.source.set("widgets", "cam", "RUNNING")
    world.run()
    world.source.set("widgets", "cam", "PAUSED")
    (change,) = world.run().recorded
    assert change.status == "PAUSED" and not change.is_terminal
    world.run()
    assert world.source.calls == ["ListProjects", "ListModelPackagingJobs widgets"]
    world.source.set("widgets", "cam", "SUCCEEDED")
    (change,) = world.run().recorded
    assert (change.previous_status, change.status) == ("PAUSED", "SUCCEEDED")


def test_missing_fields_do_not_crash(world: World) -> None:
    world.source.set("widgets", "cam", None, None)
    world.run()
    world.source.set("widgets", "cam", "SUCCEEDED", None)
    (change,) = world.run().recorded
    assert (change.previous_status, change.status) == (None, "SUCCEEDED")


@pytest.mark.parametrize("error", [AccessDeniedError("no"), ThrottledError("slow down")])
def test_an_error_on_one_project_does_not_stop_the_others(world: World, error: Exception) -> None:
    world.source.set("a", "j1", "RUNNING")
    world.source.set("b", "j2", "RUNNING")
    world.run()
    world.source.set("a", "j1", "SUCCEEDED")
    world.source.set("b", "j2", "SUCCEEDED")
    world.source.errors["a/j1"] = error
    report = world.run()
    assert [str(c.key) for c in report.recorded] == ["b/j2"]
    assert sum(report.errors.values()) == 1
    del world.source.errors["a/j1"]
    assert [str(c.key) for c in world.run().recorded] == ["a/j1"]


def test_unreachable_service_ends_the_cycle_early(world: World) -> None:
    world.source.errors["*list"] = ServiceUnreachableError("connection refused")
    report = world.run()
    assert report.unreachable and not report.succeeded
    assert world.source.calls == ["ListProjects"]
    assert not world.store.is_initialized()


def test_failed_publish_stays_in_the_outbox_and_is_delivered_next_cycle(world: World) -> None:
    world.source.set("widgets", "cam", "RUNNING")
    world.run()
    world.source.set("widgets", "cam", "SUCCEEDED")
    world.events.fail_next = 1
    report = world.run()
    assert report.publish_failures["events"] == 1
    assert len(world.sns.published) == 1 and world.events.published == []
    report = world.run()
    assert report.outbox_retried == 1
    assert len(world.events.published) == 1
    assert len(world.sns.published) == 1  # SNS had it already: not sent twice
    assert world.store.outbox == {}


def test_two_cycles_racing_on_one_change_record_and_announce_it_once(world: World) -> None:
    world.source.set("widgets", "cam", "RUNNING")
    world.run()
    world.source.set("widgets", "cam", "FAILED", "boom")
    other = PollCycle(world.source, world.store, [world.events, world.sns], clock=world.clock)
    record = world.store.record

    def record_after_the_other_cycle(change, expected):  # type: ignore[no-untyped-def]
        world.store.record = record  # type: ignore[method-assign]
        other.run()  # the overlapping invocation wins between our read and our write
        return record(change, expected)

    world.store.record = record_after_the_other_cycle  # type: ignore[method-assign]
    report = world.cycle.run()
    assert report.lost_races == 1 and report.recorded == []
    assert len(world.store.history[JobKey("widgets", "cam")]) == 2  # baseline + FAILED
    assert len(world.events.published) == 1 and len(world.sns.published) == 1


def test_deadline_stops_starting_work_and_the_rest_comes_next_cycle(world: World) -> None:
    for i in range(5):
        world.source.set("widgets", f"j{i}", "RUNNING")
    world.run()
    for i in range(5):
        world.source.set("widgets", f"j{i}", "SUCCEEDED")
    # Given time for about four calls before the margin (each call costs one second)
    world.source.calls.clear()
    report = world.cycle.run(lambda: 14 - len(world.source.calls), margin_seconds=10)
    assert report.deadline_reached
    assert 0 < len(report.recorded) < 5
    assert report.backlog == 5 - len(report.recorded) and report.health == "partial"
    report2 = world.run()
    assert len(report.recorded) + len(report2.recorded) == 5
    assert report2.health == "healthy" and report2.backlog == 0


def test_an_overlapping_invocation_does_not_republish_fresh_changes(world: World) -> None:
    """Invocation B starts while A has recorded but not yet published: B leaves A's entries."""
    world.source.set("widgets", "cam", "RUNNING")
    world.run()
    world.source.set("widgets", "cam", "FAILED", "boom")
    other = PollCycle(world.source, world.store, [world.events, world.sns], clock=world.clock)
    publish = world.events.publish

    def publish_after_b_started(changes):  # type: ignore[no-untyped-def]
        world.events.publish = publish  # type: ignore[method-assign]
        report = other.run()  # B: same moment, same store
        assert report.outbox_retried == 0
        return publish(changes)

    world.events.publish = publish_after_b_started  # type: ignore[method-assign]
    world.run()
    assert len(world.events.published) == 1 and len(world.sns.published) == 1


def test_entries_of_a_dead_invocation_are_retried_once_its_lease_is_over(world: World) -> None:
    world.source.set("widgets", "cam", "RUNNING")
    world.run()
    world.source.set("widgets", "cam", "SUCCEEDED")
    # Given an invocation that recorded the change and died before publishing
    dead = PollCycle(world.source, world.store, [], clock=world.clock)
    world.clock.advance(60)
    dead.run()
    assert len(world.store.outbox) == 1
    # When the next invocations run, the entry is retried once the writer's lease is over
    assert world.cycle.run().outbox_retried == 0  # same moment: still the writer's
    world.clock.advance(60)
    assert world.cycle.run().outbox_retried == 1
    assert len(world.events.published) == 1 and len(world.sns.published) == 1
    assert world.store.outbox == {}


def test_two_retrying_invocations_claim_each_entry_once(world: World) -> None:
    world.source.set("widgets", "cam", "RUNNING")
    world.run()
    world.source.set("widgets", "cam", "SUCCEEDED")
    dead = PollCycle(world.source, world.store, [], clock=world.clock)
    dead.run()
    world.clock.advance(120)
    other = PollCycle(world.source, world.store, [world.events, world.sns], clock=world.clock)
    claim = world.store.claim

    def claim_after_the_other(ids, channel, now):  # type: ignore[no-untyped-def]
        world.store.claim = claim  # type: ignore[method-assign]
        other.run()  # B claims and publishes first
        return claim(ids, channel, now)

    world.store.claim = claim_after_the_other  # type: ignore[method-assign]
    world.cycle.run()
    assert len(world.events.published) == 1 and len(world.sns.published) == 1


def test_a_failed_write_is_retried_next_cycle_and_does_not_stop_the_others(world: World) -> None:
    from lfv_monitor.domain.errors import StoreError

    world.source.set("widgets", "a", "RUNNING")
    world.source.set("widgets", "b", "RUNNING")
    world.run()
    world.source.set("widgets", "a", "SUCCEEDED")
    world.source.set("widgets", "b", "FAILED", "boom")
    record = world.store.record
    calls = {"n": 0}

    def record_then_fail(change, expected):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:
            raise StoreError("DynamoDB TransactWriteItems failed: InternalServerError")
        return record(change, expected)

    world.store.record = record_then_fail  # type: ignore[method-assign]
    report = world.run()
    # Then the cycle says the store failed, and the change it could record is announced
    assert report.health == "store" and not report.succeeded
    assert report.write_failures == 1 and report.errors["StoreError"] == 1
    assert [c.key.job for c in world.events.published] == ["a"]
    # And the next cycle records the one that failed
    world.store.record = record  # type: ignore[method-assign]
    assert world.run().health == "healthy"
    assert sorted(c.key.job for c in world.events.published) == ["a", "b"]


def test_a_store_that_cannot_be_read_ends_the_cycle_with_health_store(world: World) -> None:
    from lfv_monitor.domain.errors import StoreError

    world.source.set("widgets", "a", "RUNNING")

    def missing_table() -> bool:
        raise StoreError("DynamoDB get_item on lfv failed: ResourceNotFoundException")

    world.store.is_initialized = missing_table  # type: ignore[method-assign]
    report = world.run()
    assert report.store_failed and report.health == "store" and not report.succeeded


# -- issue 15: the job's account and region ----------------------------------------------------


def _scoped(scope: Scope) -> World:
    world = World()
    world.cycle = PollCycle(
        world.source, world.store, [world.events, world.sns], clock=world.clock, scope=scope
    )
    return world


def _announced_change_in(scope: Scope):  # type: ignore[no-untyped-def]
    world = _scoped(scope)
    world.source.set("widgets", "cam-7", "RUNNING", "compiling")
    world.run()
    world.source.set("widgets", "cam-7", "FAILED", "out of memory")
    (change,) = world.run().recorded
    assert [c.event_id for c in world.events.published] == [change.event_id]
    return change, world


def test_changes_carry_the_targets_account_and_region_and_home_ids_do_not_change() -> None:
    # Given the same job changing in the home target and in a member target
    home, _ = _announced_change_in(Scope("123456789012", "us-east-1"))
    member, _ = _announced_change_in(Scope("111111111111", "eu-west-1", qualified=True))
    # Then each names its account and region
    assert (home.account, home.region) == ("123456789012", "us-east-1")
    assert (member.account, member.region) == ("111111111111", "eu-west-1")
    # and the home target's event id is the single-account version's, the member's its own
    assert home.event_id == event_id_for(home.key, home.version, "FAILED", "out of memory")
    assert member.event_id != home.event_id


def test_a_change_retried_from_the_outbox_is_announced_with_its_account_and_region() -> None:
    # Given a home-target change whose first publish failed (its item names no account)
    world = _scoped(Scope("123456789012", "us-east-1"))
    world.source.set("widgets", "cam", "RUNNING")
    world.run()
    world.source.set("widgets", "cam", "SUCCEEDED")
    world.events.fail_next = 1
    world.run()
    # When the next cycle retries it
    world.run()
    # Then it is announced as the home target's job
    (retried,) = world.events.published
    assert (retried.account, retried.region) == ("123456789012", "us-east-1")
