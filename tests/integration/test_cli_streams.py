"""Clean streams: ``--json`` prints exactly one JSON document on stdout; logs go to stderr."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from lfv_workbench.simulator import SimulatorServer
from tests.support.emulated import monitored_stack


def _poll(*flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lfv_monitor.cli", "poll", *flags],
        env={**os.environ, "POWERTOOLS_LOG_LEVEL": "INFO"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_poll_json_is_one_document_and_logs_go_to_stderr(
    aws_endpoint: str, simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the monitor's resources in moto and the simulator, and Powertools asked for INFO logs
    monitored_stack(aws_endpoint, simulator.url, monkeypatch)

    # When `poll --json -v` runs a cycle (verbose: its logs are shown)
    done = _poll("--json", "-v")

    # Then the whole of stdout is one JSON document (the report), and the logs are on stderr
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert {"projectsSeen", "changesRecorded"} <= set(report)
    assert '"level":"INFO"' in done.stderr.replace(" ", "")


def test_poll_without_verbose_keeps_stderr_free_of_debug_logs(
    aws_endpoint: str, simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the same stack
    monitored_stack(aws_endpoint, simulator.url, monkeypatch)

    # When `poll --json` runs without -v
    done = _poll("--json")

    # Then stdout is still one JSON document and no INFO line reached either stream
    assert done.returncode == 0, done.stderr
    json.loads(done.stdout)
    assert '"level":"INFO"' not in (done.stdout + done.stderr).replace(" ", "")
