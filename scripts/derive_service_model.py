#!/usr/bin/env python3
"""Derive the Lookout for Vision service model that lfv-monitor carries.

botocore dropped the ``lookoutvision`` client in 1.40.61.  This script downloads the
``botocore==1.40.60`` wheel from PyPI (the last release that has it), keeps only the
operations the project uses with the shapes they reach, drops every documentation string,
and writes the result under ``src/lfv_monitor/data/lookoutvision/2020-11-20/``.

It is re-runnable and deterministic; tests and CI never run it (the output is committed).

    python scripts/derive_service_model.py            # download and write
    python scripts/derive_service_model.py --wheel W  # use a wheel already on disk
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

BOTOCORE_VERSION = "1.40.60"
SERVICE = "lookoutvision"
API_VERSION = "2020-11-20"
OPERATIONS = (
    "ListProjects",
    "CreateProject",
    "DescribeProject",
    "DeleteProject",
    "StartModelPackagingJob",
    "ListModelPackagingJobs",
    "DescribeModelPackagingJob",
)
OUT_DIR = (
    Path(__file__).resolve().parents[1] / "src" / "lfv_monitor" / "data" / SERVICE / API_VERSION
)
PREFIX = f"botocore/data/{SERVICE}/{API_VERSION}/"


def _strip_docs(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _strip_docs(v) for k, v in node.items() if k != "documentation"}
    if isinstance(node, list):
        return [_strip_docs(v) for v in node]
    return node


def _reachable_shapes(model: dict[str, Any]) -> set[str]:
    shapes = model["shapes"]
    todo: list[str] = []
    for name in OPERATIONS:
        op = model["operations"][name]
        todo += [op[k]["shape"] for k in ("input", "output") if k in op]
        todo += [e["shape"] for e in op.get("errors", [])]
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        shape = shapes[name]
        for member in shape.get("members", {}).values():
            todo.append(member["shape"])
        for key in ("member", "key", "value"):
            if key in shape:
                todo.append(shape[key]["shape"])
    return seen


def derive(files: dict[str, bytes]) -> dict[str, bytes]:
    """Return the trimmed files (name -> bytes) from the wheel's files."""
    model = json.loads(gzip.decompress(files["service-2.json.gz"]))
    missing = [op for op in OPERATIONS if op not in model["operations"]]
    if missing:
        raise SystemExit(f"operations missing from botocore {BOTOCORE_VERSION}: {missing}")
    keep = _reachable_shapes(model)
    trimmed = {
        "version": model["version"],
        "metadata": model["metadata"],
        "operations": {op: _strip_docs(model["operations"][op]) for op in OPERATIONS},
        "shapes": {name: _strip_docs(model["shapes"][name]) for name in sorted(keep)},
    }
    paginators = json.loads(files["paginators-1.json"])
    paginators["pagination"] = {
        k: v for k, v in sorted(paginators["pagination"].items()) if k in OPERATIONS
    }

    def dump(obj: Any) -> bytes:
        return (json.dumps(obj, indent=1, sort_keys=True) + "\n").encode()

    return {
        "service-2.json.gz": gzip.compress(dump(trimmed), mtime=0),
        "paginators-1.json": dump(paginators),
        "endpoint-rule-set-1.json.gz": gzip.compress(
            gzip.decompress(files["endpoint-rule-set-1.json.gz"]), mtime=0
        ),
    }


def _download(dest: Path) -> Path:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--quiet",
            f"botocore=={BOTOCORE_VERSION}",
            "-d",
            str(dest),
        ],
        check=True,
    )
    return next(dest.glob(f"botocore-{BOTOCORE_VERSION}-*.whl"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, help="a botocore 1.40.60 wheel already on disk")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or _download(Path(tmp))
        with zipfile.ZipFile(wheel) as zf:
            files = {n[len(PREFIX) :]: zf.read(n) for n in zf.namelist() if n.startswith(PREFIX)}
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for name, data in derive(files).items():
        (OUT_DIR / name).write_bytes(data)
        print(f"wrote {OUT_DIR / name} ({len(data)} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
