"""``poll``, ``history``, ``changes`` and ``jobs`` show hostile service text safely (issue 12,
point 8), end to end over real HTTP: the simulator serves the text, ``poll`` records it in moto's
DynamoDB, the audit commands read it back."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest

from lfv_monitor.cli import main
from tests.support.emulated import Stack, monitored_stack

#: An ANSI clear-screen and colour, a carriage return that rewrites the line, a right-to-left
#: override, a C1 CSI and DEL, in a message that is also a spreadsheet formula.
MESSAGE = '=HYPERLINK("http://evil")\x1b[2J\x1b[31m\rFAKE OK\u202edlrow\x9b1m\x7f [/]'
RAW = ("\x1b", "\r", "\u202e", "\x9b", "\x7f")
SCENARIO = {
    "projects": [
        {
            "name": "widgets",
            "jobs": [
                {
                    "name": "evil",
                    "timeline": [
                        {"at": 0, "status": "RUNNING", "message": "compiling"},
                        {"at": 60, "status": "FAILED", "message": MESSAGE},
                    ],
                },
                {
                    "name": "plus",
                    "timeline": [{"at": 0, "status": "RUNNING", "message": "+cmd|' /C calc'!A0"}],
                },
            ],
        }
    ]
}


@pytest.fixture
def recorded(
    aws_endpoint: str,
    simulator: Any,
    simulator_control: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> tuple[Stack, str]:
    """The hostile job recorded by two ``lfv-monitor poll`` runs; the second one's output."""
    stack = monitored_stack(aws_endpoint, simulator.url, monkeypatch)
    simulator_control.load_scenario(SCENARIO)
    assert main(["poll"]) == 0  # the baseline
    simulator_control.advance(60)
    capsys.readouterr()
    assert main(["poll"]) == 0  # evil: RUNNING -> FAILED with the hostile message
    out, _ = capsys.readouterr()
    return stack, out


def _clean(text: str) -> bool:
    return not any(c in text for c in RAW)


def _cli(stack: Stack, capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main([*argv, "--table", stack.table]) == 0
    out, err = capsys.readouterr()
    assert _clean(err)
    return out


def test_poll_prints_the_change_with_its_message_escaped(recorded: tuple[Stack, str]) -> None:
    _, out = recorded
    assert "widgets/evil" in out and "RUNNING -> FAILED" in out
    assert _clean(out)
    # (the carriage return is whitespace: a one-line message shows it as a space)
    assert "\\x1b[2J\\x1b[31m FAKE OK\\u202edlrow\\x9b1m\\x7f [/]" in out


@pytest.mark.parametrize(
    "argv",
    [
        ("history", "--project", "widgets", "--job", "evil"),
        ("changes", "--project", "widgets", "--since", "1h"),
        ("jobs", "--status", "FAILED"),
    ],
)
def test_the_audit_tables_escape_service_text(
    recorded: tuple[Stack, str], capsys: pytest.CaptureFixture[str], argv: tuple[str, ...]
) -> None:
    stack, _ = recorded
    out = _cli(stack, capsys, *argv)
    assert _clean(out)
    assert "\\x1b[2J" in out and "[/]" in out


def test_csv_neutralises_formulas_and_escapes(
    recorded: tuple[Stack, str], capsys: pytest.CaptureFixture[str]
) -> None:
    stack, _ = recorded
    out = _cli(stack, capsys, "changes", "--project", "widgets", "--since", "1h", "-o", "csv")
    assert _clean(out)
    messages = {r["job"]: r["statusMessage"] for r in csv.DictReader(io.StringIO(out))}
    assert messages["evil"].startswith("'=HYPERLINK(")
    assert messages["plus"] == "'+cmd|' /C calc'!A0"


def test_json_keeps_the_text_exactly_and_escapes_it(
    recorded: tuple[Stack, str], capsys: pytest.CaptureFixture[str]
) -> None:
    stack, _ = recorded
    out = _cli(stack, capsys, "history", "--project", "widgets", "--job", "evil", "-o", "json")
    assert _clean(out)
    items = json.loads(out)["items"]
    assert [i["statusMessage"] for i in items] == ["compiling", MESSAGE]
