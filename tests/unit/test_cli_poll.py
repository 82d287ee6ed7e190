"""``lfv-monitor poll`` reports configuration problems clearly and exits 2."""

from __future__ import annotations

import pytest

from lfv_monitor.cli import main


def test_poll_without_configuration_names_the_missing_variables(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("TABLE_NAME", "EVENT_BUS_NAME", "TOPIC_ARN"):
        monkeypatch.delenv(name, raising=False)
    assert main(["poll"]) == 2
    err = capsys.readouterr().err
    assert "TABLE_NAME is required" in err and "TOPIC_ARN is required" in err
    assert "--table" in err


def test_poll_help_explains_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["poll", "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert "--lfv-endpoint-url" in out and "Exits 0" in out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.startswith("lfv-monitor ")
