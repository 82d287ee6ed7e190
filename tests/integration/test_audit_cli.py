"""``lfv-monitor history|changes|jobs`` against the audited history on moto server."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest

from lfv_monitor.cli import main
from tests.support.audit_history import AuditedStack


@pytest.fixture
def cli(audited_history: AuditedStack, capsys: pytest.CaptureFixture[str]) -> Any:
    def run(*argv: str) -> tuple[int, str, str]:
        code = main(
            [*argv, "--table", audited_history.table, "--endpoint-url", audited_history.endpoint]
        )
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_history_prints_a_table_oldest_first(cli: Any) -> None:
    code, out, _ = cli("history", "--project", "widgets", "--job", "ok-1")
    assert code == 0
    assert "History of widgets/ok-1" in out
    assert (
        out.index("- → CREATED") < out.index("CREATED → RUNNING") < out.index("RUNNING → SUCCEEDED")
    )
    assert "3 records" in out


def test_history_as_json_pages_with_next_token(cli: Any) -> None:
    code, out, _ = cli(
        "history", "--project", "widgets", "--job", "ok-1", "--output", "json", "--limit", "2"
    )
    first = json.loads(out)
    assert code == 0 and [i["status"] for i in first["items"]] == ["CREATED", "RUNNING"]
    code, out, _ = cli(
        "history", "--project", "widgets", "--job", "ok-1", "-o", "json",
        "--next-token", first["nextToken"],
    )  # fmt: skip
    rest = json.loads(out)
    assert [i["status"] for i in rest["items"]] == ["SUCCEEDED"] and rest["nextToken"] is None
    assert set(rest["items"][0]) >= {"observedAt", "observer", "statusMessage", "changeType"}


def test_changes_of_a_project_since_a_relative_time_as_csv(cli: Any) -> None:
    code, out, _ = cli("changes", "--project", "gadgets", "--since", "1h", "--output", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0
    assert [(r["job"], r["status"]) for r in rows if r["job"] == "g-1"] == [
        ("g-1", "CREATED"),
        ("g-1", "RUNNING"),
        ("g-1", "FAILED"),
    ]
    assert {r["project"] for r in rows} == {"gadgets"}


def test_changes_to_failed_across_projects_with_all_pages(cli: Any) -> None:
    code, out, _ = cli(
        "changes", "--status", "FAILED", "--since", "2020-01-01", "--limit", "1", "--all",
        "-o", "json",
    )  # fmt: skip
    body = json.loads(out)
    assert code == 0 and body["nextToken"] is None
    assert [(i["project"], i["job"]) for i in body["items"]] == [
        ("widgets", "fail-1"),
        ("gadgets", "g-1"),
    ]


def test_jobs_running_now(cli: Any) -> None:
    code, out, _ = cli("jobs", "--status", "running")
    assert code == 0
    assert "g-2" in out and "msg-1" in out and "ok-1" not in out
    assert "2 records" in out


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (
            ["history", "--project", "widgets", "--job", "nope"],
            1,
            "no history for job widgets/nope",
        ),
        (["changes", "--project", "nowhere"], 1, "no history for project nowhere"),
        (["jobs", "--status", "RUNNING", "--project", "nowhere"], 1, "no history for project"),
        (
            ["changes", "--project", "widgets", "--since", "1d", "--until", "2d"],
            2,
            "is after until",
        ),
        (["changes", "--status", "FAILED", "--since", "yesterday"], 2, "since: 'yesterday' is not"),
        (["changes", "--since", "7d"], 2, "give --project, --status or both"),
        (["jobs", "--status", "RUNNING", "--next-token", "garbage!"], 2, "next token is malformed"),
        (["jobs", "--status", "RUNNING", "--limit", "0"], 2, "limit 0 is out of range"),
    ],
)
def test_bad_input_and_unknown_names_are_clear_errors(
    cli: Any, argv: list[str], code: int, message: str
) -> None:
    got, out, err = cli(*argv)
    assert got == code
    assert message in err and out == ""


def test_a_missing_table_name_is_a_clear_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TABLE_NAME", raising=False)
    assert main(["jobs", "--status", "RUNNING"]) == 2
    assert "pass --table or set TABLE_NAME" in capsys.readouterr().err
