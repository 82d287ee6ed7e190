"""One health verdict per cycle, and partial failure that never blocks the rest (issue 12,
points 1 and 2), over in-memory fakes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lfv_monitor.bootstrap import Monitor
from lfv_monitor.config import Settings
from lfv_monitor.domain.cycle import CyclePolicy, CycleReport, PollCycle
from lfv_monitor.domain.errors import AccessDeniedError, StoreError, ThrottledError
from lfv_monitor.domain.models import ChangeType, JobKey
from lfv_monitor.handlers.poll import lambda_handler
from lfv_monitor.lambda_context import LocalContext, scheduled_event
from lfv_monitor.observability import metrics
from tests.fakes import FakeClock, FakeJobSource, FakePublisher, InMemorySnapshotStore


class World:
    def __init__(self, policy: CyclePolicy | None = None) -> None:
        self.source = FakeJobSource()
        self.store = InMemorySnapshotStore()
        self.events = FakePublisher("events")
        self.clock = FakeClock()
        self.cycle = PollCycle(
            self.source, self.store, [self.events], clock=self.clock, policy=policy
        )

    def run(self, **kwargs: Any) -> CycleReport:
        self.clock.advance(60)
        self.source.calls.clear()
        return self.cycle.run(**kwargs)

    def announced(self) -> list[tuple[str, ChangeType]]:
        return [(str(c.key), c.change_type) for c in self.events.published]


@pytest.fixture
def world() -> World:
    return World()


def test_a_cycle_that_saw_everything_is_healthy(world: World) -> None:
    world.source.set("widgets", "cam", "RUNNING")
    world.run()
    report = world.run()
    assert report.health == "healthy" and report.succeeded
    assert report.coverage_percent == 100.0 and report.backlog == 0 and report.reason() == ""


def test_a_project_denied_in_the_first_scan_does_not_hold_back_the_others(world: World) -> None:
    # Given a first scan in which one project's ListModelPackagingJobs is denied
    world.source.set("denied", "old", "SUCCEEDED")
    world.source.set("open", "old", "SUCCEEDED")
    world.source.errors["denied"] = AccessDeniedError("explicit deny in an SCP")
    first = world.run()
    # Then the others' baseline completes, and the cycle says it is not healthy
    assert world.store.is_initialized()
    assert first.health == "denied" and not first.succeeded
    assert first.project_failure_streak == 1
    # When a job starts in a project that was scanned
    world.source.set("open", "new", "CREATED")
    second = world.run()
    # Then it is announced as DISCOVERED, while the denied project's streak keeps counting
    assert world.announced() == [("open/new", ChangeType.DISCOVERED)]
    assert second.health == "denied" and second.project_failure_streak == 2
    # When the denied project becomes readable
    del world.source.errors["denied"]
    third = world.run()
    # Then its jobs get their silent baseline (not announced) and the verdict is healthy again
    assert [c.change_type for c in third.recorded] == [ChangeType.BASELINE]
    assert world.announced() == [("open/new", ChangeType.DISCOVERED)]
    assert third.health == "healthy" and third.project_failure_streak == 0
    assert world.store.projects == {}
    # And a job started there later is DISCOVERED
    world.source.set("denied", "later", "RUNNING")
    world.run()
    assert world.announced()[-1] == ("denied/later", ChangeType.DISCOVERED)


def test_a_job_whose_write_keeps_failing_does_not_hold_back_the_first_scan(world: World) -> None:
    world.source.set("a", "poison", "SUCCEEDED")
    world.source.set("a", "fine", "SUCCEEDED")
    world.source.set("b", "fine", "SUCCEEDED")
    record = world.store.record

    def failing(change, expected):  # type: ignore[no-untyped-def]
        if change.key == JobKey("a", "poison"):
            raise StoreError("ValidationException: item too large")
        return record(change, expected)

    world.store.record = failing  # type: ignore[method-assign]
    first = world.run()
    assert world.store.is_initialized() and first.health == "store"
    assert first.reason().startswith("store:")
    # A new job elsewhere is announced while the failing write is retried every cycle
    world.source.set("b", "new", "RUNNING")
    second = world.run()
    assert world.announced() == [("b/new", ChangeType.DISCOVERED)]
    assert second.write_failures == 1
    # Once the write succeeds, the job is recorded silently, as the first scan would have
    world.store.record = record  # type: ignore[method-assign]
    third = world.run()
    assert [(str(c.key), c.change_type) for c in third.recorded] == [
        ("a/poison", ChangeType.BASELINE)
    ]
    assert third.health == "healthy" and world.store.projects == {}


def test_the_account_listing_denied_is_health_denied_and_no_baseline(world: World) -> None:
    world.source.set("widgets", "cam", "RUNNING")
    world.source.errors["*list"] = AccessDeniedError("no lookoutvision:ListProjects")
    report = world.run()
    assert report.health == "denied" and not world.store.is_initialized()


def test_a_job_that_could_not_be_described_makes_the_cycle_partial(world: World) -> None:
    world.source.set("widgets", "cam", "RUNNING")
    world.run()
    world.source.set("widgets", "cam", "SUCCEEDED", at=world.clock.now)
    world.source.errors["widgets/cam"] = ThrottledError("slow down")
    report = world.run()
    assert report.health == "partial" and report.coverage_percent < 100.0
    assert "Throttled 1" in report.reason()


def test_a_project_that_keeps_failing_is_counted_across_cycles(world: World) -> None:
    world.source.set("widgets", "cam", "RUNNING")
    world.run()
    world.source.errors["widgets"] = ThrottledError("slow down")
    streaks = [world.run().project_failure_streak for _ in range(3)]
    assert streaks == [1, 2, 3]
    del world.source.errors["widgets"]
    assert world.run().project_failure_streak == 0


def test_a_first_scan_cut_by_the_deadline_is_health_deadline(world: World) -> None:
    for p in range(4):
        world.source.set(f"p{p}", "j", "SUCCEEDED")
    left = iter([100, 100, 100, 5] + [5] * 50)
    report = world.run(remaining=lambda: next(left), margin_seconds=10)
    assert report.health == "deadline" and report.backlog > 0
    assert not world.store.is_initialized()


def test_items_set_aside_as_malformed_are_reported(world: World) -> None:
    world.source.set("widgets", "cam", "RUNNING")
    world.run()
    world.store.poisoned = 2
    report = world.run()
    # counted (PoisonItems, alarmed); every other job was still watched: the verdict stands
    assert report.poison_items == 2 and report.health == "healthy"
    assert world.run().poison_items == 0


SETTINGS = Settings.from_env(
    {"TABLE_NAME": "t-1", "EVENT_BUS_NAME": "bus", "TOPIC_ARN": "arn:aws:sns:us-east-1:1:t"}
)


def metrics_of(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    for line in capsys.readouterr().out.splitlines():
        if '"_aws"' in line and '"CycleSucceeded"' in line:
            blob: dict[str, Any] = json.loads(line)
            return blob
    raise AssertionError("no metrics were emitted")


def value(blob: dict[str, Any], name: str) -> float:
    v = blob[name]
    return float(v[0] if isinstance(v, list) else v)


def test_the_handler_emits_the_verdict_and_its_measures(
    world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    # Given no metric left over by an earlier invocation (Powertools keeps what was added on
    # its process-wide Metrics object while metrics are disabled)
    metrics.clear_metrics()
    monitor = Monitor(cycle=world.cycle, settings=SETTINGS)
    world.source.set("ok", "cam", "RUNNING")
    world.source.set("denied", "cam", "RUNNING")
    world.source.errors["denied"] = AccessDeniedError("no")
    summary = lambda_handler(scheduled_event(), LocalContext(), service=monitor)  # type: ignore[arg-type]
    blob = metrics_of(capsys)
    assert summary["health"] == "denied" and summary["succeeded"] is False
    assert value(blob, "CycleSucceeded") == 0
    assert value(blob, "ProjectFailureStreak") == 1
    assert value(blob, "Coverage") == 50.0
    for name in ("PoisonItems", "Backlog", "OldestCheckAgeSeconds"):
        assert name in blob
    dimensions = blob["_aws"]["CloudWatchMetrics"][0]["Dimensions"]
    assert dimensions == [["service"]]


def test_the_handler_reports_bad_configuration_as_health_config(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from lfv_monitor import bootstrap

    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    metrics.clear_metrics()
    monkeypatch.delenv("TABLE_NAME", raising=False)
    monkeypatch.setattr(bootstrap, "_monitor", None)
    summary = lambda_handler(scheduled_event(), LocalContext())  # type: ignore[arg-type]
    assert summary["health"] == "config" and "TABLE_NAME" in str(summary["configError"])
    assert value(metrics_of(capsys), "CycleSucceeded") == 0
