"""The pieces of packaging and deployment that need no server: the zip, the function's
environment as the stack resolves it, and their errors."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import pytest
from scripts.build_function import BuildError, build, main
from scripts.package_function import PackageError, sam_build, zip_folder

from lfv_workbench.local.stack import StackDeployError, StackOutputs


def test_the_zip_holds_every_file_relative_to_the_folder_and_is_reproducible(
    tmp_path: Path,
) -> None:
    # Given a built function folder
    folder = tmp_path / "PollerFunction"
    (folder / "pkg" / "data").mkdir(parents=True)
    (folder / "pkg" / "__init__.py").write_text("")
    (folder / "pkg" / "data" / "model.json.gz").write_bytes(b"\x1f\x8b" + b"x" * 100)
    # When it is zipped twice
    first = zip_folder(folder, tmp_path / "a.zip")
    second = zip_folder(folder, tmp_path / "b.zip")
    # Then the zip lists the files from the folder's root, readable by everyone
    assert first.files == ("pkg/__init__.py", "pkg/data/model.json.gz")
    with zipfile.ZipFile(first.zip_path) as archive:
        assert {info.external_attr >> 16 for info in archive.infolist()} == {0o100644}
    assert first.unzipped_bytes == 102
    # and the same tree gives the same bytes
    assert first.zip_path.read_bytes() == second.zip_path.read_bytes()
    assert "2 files" in first.summary()


def test_an_empty_folder_or_a_missing_sam_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(PackageError, match="holds no files"):
        zip_folder(tmp_path, tmp_path / "out.zip")
    with pytest.raises(PackageError, match=r"no SAM CLI at .*nowhere/sam.*make sam"):
        sam_build(tmp_path / "nowhere" / "sam", tmp_path / "build")


def write_tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def test_a_function_package_holds_its_handlers_import_closure_and_the_data_only(
    tmp_path: Path,
) -> None:
    # Given a source folder with a handler, what it imports (absolutely, relatively, inside a
    # function, as `from package import module`), what it does not, and the carried data
    source = tmp_path / "src"
    write_tree(
        source,
        {
            "app/__init__.py": "",
            "app/py.typed": "",
            "app/handlers/__init__.py": "",
            "app/handlers/main.py": "import json\nfrom ..domain import rules\nfrom . import io\n",
            "app/handlers/io.py": "def f():\n    from app.late import x\n",
            "app/handlers/other.py": "import app.cli\n",
            "app/domain/__init__.py": "from app.domain.base import Base\n",
            "app/domain/base.py": "import boto3\n",
            "app/domain/rules.py": "from app.domain import base\n",
            "app/domain/unused.py": "",
            "app/late.py": "x = 1\n",
            "app/cli.py": "",
            "app/data/model/service.json.gz": "gz",
            "app/data/__pycache__/x.pyc": "",
            "tools/helper.py": "",
        },
    )
    # When the handler's package is built
    artifacts = tmp_path / "artifacts"
    build(source, "app.handlers.main", artifacts)
    # Then it holds the handler, every module it reaches and every package on the way, the data
    built = sorted(p.relative_to(artifacts).as_posix() for p in artifacts.rglob("*") if p.is_file())
    assert built == [
        "app/__init__.py",
        "app/data/model/service.json.gz",
        "app/domain/__init__.py",
        "app/domain/base.py",
        "app/domain/rules.py",
        "app/handlers/__init__.py",
        "app/handlers/io.py",
        "app/handlers/main.py",
        "app/late.py",
    ]


def test_a_handler_that_is_not_there_is_refused_by_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(BuildError, match=r"handler module app\.nope not found under"):
        build(tmp_path, "app.nope", tmp_path / "out")
    assert main(["app.nope", str(tmp_path / "out"), "--source", str(tmp_path)]) == 1
    assert "app.nope not found" in capsys.readouterr().err


def stack_with(template: dict[str, Any], outputs: dict[str, str]) -> StackOutputs:
    names = {
        name: f"value-of-{name}"
        for name in (
            "table_name",
            "event_bus_name",
            "event_bus_arn",
            "topic_arn",
            "alarm_topic_arn",
            "function_name",
            "function_arn",
            "dead_letter_queue_url",
            "scheduler_dead_letter_queue_url",
            "schedule_name",
            "dashboard_name",
        )
    }
    return StackOutputs(
        stack_name="demo",
        region="eu-west-1",
        endpoint="http://127.0.0.1:1",
        outputs=outputs,
        template=template,
        parameters={"Stage": "prod", "Rate": "4"},
        **names,
    )


TEMPLATE: dict[str, Any] = {
    "Mappings": {"StageSettings": {"prod": {"LogLevel": "INFO"}}},
    "Resources": {
        "Poller": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "Environment": {
                    "Variables": {
                        "TABLE_NAME": {"Ref": "Table"},
                        "BUS_ARN": {"Fn::GetAtt": ["Bus", "Arn"]},
                        "RATE": {"Ref": "Rate"},
                        "SERVICE": {"Ref": "AWS::StackName"},
                        "LEVEL": {"Fn::FindInMap": ["StageSettings", {"Ref": "Stage"}, "LogLevel"]},
                        "FIXED": "x",
                    }
                }
            },
        },
        "Table": {"Type": "AWS::DynamoDB::Table"},
        "Bus": {"Type": "AWS::Events::EventBus"},
    },
    "Outputs": {
        "TableName": {"Value": {"Ref": "Table"}},
        "BusArn": {"Value": {"Fn::GetAtt": "Bus.Arn"}},
    },
}


def test_the_function_environment_resolves_resources_through_the_stack_outputs() -> None:
    stack = stack_with(TEMPLATE, {"TableName": "demo-table-1", "BusArn": "arn:bus"})
    assert stack.function_environment("Poller") == {
        "TABLE_NAME": "demo-table-1",
        "BUS_ARN": "arn:bus",
        "RATE": "4",
        "SERVICE": "demo",
        "LEVEL": "INFO",
        "FIXED": "x",
    }


def test_a_variable_no_output_names_is_refused_with_the_variable_and_the_function() -> None:
    stack = stack_with(TEMPLATE, {"TableName": "demo-table-1"})  # no output for the bus
    with pytest.raises(StackDeployError, match=r"Poller environment variable BUS_ARN"):
        stack.function_environment("Poller")
    with pytest.raises(StackDeployError, match=r"no function Nope; functions: Poller"):
        stack.function_environment("Nope")


def test_function_environment_evaluates_template_conditions() -> None:
    from lfv_workbench.local.template import static_value

    conditions = {
        "HasTrail": {"Fn::Equals": [{"Ref": "Trail"}, "ENABLED"]},
        "NoTrail": {"Fn::Not": [{"Condition": "HasTrail"}]},
    }
    value = {"Fn::If": ["HasTrail", {"Ref": "Periods"}, 1]}
    on = {"Trail": "ENABLED", "Periods": "10"}
    off = {"Trail": "DISABLED", "Periods": "10"}
    assert static_value(value, on, {}, where="FULL_SCAN_PERIODS", conditions=conditions) == "10"
    assert static_value(value, off, {}, where="FULL_SCAN_PERIODS", conditions=conditions) == 1
    negated = {"Fn::If": ["NoTrail", "a", "b"]}
    assert static_value(negated, off, {}, where="X", conditions=conditions) == "a"
