"""Install paths: the built wheel, installed into a clean venv, with and without the ``local``
extra, used from a directory that is not the repository.

Offline: the wheel is built and installed with ``--no-index`` from .venv/wheelhouse, which
``make wheelhouse`` fills (``make integration`` does it first; the fixture calls it too).
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import venv
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.audit_history import AuditedStack

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
WHEELHOUSE = ROOT / ".venv" / "wheelhouse"
#: What the source tree contributes to the wheel (setup.py copies template.yaml into it).
SOURCES = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "LICENSE", "template.yaml")
EXTRA_HINT = "pip install 'lfv-monitor[local]'"


def _run(*argv: str | Path, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(
        [str(a) for a in argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _pip(python: Path, *args: str | Path, cwd: Path) -> None:
    done = _run(python, "-m", "pip", "--disable-pip-version-check", "-q", *args, cwd=cwd)
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built from a copy of the sources (nothing written to the checkout)."""
    make = _run("make", "-s", "wheelhouse", cwd=ROOT, timeout=600)
    assert make.returncode == 0, make.stderr
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    shutil.copytree(
        ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
    )
    for name in SOURCES:
        shutil.copy2(ROOT / name, source / name)
    _pip(
        Path(sys.executable),
        "wheel", "--no-deps", "--no-index", "--find-links", WHEELHOUSE, "-w", work / "dist", source,
        cwd=work,
    )  # fmt: skip
    (built,) = (work / "dist").glob("lfv_monitor-*.whl")
    return built


@pytest.fixture(scope="module")
def clean_venv(tmp_path_factory: pytest.TempPathFactory, wheel: Path) -> Path:
    """A new venv with the wheel installed without extras; returns its bin directory."""
    home = tmp_path_factory.mktemp("venv")
    venv.create(home, with_pip=True)
    _pip(
        home / "bin" / "python",
        "install",
        "--no-index",
        "--find-links",
        WHEELHOUSE,
        wheel,
        cwd=home,
    )
    return home / "bin"


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    """A working directory with no template.yaml, no src/, nothing of the repository."""
    return tmp_path


def test_the_wheel_ships_the_template_and_scenarios_unchanged(wheel: Path) -> None:
    # Given the built wheel
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        shipped = archive.read("lfv_workbench/local/packaged/template.yaml")
    # Then its template is the repository's, byte for byte, and the scenarios are there
    assert shipped == (ROOT / "template.yaml").read_bytes()
    assert "lfv_workbench/simulator/scenarios/demo.json" in names


def test_without_extras_the_product_commands_work_and_the_workbench_names_its_extra(
    clean_venv: Path, elsewhere: Path, audited_history: AuditedStack
) -> None:
    cli = clean_venv / "lfv-monitor"
    target = ["--table", audited_history.table, "--endpoint-url", audited_history.endpoint]

    # When a user runs the product's commands from an unrelated directory
    helps = [_run(cli, *c, "--help", cwd=elsewhere) for c in ([], ["poll"], ["doctor"])]
    poll = _run(cli, "poll", "--json", cwd=elsewhere)
    answers = {
        (command, output): _run(cli, *args, "-o", output, *target, cwd=elsewhere)
        for command, args in {
            "history": ["history", "--project", "widgets", "--job", "ok-1"],
            "changes": ["changes", "--project", "widgets", "--since", "2000-01-01"],
            "jobs": ["jobs", "--status", "FAILED"],
        }.items()
        for output in ("table", "json", "csv")
    }
    emulated = ["--region", "us-east-1", "--endpoint-url", audited_history.endpoint]
    doctor = [_run(cli, "doctor", *emulated, *o, cwd=elsewhere) for o in ([], ["--json"])]
    workbench = [_run(cli, *c, cwd=elsewhere) for c in (["demo"], ["local", "up"])]

    # Then help and every output format work without rich/moto/yaml errors
    assert all(h.returncode == 0 and "usage: lfv-monitor" in h.stdout for h in helps)
    # (poll runs; its exit code is its health verdict: 0 only for a healthy cycle, else 1 with
    # the verdict on stderr, e.g. "store" when the environment's table is not there)
    polled = json.loads(poll.stdout)
    assert "projectsSeen" in polled
    assert poll.returncode == (0 if polled["succeeded"] else 1), poll.stderr
    assert polled["succeeded"] or "not healthy: " + polled["health"] in poll.stderr
    for (command, output), done in answers.items():
        assert done.returncode == 0, (command, output, done.stderr)
        if output == "json":
            assert json.loads(done.stdout)["items"], command
        elif output == "csv":
            assert list(csv.DictReader(io.StringIO(done.stdout))), command
        else:
            assert "record" in done.stdout.splitlines()[-1], command
    # doctor reports each check (the emulated account has no CloudTrail trail: exit 1)
    assert [d.returncode for d in doctor] == [1, 1], doctor[0].stderr
    assert "✔ lookout-for-vision" in doctor[0].stdout and "✘ cloudtrail" in doctor[0].stdout
    assert json.loads(doctor[1].stdout)["ok"] is False
    # and the workbench's commands say, in one line, which extra to install (exit 2)
    for done in workbench:
        assert done.returncode == 2
        assert done.stderr.count("\n") == 1 and EXTRA_HINT in done.stderr


@pytest.fixture(scope="module")
def local_venv(clean_venv: Path, wheel: Path) -> Path:
    """The same venv with the ``local`` extra added."""
    _pip(
        clean_venv / "python",
        "install", "--no-index", "--find-links", WHEELHOUSE, f"{wheel}[local]",
        cwd=clean_venv,
    )  # fmt: skip
    return clean_venv


def test_with_the_local_extra_demo_runs_from_any_directory(
    local_venv: Path, elsewhere: Path
) -> None:
    # When the demo runs from an unrelated directory
    done = _run(local_venv / "lfv-monitor", "demo", "--json", cwd=elsewhere, timeout=300)
    # Then it finds the shipped template and scenario and its accounting agrees
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout)


@pytest.fixture
def local_up(local_venv: Path, elsewhere: Path) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        [local_venv / "lfv-monitor", "local", "up", "--aws-port", "0", "--simulator-port", "0"],
        cwd=elsewhere,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=60)


def test_with_the_local_extra_local_up_runs_from_any_directory(
    local_up: subprocess.Popen[str],
) -> None:
    # When `local up` starts from an unrelated directory
    assert local_up.stdout is not None
    line = local_up.stdout.readline()
    # Then it prints its JSON line, and after SIGTERM stdout holds nothing else
    assert line, local_up.stderr.read() if local_up.stderr else ""
    assert json.loads(line)["table_name"]
    local_up.send_signal(signal.SIGTERM)
    assert local_up.wait(timeout=60) == 0
    assert local_up.stdout.read() == ""
