"""Service text is shown safely: escaped on a terminal, inert in a spreadsheet, lossless in JSON
(issue 12, point 8).  The commands' own output is tested over real HTTP in
tests/integration/test_terminal_safety.py; the demo's views here, with hostile changes."""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from lfv_monitor.commands.safe_output import csv_cell, json_text, one_line, printable
from lfv_monitor.domain.models import Change, ChangeType, JobKey
from lfv_workbench.demo.accounting import CycleOutcome
from lfv_workbench.demo.live import LiveView
from lfv_workbench.demo.views import PlainView

#: What a hostile status message may hold: an ANSI clear-screen and colour, a carriage return
#: that rewrites the line, a right-to-left override, a C1 CSI, DEL, a lone surrogate.
HOSTILE = "ok\x1b[2J\x1b[31mred\rFAKE\u202eevil\x9b1m\x7f\ud800 [/]:fire:"
RAW = ("\x1b", "\r", "\u202e", "\x9b", "\x7f", "\ud800")


def _clean(text: str) -> bool:
    return not any(c in text for c in RAW)


def test_control_characters_are_escaped_and_ordinary_text_is_kept() -> None:
    shown = printable(HOSTILE)
    assert _clean(shown)
    assert shown == "ok\\x1b[2J\\x1b[31mred\\rFAKE\\u202eevil\\x9b1m\\x7f\\ud800 [/]:fire:"
    assert printable("Größe ok: 日本語 ✓ 🚀 a\u00a0b") == "Größe ok: 日本語 ✓ 🚀 a\u00a0b"


def test_one_line_collapses_whitespace_escapes_and_cuts() -> None:
    assert one_line("a\n\n b\t\tc\x1b[0m", 80) == "a b c\\x1b[0m"
    assert one_line("x" * 200, 10) == "x" * 9 + "…"
    assert one_line(None) == ""


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised() -> None:
    for formula in ("=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\t=1", "\r=1"):
        assert str(csv_cell(formula)).startswith("'"), formula
    assert csv_cell("RUNNING") == "RUNNING" and csv_cell(-1) == -1 and csv_cell(3) == 3
    assert csv_cell("=A1\x1b[31m") == "'=A1\\x1b[31m"


def test_json_text_is_lossless_and_terminal_safe() -> None:
    data = {"statusMessage": HOSTILE, "job": "cam-7", "emoji": "🚀 \U0001f9ea"}
    text = json_text(data)
    assert _clean(text)
    assert json.loads(text) == data


@given(st.text(st.characters(exclude_categories=())))
def test_any_text_is_shown_without_a_raw_control_character(text: str) -> None:
    for shown in (printable(text), one_line(text, 50), str(csv_cell(text))):
        assert all(c.isprintable() or unicodedata.category(c) == "Zs" for c in shown), repr(shown)


ANY_TEXT = st.text(st.characters(exclude_categories=()))  # surrogates and controls included


@given(st.dictionaries(ANY_TEXT, ANY_TEXT | st.integers() | st.none(), max_size=4))
def test_any_record_round_trips_through_json_text(data: dict[str, object]) -> None:
    text = json_text(data)
    assert json.loads(text) == data
    assert all(c.isprintable() or unicodedata.category(c) == "Zs" for c in text if c != "\n")


def test_csv_written_with_the_helper_reads_back_as_text() -> None:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([csv_cell(v) for v in ('=HYPERLINK("http://x")', "multi\nline", 7)])
    row = next(csv.reader(io.StringIO(out.getvalue())))
    assert row == ['\'=HYPERLINK("http://x")', "multi\\nline", "7"]


# -- the demo's views --------------------------------------------------------------------------
def _change(status: str = "FAILED\x1b[5m", message: str = HOSTILE) -> Change:
    return Change(
        event_id="e1",
        change_type=ChangeType.STATUS,
        key=JobKey("widgets", "cam\x1b[8m"),
        version=2,
        status=status,
        previous_status="RUNNING",
        status_message=message,
        previous_status_message=None,
        observed_at=datetime(2026, 11, 1, tzinfo=UTC),
    )


def _outcome(change: Change) -> CycleOutcome:
    event = {
        "detail": {
            "changeType": "STATUS",
            "projectName": "widgets",
            "jobName": "cam\x1b[8m",
            "previousStatus": "RUNNING",
            "status": change.status,
        }
    }
    return CycleOutcome(
        number=2,
        total=3,
        offset=60.0,
        time=datetime(2026, 11, 1, 0, 1, tzinfo=UTC),
        summary={"baseline": False},
        recorded=[change],
        events=[event],
        notifications=[],
    )


def test_the_demos_plain_view_escapes_service_text() -> None:
    out = io.StringIO()
    PlainView(out).cycle(_outcome(_change()))
    text = out.getvalue()
    assert _clean(text) and "\\x1b[8m" in text and "\\u202e" in text


def test_the_demos_live_view_escapes_service_text_and_ignores_markup() -> None:
    view = LiveView()
    buffer = io.StringIO()
    view.console = Console(file=buffer, width=200, height=40, color_system=None)
    view.cycle(_outcome(_change(message="x\x1b[2J [/]:fire: \u202e[bold]b")))
    view.console.print(view._render())
    text = buffer.getvalue()
    assert _clean(text)
    assert "\\x1b[8m" in text and "x\\x1b[2J [/]:fire: \\u202e[bold]b" in text
