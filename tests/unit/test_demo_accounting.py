"""The demo's count of the changes the simulator made, which its summary holds the monitor to."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

from lfv_workbench.demo.accounting import ChangeId, DemoResult, Notification, simulator_changes
from lfv_workbench.demo.engine import cycle_offsets, demo_faults
from lfv_workbench.demo.lanes import Lanes, lanes_from_template
from lfv_workbench.local.template import load_template
from lfv_workbench.simulator import demo_scenario_path, load_scenario_file, parse_scenario


def _job(project: str, job: str, *steps: tuple[float, str, str]) -> dict[str, Any]:
    return {
        "project": project,
        "job": job,
        "history": [{"at": at, "status": s, "message": m} for at, s, m in steps],
    }


def _state(*jobs: dict[str, Any], appears_at: float = 0) -> dict[str, Any]:
    return {
        "projects": [{"name": "p", "appears_at": appears_at, "deleted_at": None}],
        "jobs": list(jobs),
    }


def _scenario(deleted: dict[str, float] | None = None) -> Any:
    deleted = deleted or {}
    jobs = [
        {"name": n, "timeline": [{"at": 0, "status": "CREATED"}], "deleted_at": deleted.get(n)}
        for n in ("a", "b")
    ]
    return parse_scenario({"projects": [{"name": "p", "jobs": jobs}]})


def test_the_baseline_is_silent_and_each_distinct_state_after_it_counts_once() -> None:
    state = _state(
        _job("p", "a", (0, "CREATED", "c"), (60, "RUNNING", "r1"), (70, "RUNNING", "r2")),
        _job("p", "b", (100, "CREATED", "c"), (110, "FAILED", "x")),
    )
    changes = simulator_changes(state, _scenario(), [30, 90, 150], baseline_at=30)
    # a: RUNNING r1 never seen at a cycle time (r2 replaced it first); b: first seen failed
    assert sorted(changes.elements()) == [
        ("p", "a", "RUNNING", "r2"),
        ("p", "b", "FAILED", "x"),
    ]


def test_a_job_deleted_in_progress_is_removed_but_a_finished_one_stays_final() -> None:
    state = _state(
        _job("p", "a", (0, "RUNNING", "r")),
        _job("p", "b", (0, "SUCCEEDED", "done")),
    )
    scenario = _scenario(deleted={"a": 50, "b": 50})
    changes = simulator_changes(state, scenario, [30, 90, 150], baseline_at=30)
    assert list(changes.elements()) == [("p", "a", "REMOVED", None)]


def test_cycles_cover_the_scenario_and_two_more_and_the_quota_is_lifted() -> None:
    scenario = load_scenario_file(demo_scenario_path())
    offsets = cycle_offsets(scenario)
    assert offsets[0] == 30 and all(b - a == 60 for a, b in pairwise(offsets))
    assert offsets[-3] >= 660 > offsets[-4]  # the last scripted moment, then two cycles
    faults = demo_faults(scenario)
    assert faults["*"]["rate_per_second"] is None
    assert faults["*"]["throttle_windows"] == [{"from": 540, "to": 600}]


ROOT = Path(__file__).resolve().parents[2]


def _notification(status: str, attribute: str | None = None) -> Notification:
    detail = {"projectName": "p", "jobName": "j", "status": status, "statusMessage": None}
    return Notification(
        subject=f"{status}: j",
        detail=detail,
        attributes={"status": attribute or status},
        email="",
        chat_title="",
        chat_description="",
    )


def test_the_lanes_follow_the_templates_filters_not_a_list_of_their_own() -> None:
    # Given template.yaml, read as the local stack deploys it (its defaults)
    template = load_template(ROOT / "template.yaml")["Parameters"]
    lanes = lanes_from_template(ROOT / "template.yaml")
    # Then the email lane is NotifyStatuses and the chat lane ChatStatuses, as declared
    assert lanes.email == tuple(template["NotifyStatuses"]["Default"].split(","))
    assert lanes.chat == tuple(template["ChatStatuses"]["Default"].split(","))
    assert "NotifyStatuses" in lanes.email_filter() and "ChatStatuses" in lanes.chat_filter()
    # And a stack given other statuses gets lanes with those
    every = "CREATED,RUNNING,SUCCEEDED,FAILED,REMOVED"
    assert lanes_from_template(ROOT / "template.yaml", {"ChatStatuses": every}).chat == tuple(
        every.split(",")
    )


def test_email_matches_the_status_attribute_and_chat_the_events_status() -> None:
    lanes = Lanes(email=("FAILED",), chat=("SUCCEEDED", "FAILED"))
    assert lanes.to_email(_notification("FAILED"))
    assert not lanes.to_email(_notification("RUNNING"))
    # SNS filters on the message attribute, the chat rule on the event's detail
    assert not lanes.to_email(_notification("FAILED", attribute="None"))
    assert lanes.to_chat(_notification("SUCCEEDED", attribute="x"))
    assert not lanes.to_chat(_notification("CREATED"))


def _result(**lanes_delivered: Counter[ChangeId]) -> DemoResult:
    changes: Counter[ChangeId] = Counter(
        {
            ("p", "a", "RUNNING", None): 1,
            ("p", "a", "FAILED", "x"): 1,
            ("p", "b", "REMOVED", None): 1,
        }
    )
    return DemoResult(
        cycles=[],
        simulator=changes,
        recorded=Counter(changes),
        events=Counter(changes),
        notifications=Counter(changes),
        duplicate_events=0,
        duplicate_notifications=0,
        history_key=None,
        history=[],
        start_time=datetime(2026, 11, 1, tzinfo=UTC),
        lanes=Lanes(email=("SUCCEEDED", "FAILED"), chat=("FAILED", "REMOVED")),
        **lanes_delivered,
    )


def test_each_lane_must_show_exactly_the_changes_its_filter_passes() -> None:
    # Given 3 changes, of which email passes 1 and chat 2
    exact = _result(
        emails=Counter({("p", "a", "FAILED", "x"): 1}),
        chats=Counter({("p", "a", "FAILED", "x"): 1, ("p", "b", "REMOVED", None): 1}),
    )
    # Then lanes showing exactly those match, and the summary says what each lane filters
    assert exact.match, exact.differences()
    assert exact.summary()["lanes"] == {
        "email": {"statuses": ["SUCCEEDED", "FAILED"], "delivered": 1},
        "chat": {"statuses": ["FAILED", "REMOVED"], "delivered": 2},
    }
    assert exact.summary()["changes"]["notifications"] == 3  # the topic still carries all
    # And an email the filter would drop, or a chat message missing, is a mismatch
    leaky = _result(
        emails=Counter({("p", "a", "FAILED", "x"): 1, ("p", "a", "RUNNING", None): 1}),
        chats=Counter({("p", "a", "FAILED", "x"): 1}),
    )
    assert not leaky.match
    assert leaky.differences() == [
        "email lane: unexpected p/a RUNNING",
        "chat lane: missing p/b REMOVED",
    ]
