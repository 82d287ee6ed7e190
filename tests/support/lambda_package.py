"""The poller's Lambda package and an emulated Lambda runtime to run it in, for tests.

``poller_package``: the package `sam deploy` would upload (``scripts/package_function.py``: the
pinned ``sam build`` + zip), built once per session, with the zip extracted to ``.task_root``.
``sam_cli``: the pinned SAM CLI, installed once.
``lambda_runtime_python``: the interpreter of ``.venv-tools/lambda-runtime``, which holds only
what Lambda gives the function (the runtime's boto3, the Powertools layer; pinned in
requirements/tools-lambda-runtime.txt). Both venvs are made once by ``make`` and reused.
``invoke_packaged(...)``: one invocation of the packaged handler in that runtime.
"""

from __future__ import annotations

import json
import subprocess
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from scripts.package_function import ROOT, Package, build_package

BOOTSTRAP = Path(__file__).with_name("lambda_bootstrap.py")
RUNTIME_PYTHON = ROOT / ".venv-tools" / "lambda-runtime" / "bin" / "python"
SAM = ROOT / ".venv-tools" / "sam" / "bin" / "sam"


@dataclass(frozen=True)
class BuiltPackage:
    package: Package
    task_root: Path  # the zip, extracted: what Lambda puts in /var/task


@dataclass(frozen=True)
class Invocation:
    outcome: dict[str, Any]
    stdout: str
    stderr: str

    @property
    def result(self) -> dict[str, Any]:
        assert "error" not in self.outcome, self.outcome.get("traceback") or self.stderr
        result: dict[str, Any] = self.outcome["result"]
        return result

    def json_lines(self) -> list[dict[str, Any]]:
        """stdout's JSON lines: Powertools' logs and metrics (EMF), as CloudWatch gets them."""
        lines = []
        for line in self.stdout.splitlines():
            if line.startswith("{"):
                lines.append(json.loads(line))
        return lines


def _make(*targets: str) -> None:
    result = subprocess.run(
        ["make", "-s", *targets], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"make {' '.join(targets)} failed:\n{result.stderr}"


@pytest.fixture(scope="session")
def lambda_runtime_python() -> Path:
    _make("lambda-runtime")  # a no-op once .venv-tools/lambda-runtime is current
    return RUNTIME_PYTHON


@pytest.fixture(scope="session")
def sam_cli() -> Path:
    _make("sam")  # a no-op once .venv-tools/sam is current
    return SAM


@pytest.fixture(scope="session")
def poller_package(tmp_path_factory: pytest.TempPathFactory, sam_cli: Path) -> BuiltPackage:
    work = tmp_path_factory.mktemp("package")
    package = build_package(SAM, work / "build", work / "poller.zip")
    task_root = work / "task"
    with zipfile.ZipFile(package.zip_path) as archive:
        archive.extractall(task_root)
    return BuiltPackage(package, task_root)


def invoke_packaged(
    python: Path,
    task_root: Path,
    environment: Mapping[str, str],
    event: Mapping[str, Any],
) -> Invocation:
    """Run the handler ``environment["_HANDLER"]`` once from ``task_root`` in ``python``.

    The child gets exactly ``environment`` (nothing inherited) and ``python -I``: no
    PYTHONPATH, no user site, no current directory on ``sys.path``.
    """
    result = subprocess.run(
        [str(python), "-I", "-c", BOOTSTRAP.read_text(), str(task_root), json.dumps(event)],
        cwd=task_root,
        env=dict(environment),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    marker = "LAMBDA-RESULT "
    lines = [line for line in result.stdout.splitlines() if line.startswith(marker)]
    assert lines, f"the runtime stopped before the handler returned:\n{result.stderr}"
    stdout = "\n".join(line for line in result.stdout.splitlines() if not line.startswith(marker))
    return Invocation(json.loads(lines[-1][len(marker) :]), stdout, result.stderr)
