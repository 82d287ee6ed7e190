"""The table layout: one spelling of keys and key times for the writer and the reader (pure)."""

from __future__ import annotations

import functools
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lfv_monitor.domain.changes import detect_change
from lfv_monitor.domain.models import JobDescription, JobKey, message_digest
from lfv_monitor.table import documents, items, layout, parsing, text
from lfv_monitor.table.codec import plain, to_item

T0 = datetime(2026, 11, 1, tzinfo=UTC)

instants = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
)


def _change(at: datetime):  # type: ignore[no-untyped-def]
    key = JobKey("widgets", "cam-7")
    description = JobDescription(key, "RUNNING", "compiling", document={"Status": "RUNNING"})
    change = detect_change(None, description, observed_at=at, baseline=False)
    assert change is not None
    return change


@given(instants)
def test_what_the_writer_stores_the_reader_finds_in_its_time_range(at: datetime) -> None:
    # Given a change observed at any instant, years before 1000 included
    item = items.history_item(_change(at), retention=None)
    # Then the reader's range keys for that instant bracket the writer's index key
    lower, upper = layout.key_time(at), layout.key_time(at) + "~"
    assert lower <= item["gsi1sk"] <= upper and lower <= item["gsi2sk"] <= upper
    # And the history item reads back at the same instant
    assert parsing.change_of(plain(to_item(item))).observed_at == at
    assert layout.key_of_project_change("widgets", item["gsi1sk"]) == (item["pk"], item["sk"])
    assert layout.key_of_status_change(item["gsi2sk"]) == (item["pk"], item["sk"])


def test_a_year_before_1000_is_zero_padded_so_keys_sort_like_instants() -> None:
    early, late = datetime(999, 12, 31, tzinfo=UTC), datetime(1000, 1, 1, tzinfo=UTC)
    assert layout.key_time(early) == "0999-12-31T00:00:00.000000Z"
    assert items.history_item(_change(early), None)["observed_at"] == layout.key_time(early)
    assert layout.key_time(early) < layout.key_time(late)
    assert layout.parse_key_time(layout.key_time(early)) == early
    assert layout.parse_key_time("999-12-31T00:00:00.000000Z") is None
    assert layout.parse_key_time(17) is None
    assert layout.key_time(early + timedelta(microseconds=1)) > layout.key_time(early)


ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=3000)


@given(ANY_TEXT, ANY_TEXT)
def test_index_keys_use_a_bounded_deterministic_form_of_any_status(a: str, b: str) -> None:
    key = text.status_key(a)
    assert len(layout.status_change_partition(key).encode("utf-8")) <= 2048
    assert text.is_clean(key) and key == text.status_key(a)
    assert (key == text.status_key(b)) == (a == b) or len(a) > 60 or len(b) > 60


@given(ANY_TEXT)
def test_a_stored_text_is_valid_and_bounded_and_its_digest_set_when_it_differs(value: str) -> None:
    stored, digest = text.bounded(value, limit=100)
    assert stored is not None and text.is_clean(stored) and len(stored) <= 100
    assert (digest is None) == (stored == value)
    assert digest is None or digest == message_digest(value)


@given(st.dictionaries(st.text(min_size=1, max_size=5), ANY_TEXT, max_size=20))
def test_a_description_always_fits_the_budget_it_is_given(document: dict[str, str]) -> None:
    attributes = documents.document_attributes(document, budget=2048)
    assert documents.item_size(to_item(attributes)) <= 2048


def test_every_item_of_a_change_with_megabyte_texts_stays_under_400_kb() -> None:
    # Given a change whose Status, StatusMessage and previous texts are a million characters
    huge = "".join(chr(0x4E00 + (i * 7919) % 20000) for i in range(1_000_000))
    key = JobKey("p" * 255, "j" * 64)
    description = JobDescription(key, huge, huge, document={"Status": huge, "StatusMessage": huge})
    change = detect_change(None, description, observed_at=T0, baseline=False)
    assert change is not None
    change = replace(change, previous_status=huge, previous_status_message=huge)
    # Then the history, state and outbox items are all within DynamoDB's limit
    built = [
        items.history_item(change, timedelta(days=30)),
        items.state_item(change),
        items.outbox_item(change, "events", timedelta(seconds=60)),
    ]
    assert all(documents.item_size(to_item(i)) <= documents.DYNAMODB_ITEM_BYTES for i in built)
    assert built[0]["description_truncated"] and built[0]["status_digest"]


@pytest.mark.parametrize(
    "document",
    [
        {"Nested": functools.reduce(lambda inner, _: {"a": inner}, range(3000), {})},
        {"Weird": float("nan"), "Also": float("inf")},
        {"Lone": "\udc80", "Controls": "\x00\x1b"},
    ],
    ids=["nested 3000 deep", "NaN and infinity", "surrogates and controls"],
)
def test_an_odd_description_never_stops_a_history_item_from_being_built(
    document: dict[str, object],
) -> None:
    key = JobKey("p", "j")
    description = JobDescription(key, "RUNNING", None, document=document)
    change = detect_change(None, description, observed_at=T0, baseline=False)
    assert change is not None
    item = to_item(items.history_item(change, None))
    assert documents.item_size(item) <= documents.DYNAMODB_ITEM_BYTES


def test_a_description_nested_deeper_than_dynamodb_allows_is_stored_compressed() -> None:
    deep = functools.reduce(lambda inner, _: {"a": inner}, range(40), {})
    assert "description_gz" in documents.document_attributes(deep, budget=100_000)
    assert "description" in documents.document_attributes({"a": {"b": 1}}, budget=100_000)


# -- issue 15: one table, several targets ----------------------------------------------------


def test_the_home_target_keeps_the_single_account_keys_exactly() -> None:
    # Given the home target's keys (the stack's own account and region)
    keys, change = layout.HOME, _change(T0)
    # When a change is recorded
    history, state = items.history_item(change, None, keys), items.state_item(change, keys)
    outbox = items.outbox_item(change, "sns", timedelta(seconds=60), keys)
    # Then every key is the single-account version's, and no account or region is written
    assert (history["pk"], history["gsi1pk"], history["gsi2pk"]) == (
        "JOB#widgets#cam-7",
        "PROJECT#widgets",
        "STATUS#RUNNING",
    )
    assert (state["gsi2pk"], state["active_pk"], outbox["pk"]) == (
        "STATE#RUNNING",
        "ACTIVE",
        "OUTBOX",
    )
    assert (keys.meta_pk, keys.project_pk) == ("META", "PROJECT")
    assert not {"account", "region"} & (history.keys() | state.keys())


def test_another_targets_items_are_qualified_and_read_back_as_that_targets() -> None:
    # Given a member target's keys
    keys = layout.TableKeys("111111111111", "eu-west-1")
    change = _change(T0)
    # When its change is recorded
    history = items.history_item(change, None, keys)
    state = items.state_item(change, keys)
    # Then its partitions name the target, none is shared with the home target's
    assert history["pk"] == "JOB#111111111111#eu-west-1#widgets#cam-7"
    assert history["gsi1pk"] == "PROJECT#111111111111#eu-west-1#widgets"
    assert state["active_pk"] == "ACTIVE#111111111111#eu-west-1"
    assert keys.meta_pk != layout.HOME.meta_pk and keys.outbox_pk != layout.HOME.outbox_pk
    # and its items parse back, and its keys back to its job (not the home target's)
    assert parsing.change_of(plain(to_item(history))).event_id == change.event_id
    assert keys.job_key_of(history["pk"]) == JobKey("widgets", "cam-7")
    assert layout.HOME.job_key_of(history["pk"]) is None
    assert keys.key_of_state(state["gsi2sk"]) == (history["pk"], "STATE")
