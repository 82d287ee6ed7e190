"""The dispatcher (issue 15): one message per target and period, failures named and counted."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from lfv_monitor.dispatch_config import DispatchSettings
from lfv_monitor.domain.dispatch import Dispatcher, MemberRoles, period_number
from lfv_monitor.domain.errors import AccessDeniedError, ConfigurationError
from lfv_monitor.domain.targets import parse_targets
from lfv_monitor.handlers.dispatch import lambda_handler, scheduled_time
from lfv_monitor.lambda_context import LocalContext
from lfv_monitor.observability import metrics
from tests.fakes import FakeOrganization, FakeTargetQueue

MONITOR = "123456789012"
OU = "ou-ab12-11111111"
AT = datetime(2026, 11, 30, 12, 0, 30, tzinfo=UTC)


def dispatcher(
    targets: str = f"{MONITOR}:eu-west-1,111111111111:eu-west-1",
    units: tuple[str, ...] = (),
    organization: FakeOrganization | None = None,
    queue: FakeTargetQueue | None = None,
) -> Dispatcher:
    return Dispatcher(
        static=parse_targets(targets),
        units=units,
        regions=("eu-west-1",),
        directory=organization,
        queue=queue if queue is not None else FakeTargetQueue(),
        roles=MemberRoles(MONITOR, "lfv-monitor-reader"),
        period_seconds=60,
    )


def test_each_target_gets_one_message_grouped_by_target_and_deduplicated_per_period() -> None:
    queue = FakeTargetQueue()
    report = dispatcher(queue=queue).dispatch(AT)
    period = period_number(AT, 60)
    assert [(m.group_id, m.deduplication_id) for m in queue.sent] == [
        (f"{MONITOR}:eu-west-1", f"{MONITOR}:eu-west-1#{period}"),
        ("111111111111:eu-west-1", f"111111111111:eu-west-1#{period}"),
    ]
    assert (report.dispatched, report.dispatch_failures) == (2, 0)


def test_the_message_names_the_target_the_period_and_the_role_none_for_the_own_account() -> None:
    queue = FakeTargetQueue()
    dispatcher(queue=queue).dispatch(AT)
    own, member = (m.body() for m in queue.sent)
    assert own == {
        "target": {"account": MONITOR, "region": "eu-west-1"},
        "period": period_number(AT, 60),
        "roleArn": None,
    }
    assert member["roleArn"] == "arn:aws:iam::111111111111:role/lfv-monitor-reader"


def test_a_second_dispatch_in_the_same_period_queues_nothing_new_and_the_next_one_does() -> None:
    queue = FakeTargetQueue()
    service = dispatcher(queue=queue)
    service.dispatch(AT)
    service.dispatch(AT.replace(second=59))
    assert len(queue.sent) == 2
    service.dispatch(AT.replace(minute=1))
    assert len(queue.sent) == 4


def test_a_target_the_queue_refuses_is_a_named_failure_and_the_others_are_queued() -> None:
    queue = FakeTargetQueue(refuse={"111111111111:eu-west-1"})
    report = dispatcher(queue=queue).dispatch(AT)
    assert report.dispatched == 1
    assert report.failures == ["111111111111:eu-west-1: not queued"]


def test_an_unreadable_unit_is_a_failure_and_the_static_targets_are_still_queued() -> None:
    organization = FakeOrganization(errors={OU: AccessDeniedError("AccessDeniedException")})
    report = dispatcher(units=(OU,), organization=organization).dispatch(AT)
    assert report.dispatched == 2
    assert report.dispatch_failures == 1
    assert OU in report.failures[0]


def test_resolving_no_target_at_all_is_a_failure_not_a_quiet_success() -> None:
    organization = FakeOrganization(accounts={OU: [("111111111111", "SUSPENDED")]})
    report = dispatcher(targets="", units=(OU,), organization=organization).dispatch(AT)
    assert report.dispatched == 0
    assert report.dispatch_failures == 1
    assert "nothing is watched" in report.failures[0]


def _emf(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    for line in capsys.readouterr().out.splitlines():
        if '"_aws"' in line and '"TargetsDispatched"' in line:
            blob: dict[str, Any] = json.loads(line)
            return blob
    raise AssertionError("no dispatch metrics were emitted")


def test_the_handler_dispatches_the_scheduled_period_and_emits_its_health(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # (`lfv-monitor poll` turns metrics off in its process; a test before this one may have run it)
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    # and no metric left over by an earlier invocation (Powertools keeps them process-wide)
    metrics.clear_metrics()
    queue = FakeTargetQueue(refuse={"111111111111:eu-west-1"})
    event = {"id": "e-1", "time": "2026-11-30T12:00:00Z", "detail-type": "Scheduled Event"}
    summary = lambda_handler(event, LocalContext(), service=dispatcher(queue=queue))
    assert summary["period"] == period_number(datetime(2026, 11, 30, 12, tzinfo=UTC), 60)
    blob = _emf(capsys)
    values = (blob["TargetsResolved"], blob["TargetsDispatched"], blob["DispatchFailures"])
    assert [float(v[0] if isinstance(v, list) else v) for v in values] == [2, 1, 1]
    dimensions = blob["_aws"]["CloudWatchMetrics"][0]["Dimensions"]
    assert dimensions == [["service"]]


def test_a_missing_or_bad_scheduled_time_means_now() -> None:
    before = datetime.now(UTC)
    assert scheduled_time({}) >= before
    assert scheduled_time({"time": "yesterday"}) >= before
    assert scheduled_time({"time": "2026-11-30T12:00:00"}).tzinfo is not None


# -- configuration --------------------------------------------------------------------------------
BASE = {
    "TARGET_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/q.fifo",
    "MONITOR_ACCOUNT_ID": MONITOR,
}


def test_settings_read_the_templates_variables() -> None:
    settings = DispatchSettings.from_env(
        {
            **BASE,
            "TARGETS": "111111111111:eu-west-1",
            "ORGANIZATIONAL_UNIT_IDS": OU,
            "TARGET_REGIONS": "eu-west-1,us-east-1",
            "MEMBER_ROLE_NAME": "reader",
            "SCHEDULE_EXPRESSION": "rate(5 minutes)",
        }
    )
    assert settings.units == (OU,)
    assert settings.regions == ("eu-west-1", "us-east-1")
    assert settings.member_role_name == "reader"
    assert settings.schedule_period_seconds == 300


def test_target_regions_default_to_the_functions_region() -> None:
    settings = DispatchSettings.from_env(
        {**BASE, "ORGANIZATIONAL_UNIT_IDS": OU, "AWS_REGION": "eu-central-1"}
    )
    assert settings.regions == ("eu-central-1",)
    assert settings.member_role_name == "lfv-monitor-reader"


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({}, "TARGET_QUEUE_URL is required"),
        ({**BASE}, "TARGETS or ORGANIZATIONAL_UNIT_IDS"),
        ({**BASE, "TARGETS": "1111:eu-west-1"}, "TARGETS entry '1111:eu-west-1'"),
        ({**BASE, "ORGANIZATIONAL_UNIT_IDS": "ou-bad"}, "ORGANIZATIONAL_UNIT_IDS entry 'ou-bad'"),
        (
            {**BASE, "TARGETS": "111111111111:eu-west-1", "MONITOR_ACCOUNT_ID": "1"},
            "MONITOR_ACCOUNT_ID",
        ),
        (
            {**BASE, "TARGETS": "111111111111:eu-west-1", "MEMBER_ROLE_NAME": "a b"},
            "MEMBER_ROLE_NAME",
        ),
    ],
)
def test_bad_settings_name_the_variable(environ: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigurationError, match=named):
        DispatchSettings.from_env(environ)
