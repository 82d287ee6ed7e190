"""``--since``/``--until`` parsing and page tokens (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lfv_monitor.audit import InvalidPageTokenError, InvalidTimeError
from lfv_monitor.audit.timespec import parse_instant, parse_range
from lfv_monitor.audit.tokens import decode_token, encode_token
from lfv_monitor.table.layout import key_time

NOW = datetime(2026, 11, 8, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", NOW - timedelta(minutes=30)),
        ("24h", NOW - timedelta(hours=24)),
        ("7d", NOW - timedelta(days=7)),
        ("2W", NOW - timedelta(weeks=2)),
        ("2026-11-01", datetime(2026, 11, 1, tzinfo=UTC)),
        ("2026-11-01T08:00:00Z", datetime(2026, 11, 1, 8, tzinfo=UTC)),
        ("2026-11-01T10:00+02:00", datetime(2026, 11, 1, 8, tzinfo=UTC)),
        ("2026-11-01 08:00", datetime(2026, 11, 1, 8, tzinfo=UTC)),
    ],
)
def test_times_are_relative_ages_or_iso_dates(text: str, expected: datetime) -> None:
    assert parse_instant(text, now=NOW) == expected


@pytest.mark.parametrize(
    "text", ["", "yesterday", "7x", "-7d", "2026-13-01", "99999999w", "x" * 99]
)
def test_unparseable_times_name_the_flag(text: str) -> None:
    with pytest.raises(InvalidTimeError, match=r"^until: "):
        parse_instant(text, now=NOW, name="until")


def test_a_range_that_ends_before_it_starts_is_an_error() -> None:
    with pytest.raises(InvalidTimeError, match="is after until"):
        parse_range("1d", "2d", now=NOW)
    assert parse_range("2d", None, now=NOW) == (NOW - timedelta(days=2), None)


@given(st.datetimes(timezones=st.just(UTC)), st.datetimes(timezones=st.just(UTC)))
def test_key_times_sort_like_the_instants(a: datetime, b: datetime) -> None:
    assert (key_time(a) < key_time(b)) == (a < b)
    assert key_time(a.astimezone(timezone(timedelta(hours=5)))) == key_time(a)


@given(st.dictionaries(st.sampled_from(["pk", "sk", "gsi1pk", "gsi1sk"]), st.text(min_size=1)))
def test_tokens_round_trip_and_are_stable(key: dict[str, str]) -> None:
    token = encode_token(key)
    assert token == encode_token(dict(reversed(key.items())))
    assert decode_token(token, frozenset(key)) == key


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("a b", "malformed"),
        ("!!!!", "malformed"),
        ("A" * 5000, "malformed"),
        ("bm90IGpzb24", "malformed"),  # "not json"
        (encode_token({"pk": "x"}), "does not belong"),
        ("WzFd", "does not belong"),  # [1]
    ],
)
def test_bad_tokens_are_refused(token: str, message: str) -> None:
    with pytest.raises(InvalidPageTokenError, match=message):
        decode_token(token, frozenset({"pk", "sk"}))
