"""Build one Lambda function's package by inclusion: its handler's import closure + the model.

    python3 scripts/build_function.py HANDLER_MODULE ARTIFACTS_DIR [--source DIR]

The Makefile's ``build-<Function>`` rules call this (``sam build`` runs them with ``BuildMethod:
makefile``, from a copy of ``src/`` and with ``ARTIFACTS_DIR`` set). The package holds exactly:

- every module of the handler's top-level package that the handler imports, transitively (read
  from the source with ``ast``: module-level and function-level imports alike, and the
  ``__init__.py`` of every package on the way, which Python runs on import);
- the carried service model, ``<package>/data/**``.

Nothing else: no CLI, no workbench, no caches, no ``py.typed``. Standard library only, and no
import of the code it packages: it also runs in ``sam build --use-container``'s image.
"""

from __future__ import annotations

import argparse
import ast
import shutil
import sys
from pathlib import Path

#: The folder of package data every function carries (the Lookout for Vision service model).
DATA = "data"


class BuildError(Exception):
    """The handler or one of its imports could not be found in the source folder."""


def module_file(source: Path, module: str) -> Path | None:
    """The file that defines ``module`` under ``source`` (a package's ``__init__.py``), if any."""
    base = source.joinpath(*module.split("."))
    for candidate in (base / "__init__.py", base.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """The absolute name ``from ... import`` refers to, relative imports resolved."""
    if not node.level:
        return node.module or ""
    parts = module.split(".")
    keep = len(parts) - node.level + (1 if is_package else 0)
    base = ".".join(parts[:keep])
    return f"{base}.{node.module}" if node.module else base


def imported_names(tree: ast.AST, module: str, is_package: bool) -> set[str]:
    """Every name an import statement in ``tree`` may load as a module (``from a import b``
    gives ``a`` and ``a.b``: ``b`` is a submodule or an attribute of ``a``)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, module, is_package)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
    return names


def _with_parents(module: str) -> list[str]:
    parts = module.split(".")
    return [".".join(parts[: index + 1]) for index in range(len(parts))]


def import_closure(source: Path, handler_module: str) -> dict[str, Path]:
    """The modules of ``handler_module``'s top-level package it imports, transitively."""
    root = handler_module.split(".", maxsplit=1)[0]
    if module_file(source, handler_module) is None:
        raise BuildError(f"handler module {handler_module} not found under {source}")
    found: dict[str, Path] = {}
    pending = [handler_module]
    while pending:
        for name in _with_parents(pending.pop()):
            path = module_file(source, name)
            if name in found or path is None or name.split(".")[0] != root:
                continue
            found[name] = path
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            pending.extend(imported_names(tree, name, path.name == "__init__.py"))
    return found


def package_files(source: Path, handler_module: str) -> list[Path]:
    """The files of the package, relative to ``source``: the closure, then the carried data."""
    closure = import_closure(source, handler_module)
    files = {path.relative_to(source) for path in closure.values()}
    data = source / handler_module.split(".", maxsplit=1)[0] / DATA
    if data.is_dir():
        files.update(
            path.relative_to(source)
            for path in data.rglob("*")
            if path.is_file() and "__pycache__" not in path.parts
        )
    return sorted(files)


def build(source: Path, handler_module: str, artifacts: Path) -> list[Path]:
    """Copy the package's files from ``source`` into ``artifacts``; return them."""
    files = package_files(source, handler_module)
    for relative in files:
        target = artifacts / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / relative, target)
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("handler_module", help="e.g. lfv_monitor.handlers.poll")
    parser.add_argument("artifacts_dir", type=Path, help="where the package's files go")
    parser.add_argument("--source", type=Path, default=Path.cwd(), help="default: the cwd")
    args = parser.parse_args(argv)
    try:
        files = build(args.source, args.handler_module, args.artifacts_dir)
    except (BuildError, SyntaxError, OSError) as error:
        print(f"build_function: {error}", file=sys.stderr)
        return 1
    print(f"build_function: {args.handler_module}: {len(files)} files in {args.artifacts_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
