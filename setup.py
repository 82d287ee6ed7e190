"""Build hook: the wheel ships the files the local stack reads from the repository's top level.

``lfv-monitor local up`` and ``lfv-monitor demo`` deploy template.yaml; installed from a wheel they
find it at ``lfv_workbench/local/packaged/template.yaml``, copied here at build time so it cannot
drift from the repository's. An editable install (``make venv``) copies nothing: the workbench
reads the checkout's template.yaml directly. Everything else is in pyproject.toml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
#: Top-level files the workbench reads, and where they go inside the package.
PACKAGED = {"template.yaml": "lfv_workbench/local/packaged/template.yaml"}


class BuildPyWithTemplate(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for source, target in PACKAGED.items():
            destination = Path(self.build_lib) / target
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(ROOT / source, destination)


setup(cmdclass={"build_py": BuildPyWithTemplate})
