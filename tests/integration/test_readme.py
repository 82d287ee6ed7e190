"""README.md is a tested path: its ```sh blocks under Evaluate, Query and Integrate run, in
order, in one shell, from an empty directory, with lfv-monitor on PATH as after an install."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
RUN_SECTIONS = ("Evaluate", "Query", "Integrate")
FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def sections(text: str) -> dict[str, str]:
    """Each ``## `` section's text by its title."""
    found: dict[str, str] = {}
    for part in re.split(r"^## ", text, flags=re.MULTILINE)[1:]:
        title, _, body = part.partition("\n")
        found[title.strip()] = body
    return found


def runnable_blocks(text: str) -> list[str]:
    by_title = sections(text)
    return [
        body
        for title in RUN_SECTIONS
        for lang, body in FENCE.findall(by_title[title])
        if lang == "sh"
    ]


def test_the_readme_starts_with_make_demo_and_make_test() -> None:
    head = README.read_text().splitlines()[:6]
    assert any(line.startswith("make demo") for line in head)
    assert any(line.startswith("make test") for line in head)


def test_the_runnable_blocks_can_be_pasted_as_they_are() -> None:
    # Given the blocks a reader pastes
    blocks = runnable_blocks(README.read_text())
    # Then there are some in each section, and none reaches into a checkout's venv
    assert len(blocks) >= 5
    assert not [b for b in blocks if ".venv/" in b]


def test_the_readme_sh_blocks_run_against_the_local_stack(tmp_path: Path) -> None:
    # Given an empty directory and lfv-monitor on PATH (as an activated venv has it)
    script = "set -euo pipefail\n" + "\n".join(runnable_blocks(README.read_text()))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"

    # When the blocks run in one shell
    process = subprocess.Popen(
        ["bash", "-c", script],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = process.communicate(timeout=300)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    stack_log = (tmp_path / "stack.log").read_text() if (tmp_path / "stack.log").exists() else ""

    # Then every command succeeds and prints what the README says it shows
    assert process.returncode == 0, f"{err[-3000:]}\nstack.log:\n{stack_log[-2000:]}"
    assert "jobs seen" in out  # poll --json piped into a JSON reader
    assert "STATUS widgets cam-1 SUCCEEDED" in out  # the capture queue
    assert "History of widgets/cam-1" in out  # lfv-monitor history
    assert (tmp_path / "widgets.csv").read_text().startswith("project,job,version,observedAt,")
    assert re.search(r"^\S+ CREATED Model packaging job created\.$", out, re.MULTILINE)  # API
    assert "SUCCEEDED: gadgets line-a Model packaging job completed" in out  # the rule's queue
    # and stack.json holds the one JSON line only; the README's last line stopped the stack
    (line,) = (tmp_path / "stack.json").read_text().splitlines()
    api = urlsplit(json.loads(line)["api_url"])
    deadline = time.monotonic() + 30
    while _listening(api.hostname or "", api.port or 0):
        assert time.monotonic() < deadline, "the local stack still serves after `kill`"
        time.sleep(0.2)


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False
