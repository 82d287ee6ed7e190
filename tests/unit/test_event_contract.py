"""The event contract: detail shape, schema, size budget, subject rules, documented patterns."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto.events.models import EventPattern
from moto.sns.utils import FilterPolicyMatcher
from scripts.generate_event_examples import example_event, rendered_examples, sample_changes

from lfv_monitor.adapters.eventbridge import EventBridgePublisher
from lfv_monitor.adapters.eventbridge import entry_size as put_events_entry_size
from lfv_monitor.adapters.sns import SnsNotifier
from lfv_monitor.adapters.sns import entry_size as sns_entry_size
from lfv_monitor.domain.events import (
    DETAIL_MAX_BYTES,
    DETAIL_TYPE,
    PUT_EVENTS_MAX_BYTES,
    SNS_MAX_BYTES,
    build_detail,
    event_id_for,
    json_size,
    subject_for,
)
from lfv_monitor.domain.models import ChangeType, JobKey
from lfv_monitor.domain.notifications import sns_message
from tests.support.changes import make_change

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "events/schemas/job-state-change.schema.json").read_text())
VALIDATOR = jsonschema.Draft4Validator(SCHEMA)
DOCS = (ROOT / "docs/events.md").read_text(encoding="utf-8")
TOPIC = "arn:aws:sns:us-east-1:123456789012:lfv"


def documented(kind: str, name: str) -> dict[str, Any]:
    """The JSON block that follows ``<!-- kind: name -->`` in docs/events.md."""
    match = re.search(rf"<!-- {kind}: {name} -->\s*```json\n(.*?)```", DOCS, re.S)
    assert match, f"docs/events.md has no {kind} named {name}"
    value: dict[str, Any] = json.loads(match.group(1))
    return value


def examples() -> dict[str, dict[str, Any]]:
    return {
        path.stem.removeprefix("job-state-change-"): json.loads(path.read_text())
        for path in sorted((ROOT / "events/examples").glob("job-state-change-*.json"))
    }


def subject_ok(subject: str) -> bool:
    return (
        0 < len(subject) < 100
        and subject.isascii()
        and subject.isprintable()
        and "\n" not in subject
        and subject[0].isalnum() | (subject[0] in "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
    )


# --- ids ---------------------------------------------------------------------------------------


def test_the_same_change_always_gets_the_same_event_id() -> None:
    key = JobKey("widgets", "cam-7")
    first = event_id_for(key, 3, "FAILED", "boom")
    assert first == event_id_for(JobKey("widgets", "cam-7"), 3, "FAILED", "boom")
    assert re.fullmatch(r"[0-9a-f]{64}", first)
    others = {
        event_id_for(key, 4, "FAILED", "boom"),
        event_id_for(key, 3, "SUCCEEDED", "boom"),
        event_id_for(key, 3, "FAILED", "boom!"),
        event_id_for(key, 3, "FAILED", None),
        event_id_for(JobKey("widgets", "cam-8"), 3, "FAILED", "boom"),
        event_id_for(JobKey("widgets-cam", "7"), 3, "FAILED", "boom"),
    }
    assert first not in others and len(others) == 6


# --- examples and schema ---------------------------------------------------------------------


def test_schema_is_draft4_and_every_example_validates() -> None:
    jsonschema.Draft4Validator.check_schema(SCHEMA)
    found = examples()
    assert set(found) == {"discovered", "status-message", "status-failed", "removed"}
    for event in found.values():
        VALIDATOR.validate(event)


def test_committed_examples_are_what_the_code_produces() -> None:
    # Given the generator; then the committed files are its output (run the script to update)
    for path, text in rendered_examples().items():
        assert path.read_text(encoding="utf-8") == text, f"{path.name} is stale"


def test_one_example_per_change_type_with_its_fields() -> None:
    found = examples()
    assert {e["detail"]["changeType"] for e in found.values()} == {
        "DISCOVERED",
        "STATUS",
        "STATUS_MESSAGE",
        "REMOVED",
    }
    failed = found["status-failed"]["detail"]
    assert failed["isTerminal"] is True
    assert failed["previousStatus"] == "RUNNING"
    assert failed["greengrass"]["output"]["componentVersionArn"].startswith("arn:aws:greengrass")
    assert failed["observedAt"].endswith("Z")
    assert found["discovered"]["detail"]["skippedStates"] == ["CREATED"]
    removed = found["removed"]["detail"]
    assert removed["modelVersion"] is None and removed["greengrass"]["configuration"] is None


def test_a_schema_violation_is_caught() -> None:
    event = examples()["status-failed"]
    broken = json.loads(json.dumps(event))
    broken["detail"]["eventId"] = "not-hex"
    del broken["detail"]["isTerminal"]
    errors = list(VALIDATOR.iter_errors(broken))
    assert len(errors) == 2


# --- truncation ------------------------------------------------------------------------------


def test_a_huge_status_message_is_cut_visibly_and_named() -> None:
    # Given a 1 MiB status message
    change = make_change(status_message="x" * 1_048_576)
    # When the detail is built
    detail = build_detail(change)
    # Then the message is cut with a visible marker and the detail says so
    assert detail["statusMessage"].endswith("… [truncated, 1048576 chars in full; see the history]")
    assert detail["truncated"] is True
    assert detail["truncatedFields"] == ["statusMessage"]
    assert json_size(detail) <= DETAIL_MAX_BYTES


def test_a_short_message_is_kept_whole() -> None:
    detail = build_detail(make_change(status_message="Compilation failed: ünïcödé ✓"))
    assert detail["statusMessage"] == "Compilation failed: ünïcödé ✓"
    assert detail["truncated"] is False and detail["truncatedFields"] == []


def test_many_large_tags_shrink_the_greengrass_configuration() -> None:
    tags = [{"Key": f"k{i}" * 40, "Value": "v" * 256} for i in range(50)]
    document = {
        "ModelPackagingConfiguration": {
            "Greengrass": {"ComponentName": "c", "ComponentVersion": "1.0.0", "Tags": tags}
        }
    }
    detail = build_detail(make_change(document=document))
    assert json_size(detail) <= DETAIL_MAX_BYTES
    assert detail["greengrass"]["configuration"] == {
        "componentName": "c",
        "componentVersion": "1.0.0",
    }
    assert "greengrass.configuration" in detail["truncatedFields"]


# --- property: any change fits the schema and every limit ------------------------------------

names = st.one_of(
    st.from_regex(r"[a-zA-Z0-9][a-zA-Z0-9_\-]{0,254}", fullmatch=True),
    st.text(min_size=1, max_size=80),
)
messages = st.one_of(
    st.none(),
    st.text(max_size=200),
    st.builds(
        lambda c, n: c * n,
        st.sampled_from(["x", "é", "😀", '"', "\\", "\x00", "\n"]),
        st.integers(0, 300_000),
    ),
)
statuses = st.one_of(
    st.none(), st.sampled_from(["CREATED", "RUNNING", "SUCCEEDED", "FAILED"]), st.text(max_size=30)
)
greengrass_documents = st.one_of(
    st.just({}),
    st.fixed_dictionaries(
        {
            "ModelPackagingJobDescription": st.text(max_size=2000),
            "ModelPackagingConfiguration": st.fixed_dictionaries(
                {
                    "Greengrass": st.fixed_dictionaries(
                        {"ComponentName": names, "ComponentDescription": st.text(max_size=3000)},
                        optional={
                            "Tags": st.lists(
                                st.fixed_dictionaries(
                                    {"Key": st.text(max_size=128), "Value": st.text(max_size=256)}
                                ),
                                max_size=50,
                            )
                        },
                    )
                }
            ),
        }
    ),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    project=names,
    job=names,
    change_type=st.sampled_from(
        [ChangeType.DISCOVERED, ChangeType.STATUS, ChangeType.STATUS_MESSAGE, ChangeType.REMOVED]
    ),
    status=statuses,
    previous_status=statuses,
    message=messages,
    previous_message=messages,
    project_arn=st.one_of(st.none(), st.just("arn:aws:lookoutvision:us-east-1:1:project/p")),
    document=greengrass_documents,
    with_description=st.booleans(),
)
def test_any_change_fits_the_schema_and_the_limits(
    *,
    project: str,
    job: str,
    change_type: ChangeType,
    status: str | None,
    previous_status: str | None,
    message: str | None,
    previous_message: str | None,
    project_arn: str | None,
    document: dict[str, Any],
    with_description: bool,
) -> None:
    change = make_change(
        project,
        job,
        change_type=change_type,
        status=status,
        previous_status=previous_status,
        status_message=message,
        previous_status_message=previous_message,
        project_arn=project_arn,
        document=document,
        with_description=with_description,
    )
    # The detail validates inside an EventBridge envelope and stays in its budget
    event = example_event(change)
    VALIDATOR.validate(event)
    detail = event["detail"]
    assert json_size(detail) <= DETAIL_MAX_BYTES
    for field, original in (
        ("statusMessage", message),
        ("previousStatusMessage", previous_message),
    ):
        if field in detail["truncatedFields"]:
            assert detail[field].endswith("chars in full; see the history]")
        elif original is not None:
            assert detail[field] == original
    # The PutEvents entry and the whole SNS message fit their limits
    entry = EventBridgePublisher("bus", client=object()).entry(change)
    assert put_events_entry_size(entry) <= PUT_EVENTS_MAX_BYTES
    sns_entry = SnsNotifier(TOPIC, client=object()).entry(change)
    assert sns_entry_size(sns_entry) <= SNS_MAX_BYTES
    # The SQS/Lambda bodies are the detail; attributes are non-empty strings
    bodies = json.loads(sns_entry["Message"])
    assert json.loads(bodies["sqs"]) == json.loads(bodies["lambda"]) == detail
    assert all(a["StringValue"] for a in sns_entry["MessageAttributes"].values())
    # The subject follows SNS's rules
    assert subject_ok(subject_for(change)), subject_for(change)


# --- subject ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change_type", "status", "expected"),
    [
        (ChangeType.STATUS, "FAILED", "FAILED: packaging job cam-7 in project widgets"),
        (ChangeType.DISCOVERED, "RUNNING", "RUNNING: new packaging job cam-7 in project widgets"),
        (
            ChangeType.STATUS_MESSAGE,
            "RUNNING",
            "RUNNING: new message for packaging job cam-7 in project widgets",
        ),
        (ChangeType.REMOVED, "REMOVED", "REMOVED: packaging job cam-7 in project widgets is gone"),
        (ChangeType.STATUS, None, "UNKNOWN: packaging job cam-7 in project widgets"),
    ],
)
def test_subject_says_what_happened(
    change_type: ChangeType, status: str | None, expected: str
) -> None:
    assert subject_for(make_change(change_type=change_type, status=status)) == expected


def test_subject_survives_long_and_non_ascii_names() -> None:
    long_change = make_change("p" * 255, "j" * 64)
    subject = subject_for(long_change)
    assert subject_ok(subject) and subject.startswith("FAILED: packaging job jjj")
    assert "..." in subject
    accented = subject_for(make_change("überwachung", "kamera-ß\n7", status="FAILED"))
    assert accented == "FAILED: packaging job kamera- 7 in project uberwachung"
    assert subject_ok(subject_for(make_change("日本", "\u2028", status="\u00e9tat")))


# --- documented patterns and filter policy ---------------------------------------------------


def matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    return bool(EventPattern.load(json.dumps(pattern)).matches_event(event))


def test_documented_rule_patterns_select_the_right_events() -> None:
    found = examples()
    other_project = json.loads(json.dumps(found["status-failed"]))
    other_project["detail"]["projectName"] = "gadgets"
    other_source = json.loads(json.dumps(found["status-failed"]))
    other_source["source"] = "someone-else"
    expected = {
        "all-failures": {"status-failed"},
        "one-project": {"discovered", "status-message", "status-failed", "removed"},
        "terminal-states": {"status-failed"},
    }
    for name, wanted in expected.items():
        pattern = documented("pattern", name)
        assert pattern["detail-type"] == [DETAIL_TYPE]
        assert {k for k, e in found.items() if matches(pattern, e)} == wanted, name
        assert not matches(pattern, other_source), name
    assert matches(documented("pattern", "all-failures"), other_project)
    assert not matches(documented("pattern", "one-project"), other_project)


def test_documented_filter_policy_passes_only_failures() -> None:
    policy = FilterPolicyMatcher(documented("filter-policy", "only-failed"), None)
    passed = set()
    for name, change in sample_changes().items():
        _, message, attributes = sns_message(change)
        moto_attributes = {
            k: {"Type": "String", "Value": v["StringValue"]} for k, v in attributes.items()
        }
        if policy.matches(moto_attributes, message):
            passed.add(name)
    assert passed == {"status-failed"}
