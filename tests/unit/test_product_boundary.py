"""The product (``lfv_monitor``, what runs in AWS) never imports the workbench."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PRODUCT = Path(__file__).resolve().parents[2] / "src" / "lfv_monitor"


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_no_product_module_imports_the_workbench_not_even_lazily() -> None:
    # Given every module of the product
    offenders = {
        str(path.relative_to(PRODUCT.parent)): sorted(
            name for name in imported_modules(path) if name.split(".")[0] == "lfv_workbench"
        )
        for path in PRODUCT.rglob("*.py")
    }
    # Then none names lfv_workbench in an import statement (the CLI loads the workbench's
    # commands by module name, lazily, and is checked below)
    assert {path: names for path, names in offenders.items() if names} == {}


def test_importing_the_product_loads_no_workbench_module() -> None:
    # Given a fresh interpreter that imports every product module
    modules = sorted(
        ".".join(path.relative_to(PRODUCT.parent).with_suffix("").parts).removesuffix(".__init__")
        for path in PRODUCT.rglob("*.py")
    )
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'lfv_workbench'))\n"
    )
    # When it has imported them all
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    # Then not one workbench module was loaded
    assert out.stdout.strip() == "[]"
