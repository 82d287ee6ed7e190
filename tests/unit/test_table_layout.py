"""The table layout: one spelling of keys and key times for the writer and the reader (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from lfv_monitor.domain.changes import detect_change
from lfv_monitor.domain.models import JobDescription, JobKey
from lfv_monitor.table import items, layout, parsing
from lfv_monitor.table.codec import plain, to_item

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
