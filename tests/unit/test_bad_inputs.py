"""Bad inputs that never reach the network: configuration, CLI arguments, scenario files, names.

Each case is listed in docs/reliability.md with what the user sees.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lfv_monitor.cli import main
from lfv_monitor.config import Settings
from lfv_monitor.domain.errors import ConfigurationError
from lfv_workbench.simulator import ScenarioError, load_scenario_file, parse_scenario

GOOD_ENV = {
    "TABLE_NAME": "lfv-monitor",
    "EVENT_BUS_NAME": "lfv-bus",
    "TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:lfv-topic",
}


# -- configuration: every variable missing or invalid ---------------------------------------
@pytest.mark.parametrize("variable", ["TABLE_NAME", "EVENT_BUS_NAME", "TOPIC_ARN"])
@pytest.mark.parametrize("blank", [None, ""])
def test_a_missing_required_variable_is_named(variable: str, blank: str | None) -> None:
    env = {k: v for k, v in GOOD_ENV.items() if k != variable}
    if blank is not None:
        env[variable] = blank
    with pytest.raises(ConfigurationError, match=rf"{variable} is required"):
        Settings.from_env(env)


@pytest.mark.parametrize(
    ("variable", "value", "reason"),
    [
        ("TABLE_NAME", "ab", "must be 3 to 255 characters long"),
        ("TABLE_NAME", "t" * 256, "must be 3 to 255 characters long"),
        ("EVENT_BUS_NAME", "b" * 1601, "must be 1 to 1600 characters long"),
        ("TOPIC_ARN", "lfv-topic", "must be an SNS topic ARN"),
        ("TOPIC_ARN", "arn:aws:sqs:us-east-1:123456789012:q", "must be an SNS topic ARN"),
        ("EVENT_SOURCE", "aws.lookoutvision", "must not start with 'aws.'"),
        ("LFV_RATE_PER_SECOND", "0", "greater than or equal to 0.1"),
        ("LFV_RATE_PER_SECOND", "fast", "must be a number"),
        ("LFV_RATE_PER_SECOND", "1000", "less than or equal to 100"),
        ("DEADLINE_MARGIN_SECONDS", "-1", "greater than or equal to 0"),
        ("DEADLINE_MARGIN_SECONDS", "601", "less than or equal to 600"),
        ("HISTORY_RETENTION_DAYS", "-3", "greater than or equal to 0"),
        ("HISTORY_RETENTION_DAYS", "a week", "must be an integer"),
        ("ACTIVE_POLL_INTERVAL", "301", "less than or equal to 300"),
        ("ACTIVE_POLL_INTERVAL", "soon", "must be a number"),
    ],
)
def test_an_invalid_variable_is_named_with_the_reason(
    variable: str, value: str, reason: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_env({**GOOD_ENV, variable: value})
    assert variable in str(caught.value)
    assert reason in str(caught.value)


def test_every_bad_variable_is_named_at_once() -> None:
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_env({"LFV_RATE_PER_SECOND": "-1"})
    text = str(caught.value)
    for variable in ("TABLE_NAME", "EVENT_BUS_NAME", "TOPIC_ARN", "LFV_RATE_PER_SECOND"):
        assert variable in text


# -- lfv-monitor poll and the other commands --------------------------------------------------
@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "the following arguments are required: COMMAND"),
        (["explode"], "invalid choice: 'explode'"),
        (["poll", "--timeout", "soon"], "argument --timeout: invalid float value: 'soon'"),
        (["poll", "--no-such-flag"], "unrecognized arguments: --no-such-flag"),
        (["simulator", "--port", "http"], "argument --port: invalid int value: 'http'"),
    ],
)
def test_bad_cli_arguments_exit_2_with_a_usage_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "usage: lfv-monitor" in err and message in err


@pytest.mark.parametrize("port", ["-1", "65536", "99999"])
def test_simulator_port_out_of_range_is_refused(
    port: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["simulator", "--port", port]) == 2
    assert f"--port must be between 0 and 65535, got {port}" in capsys.readouterr().err


def test_simulator_negative_speed_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulator", "--speed", "-1"]) == 2
    assert "--speed must be >= 0" in capsys.readouterr().err


def test_simulator_with_a_missing_scenario_file_names_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.json"
    assert main(["simulator", "--scenario", str(missing)]) == 2
    err = capsys.readouterr().err
    assert "scenario refused" in err and str(missing) in err and "cannot read" in err


# -- scenario files ---------------------------------------------------------------------------
def job(name: str = "j1", **extra: Any) -> dict[str, Any]:
    return {"name": name, "timeline": [{"at": 0, "status": "CREATED"}], **extra}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scenario.json"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_scenario_that_is_not_json_names_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, '{"projects": [\n  {"name": "p",}\n]}')
    with pytest.raises(ScenarioError, match=r"not valid JSON at line 2 column"):
        load_scenario_file(path)


def test_a_scenario_that_is_a_list_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="must be a JSON object, got list"):
        load_scenario_file(write(tmp_path, "[]"))


@pytest.mark.parametrize(
    ("document", "where"),
    [
        ({"projects": [{"name": "p", "jobs": [{"name": "j"}]}]}, "projects[0].jobs[0].timeline"),
        (
            {
                "projects": [
                    {
                        "name": "p",
                        "jobs": [
                            {
                                "name": "j",
                                "timeline": [
                                    {"at": 10, "status": "RUNNING"},
                                    {"at": 5, "status": "FAILED"},
                                ],
                            }
                        ],
                    }
                ]
            },
            "time order",
        ),
        ({"projects": [{"name": "p", "jobs": [job(), job()]}]}, "duplicate job name"),
        ({"projects": [{"name": "p", "jobs": [job("j" * 65)]}]}, "projects[0].jobs[0].name"),
        ({"projects": [{"name": "p" * 256}]}, "projects[0].name"),
        ({"projects": [{"name": "p", "jobs": [job("kamera-ü")]}]}, "projects[0].jobs[0].name"),
        ({"projects": [{"name": "-starts-with-dash"}]}, "projects[0].name"),
        ({"faults": {"DescribeEverything": {}}}, "faults.DescribeEverything: unknown operation"),
        ({"start_time": "2026-11-01T00:00:00"}, "needs a time zone"),
        ({"projects": [{"name": "p", "colour": "red"}]}, "projects[0].colour"),
    ],
)
def test_a_bad_scenario_names_the_field(document: dict[str, Any], where: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(document)
    assert where in str(caught.value)


def test_names_exactly_at_their_limits_are_accepted() -> None:
    scenario = parse_scenario(
        {"projects": [{"name": "p" * 255, "jobs": [job("j" * 64, model_version="1")]}]}
    )
    assert len(scenario.projects[0].name) == 255
    assert len(scenario.projects[0].jobs[0].name) == 64


def test_non_ascii_messages_are_accepted_in_a_scenario_file(tmp_path: Path) -> None:
    text = json.dumps(
        {
            "projects": [
                {
                    "name": "p",
                    "jobs": [
                        {
                            "name": "j",
                            "timeline": [{"at": 0, "status": "FAILED", "message": "失败 ✗"}],
                        }
                    ],
                }
            ]
        },
        ensure_ascii=False,
    )
    scenario = load_scenario_file(write(tmp_path, text))
    assert scenario.projects[0].jobs[0].timeline[0].message == "失败 ✗"
