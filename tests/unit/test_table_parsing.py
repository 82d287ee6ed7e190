"""Stored items are parsed defensively: any item is a value or a ``MalformedItemError`` (pure)."""

from __future__ import annotations

import contextlib
from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.types import Binary
from hypothesis import given
from hypothesis import strategies as st

from lfv_monitor.table import parsing
from lfv_monitor.table.parsing import MalformedItemError

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.decimals(allow_nan=False, allow_infinity=False, places=3),
    st.text(max_size=20),
    st.binary(max_size=20).map(Binary),
    st.sampled_from(["RUNNING", "STATUS", "DISCOVERED", "2026-11-01T00:00:00.000000Z", "V#1"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=8,
)
HISTORY_FIELDS = [
    "pk", "sk", "project", "job", "version", "event_id", "change_type", "status",
    "previous_status", "status_message", "status_message_digest", "previous_status_message",
    "skipped_states", "observed_at", "observer", "project_arn", "description", "description_gz",
]  # fmt: skip
OUTBOX_FIELDS = ["ref_pk", "ref_sk", "channel", "claimed_until", "event_id"]


def _only_malformed(parse: Any, item: dict[str, Any]) -> None:
    with contextlib.suppress(MalformedItemError):
        parse(item)


@given(st.dictionaries(st.sampled_from(HISTORY_FIELDS), VALUES))
def test_any_history_or_state_item_parses_or_is_malformed_never_another_error(
    item: dict[str, Any],
) -> None:
    _only_malformed(parsing.change_of, item)
    _only_malformed(parsing.stored_of, item)


@given(st.dictionaries(st.sampled_from(OUTBOX_FIELDS), VALUES))
def test_any_outbox_entry_parses_or_is_malformed(item: dict[str, Any]) -> None:
    _only_malformed(parsing.outbox_entry, item)


def _nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth):
        value = {"a": value}
    return value


@pytest.mark.parametrize(
    ("damage", "words"),
    [
        ({"version": "two"}, "version is str"),
        ({"version": None}, "version is missing"),
        ({"version": Decimal("1.5")}, "not a whole number"),
        ({"change_type": "TELEPORTED"}, "not a change type"),
        ({"observed_at": "yesterday"}, "not a key time"),
        ({"description_gz": Binary(b"not gzip")}, "BadGzipFile"),
        ({"description": _nested(5000)}, "RecursionError"),
        ({"pk": "JOB#other#job"}, "do not match the key"),
    ],
)
def test_a_malformed_history_item_says_what_is_wrong(damage: dict[str, Any], words: str) -> None:
    item = {
        "pk": "JOB#p#j",
        "sk": "V#0000000001",
        "project": "p",
        "job": "j",
        "version": Decimal(1),
        "event_id": "e",
        "change_type": "STATUS",
        "observed_at": "2026-11-01T00:00:00.000000Z",
    }
    assert parsing.change_of(item).version == 1
    with pytest.raises(MalformedItemError, match=words):
        parsing.change_of({k: v for k, v in {**item, **damage}.items() if v is not None})
