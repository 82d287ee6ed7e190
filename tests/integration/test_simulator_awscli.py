"""AWS's own CLI (awscli 1.42.60, the last with these commands) works against the simulator.

The test installs awscli into a throwaway venv under ``.venv-tools/`` (outside git, reused by
later runs); it is skipped, saying why, only when that install is impossible (no PyPI access).
"""

from __future__ import annotations

import json
import os
import subprocess
import venv
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from lfv_workbench.simulator import SimulatorControl, SimulatorServer, example_scenario_path

AWSCLI = "awscli==1.42.60"
TOOLS = Path(__file__).resolve().parents[2] / ".venv-tools" / "awscli-1.42.60"


@pytest.fixture(scope="session")
def aws_cli() -> Path:
    aws = TOOLS / "bin" / "aws"
    if not aws.exists():
        venv.EnvBuilder(with_pip=True, clear=True).create(TOOLS)
        result = subprocess.run(
            [str(TOOLS / "bin" / "python"), "-m", "pip", "install", "--quiet", AWSCLI],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if result.returncode != 0 or not aws.exists():
            pytest.skip(f"cannot install {AWSCLI} into {TOOLS}: {result.stderr.strip()[-500:]}")
    return aws


def _aws(aws: Path, url: str, *args: str) -> dict[str, Any]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(TOOLS),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    }
    command = [str(aws), "lookoutvision", *args]
    command += ["--endpoint-url", url, "--region", "us-east-1", "--output", "json"]
    result = subprocess.run(
        command, capture_output=True, text=True, env=env, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    parsed: dict[str, Any] = json.loads(result.stdout)
    return parsed


def test_aws_cli_lists_starts_and_describes_jobs(aws_cli: Path) -> None:
    # Given the example scenario, 5 virtual minutes in
    with SimulatorServer(scenario=example_scenario_path(), speed=0) as server:
        control = SimulatorControl(server.url)
        control.set_faults({"*": {"rate_per_second": None}})
        control.set_time(300)
        # When the AWS CLI lists projects, starts a job, lists and describes jobs
        projects = _aws(aws_cli, server.url, "list-projects")
        started = _aws(
            aws_cli,
            server.url,
            "start-model-packaging-job",
            "--project-name", "widgets",
            "--model-version", "2",
            "--job-name", "cli-job",
            "--configuration",
            json.dumps({"Greengrass": {"TargetDevice": "jetson_xavier", "ComponentName": "cli-c",
                                       "S3OutputLocation": {"Bucket": "bucket"}}}),
        )  # fmt: skip
        listed = _aws(aws_cli, server.url, "list-model-packaging-jobs", "--project-name", "widgets")
        control.advance(200)
        described = _aws(
            aws_cli,
            server.url,
            "describe-model-packaging-job",
            "--project-name", "widgets",
            "--job-name", "cli-job",
        )  # fmt: skip
        calls = control.state()["calls"]
    # Then it reads the simulator as it read the service
    assert [p["ProjectName"] for p in projects["Projects"]] == ["gadgets", "widgets"]
    assert started == {"JobName": "cli-job"}
    jobs = {j["JobName"]: j for j in listed["ModelPackagingJobs"]}
    assert jobs["cam-1"]["Status"] == "SUCCEEDED"
    assert jobs["cli-job"]["Status"] == "CREATED"
    description = described["ModelPackagingDescription"]
    assert description["Status"] == "SUCCEEDED"
    assert description["ModelPackagingOutputDetails"]["Greengrass"]["ComponentVersion"] == "2.0.0"
    # (awscli v1 prints timestamps as the service sent them: epoch seconds)
    assert description["CreationTimestamp"] == datetime(2026, 11, 1, 0, 5, tzinfo=UTC).timestamp()
    assert calls["StartModelPackagingJob"] == 1
