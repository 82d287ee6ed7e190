"""The artifact `sam deploy` uploads for the poller: what is in it, and that it runs on Lambda's
runtime + the declared layer alone (emulated: .venv-tools/lambda-runtime, Python 3.11 standing
in for python3.13)."""

from __future__ import annotations

import modulefinder
from pathlib import Path
from typing import Any

import boto3
import pytest
from scripts.package_function import build_package

from lfv_monitor.adapters.dynamodb import DynamoDBSnapshotStore
from lfv_monitor.domain.models import JobKey
from lfv_monitor.lambda_context import scheduled_event
from lfv_workbench.local.template import load_template
from lfv_workbench.simulator import SimulatorControl, SimulatorServer
from tests.support.lambda_package import BuiltPackage, invoke_packaged
from tests.support.table import create_monitor_table

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"
_TEMPLATE = load_template(ROOT / "template.yaml")
RESOURCES = _TEMPLATE["Resources"]
#: The poller's properties with what it takes from Globals.Function (as SAM merges them).
POLLER = {
    **_TEMPLATE["Globals"]["Function"],
    **RESOURCES["PollerFunction"]["Properties"],
}
FUNCTIONS = sorted(
    name for name, resource in RESOURCES.items() if resource["Type"] == "AWS::Serverless::Function"
)
MODEL = "lfv_monitor/data/lookoutvision/2020-11-20/"
RUNTIME_PINS = (ROOT / "requirements" / "tools-lambda-runtime.txt").read_text()


def test_the_package_holds_the_handler_and_the_carried_model_and_nothing_else(
    poller_package: BuiltPackage, record_property: Any
) -> None:
    # Given the package `sam build` makes from CodeUri src/, zipped
    package = poller_package.package
    files = set(package.files)
    print(package.summary())
    record_property("package_zip_bytes", package.zip_bytes)
    record_property("package_unzipped_bytes", package.unzipped_bytes)
    # Then it holds the handler module the template names, at the zip's root
    module = POLLER["Handler"].rpartition(".")[0]
    assert module.replace(".", "/") + ".py" in files
    # and the carried Lookout for Vision model with its notice
    assert {
        MODEL + "service-2.json.gz",
        MODEL + "paginators-1.json",
        MODEL + "endpoint-rule-set-1.json.gz",
        "lfv_monitor/data/lookoutvision/NOTICE",
    } <= files
    # and no tests, caches, build metadata, nor what only the CLI and the tests use
    unwanted = [
        name
        for name in files
        if name.startswith(("tests/", "lfv_workbench/"))
        or name.startswith(("lfv_monitor/commands/", "lfv_monitor/cli.py"))
        or "__pycache__" in name
        or name.endswith((".pyc", ".json.tmp"))
        or ".egg-info" in name
        or "scenarios" in name
    ]
    assert unwanted == []
    assert all(name.startswith("lfv_monitor/") for name in files)
    # and it stays small (Lambda's limit for a direct upload is 50 MB zipped)
    assert package.zip_bytes < 1_000_000


def handler_closure(handler: str) -> set[str]:
    """The files of the lfv_monitor modules the handler imports, transitively, as the standard
    library's modulefinder reads them from the compiled code (imports inside functions too)."""
    finder = modulefinder.ModuleFinder(path=[str(SRC)])  # lfv_monitor only: the rest is not found
    finder.import_hook(handler.rpartition(".")[0])
    return {
        Path(module.__file__).relative_to(SRC).as_posix()
        for name, module in finder.modules.items()
        if name.split(".")[0] == "lfv_monitor" and module.__file__
    }


CARRIED_MODEL = {
    path.relative_to(SRC).as_posix()
    for path in (SRC / "lfv_monitor" / "data").rglob("*")
    if path.is_file() and "__pycache__" not in path.parts
}


@pytest.mark.parametrize("function", FUNCTIONS)
def test_each_package_is_its_handlers_import_closure_plus_the_carried_model(
    function: str, tmp_path: Path, sam_cli: Path
) -> None:
    # Given the function's package as `sam build` makes it (its Makefile rule)
    handler = RESOURCES[function]["Properties"]["Handler"]
    package = build_package(sam_cli, tmp_path / "build", tmp_path / "f.zip", function=function)
    # Then its files are exactly the modules its handler imports and the carried model
    closure = handler_closure(handler)
    assert handler.rpartition(".")[0].replace(".", "/") + ".py" in closure
    assert set(package.files) - CARRIED_MODEL == closure
    assert set(package.files) >= CARRIED_MODEL


@pytest.fixture
def resources(aws_endpoint: str) -> dict[str, str]:
    dynamodb = boto3.client("dynamodb", endpoint_url=aws_endpoint)
    events = boto3.client("events", endpoint_url=aws_endpoint)
    sns = boto3.client("sns", endpoint_url=aws_endpoint)
    events.create_event_bus(Name="packaging-bus")
    return {
        "TABLE_NAME": create_monitor_table(dynamodb),
        "EVENT_BUS_NAME": "packaging-bus",
        "TOPIC_ARN": sns.create_topic(Name="packaging-topic")["TopicArn"],
    }


def test_the_packaged_handler_runs_a_cycle_with_only_the_runtime_and_the_layer(
    *,
    aws_endpoint: str,
    simulator: SimulatorServer,
    simulator_control: SimulatorControl,
    lambda_runtime_python: Path,
    poller_package: BuiltPackage,
    resources: dict[str, str],
) -> None:
    # Given an account with one job and a Python holding only the runtime's boto3 and the layer
    simulator_control.load_scenario(
        {
            "projects": [
                {
                    "name": "widgets",
                    "jobs": [
                        {
                            "name": "ok-1",
                            "timeline": [{"at": 0, "status": "SUCCEEDED", "message": "done"}],
                        }
                    ],
                }
            ]
        }
    )
    environment = {
        **resources,
        "_HANDLER": POLLER["Handler"],
        "AWS_LAMBDA_FUNCTION_NAME": "lfv-monitor-poller",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(POLLER["MemorySize"]),
        "AWS_LAMBDA_FUNCTION_TIMEOUT": str(POLLER["Timeout"]),
        "POWERTOOLS_TRACE_DISABLED": "true",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_ENDPOINT_URL": aws_endpoint,
        "AWS_ENDPOINT_URL_LOOKOUTVISION": simulator.url,
    }
    # When the packaged handler is invoked from the extracted zip
    invocation = invoke_packaged(
        lambda_runtime_python, poller_package.task_root, environment, scheduled_event()
    )
    # Then it ran a cycle: the first one, which records the job silently
    report = invocation.result
    assert (report["baseline"], report["unreachable"], report["jobsSeen"]) == (True, False, 1)
    table = DynamoDBSnapshotStore(
        resources["TABLE_NAME"], client=boto3.client("dynamodb", endpoint_url=aws_endpoint)
    )
    assert [c.status for c in table.history(JobKey("widgets", "ok-1"))] == ["SUCCEEDED"]
    # with the code from the package, boto3 from the runtime and Powertools from the layer
    origins = invocation.outcome["origins"]
    assert origins["lfv_monitor"].startswith(str(poller_package.task_root))
    runtime = str(lambda_runtime_python.parent.parent)
    for library in ("boto3", "aws_lambda_powertools"):
        assert origins[library].startswith(runtime), (library, origins[library])
    # pydantic stays unloaded: the poller's cold start does without it (docs: P4)
    assert not origins.get("pydantic")
    assert f"botocore=={invocation.outcome['botocore']}" in RUNTIME_PINS
    # and none of the CLI's or the tests' libraries could even have been imported
    assert invocation.outcome["importable"] == []
