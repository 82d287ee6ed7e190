"""Build a function's Lambda package as `sam deploy` would upload it, zip it, print its size.

1. ``sam build <Function>`` (default: PollerFunction) with the pinned SAM CLI (``make sam``
   installs it in ``.venv-tools/sam``). template.yaml builds every function with ``BuildMethod:
   makefile``: SAM copies ``CodeUri`` (src/) and runs the Makefile's ``build-<Function>`` rule,
   which copies in the handler's import closure and the carried model, nothing else
   (``scripts/build_function.py``). No Docker,
   no Python 3.13 and no network: telemetry is off and SAM's weekly version check is pointed at
   a closed port on 127.0.0.1.
2. Zip the built folder the way ``sam deploy`` does (every file, paths relative to the folder),
   reproducibly: sorted names, fixed timestamps, mode 0644.

    python scripts/package_function.py [--function NAME] [--sam PATH] [--build-dir DIR]
        [--zip FILE]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
FUNCTION = "PollerFunction"
DEFAULT_SAM = ROOT / ".venv-tools" / "sam" / "bin" / "sam"
DEFAULT_BUILD_DIR = ROOT / "build" / "sam"
DEFAULT_ZIP = ROOT / "build" / "poller.zip"
#: Zip entries' timestamp: the earliest a zip can hold, so equal trees give equal zips.
FIXED_TIME = (1980, 1, 1, 0, 0, 0)


class PackageError(Exception):
    """The function could not be built or zipped."""


@dataclass(frozen=True)
class Package:
    """A built and zipped function package."""

    folder: Path
    zip_path: Path
    function: str
    files: tuple[str, ...]
    zip_bytes: int
    unzipped_bytes: int

    def summary(self) -> str:
        return (
            f"{self.function} package: {self.zip_path} {self.zip_bytes:,} bytes zipped "
            f"({self.unzipped_bytes:,} bytes in {len(self.files)} files)"
        )


def sam_build(
    sam: Path, build_dir: Path, *, template: Path = TEMPLATE, function: str = FUNCTION
) -> Path:
    """Run ``sam build <function>`` into ``build_dir``; return the function's built folder."""
    if not sam.is_file():
        raise PackageError(f"no SAM CLI at {sam}: run `make sam` (or pass --sam PATH)")
    env = {
        **os.environ,
        "SAM_CLI_TELEMETRY": "0",
        # The build itself is offline; the weekly "newer version" check is sent nowhere.
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "HTTP_PROXY": "http://127.0.0.1:9",
        "NO_PROXY": "",
    }
    command = [
        str(sam),
        "build",
        function,
        "--template-file",
        str(template),
        "--build-dir",
        str(build_dir),
        "--no-cached",
        "--region",
        "us-east-1",
    ]
    result = subprocess.run(
        command, cwd=template.parent, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise PackageError(
            f"`{' '.join(command)}` failed ({result.returncode}):\n{result.stdout}{result.stderr}"
        )
    folder = build_dir / function
    if not folder.is_dir():
        raise PackageError(f"sam build succeeded but left no {folder}")
    return folder


def zip_folder(folder: Path, zip_path: Path, function: str = FUNCTION) -> Package:
    """Zip every file under ``folder`` (paths relative to it) into ``zip_path``."""
    files = sorted(path for path in folder.rglob("*") if path.is_file())
    if not files:
        raise PackageError(f"{folder} holds no files to zip")
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    names: list[str] = []
    unzipped = 0
    with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            name = path.relative_to(folder).as_posix()
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.external_attr = 0o100644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            data = path.read_bytes()
            archive.writestr(info, data)
            names.append(name)
            unzipped += len(data)
    return Package(folder, zip_path, function, tuple(names), zip_path.stat().st_size, unzipped)


def build_package(
    sam: Path, build_dir: Path, zip_path: Path, *, function: str = FUNCTION
) -> Package:
    return zip_folder(sam_build(sam, build_dir, function=function), zip_path, function)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--function", default=FUNCTION, help="the template's logical id")
    parser.add_argument("--sam", type=Path, default=DEFAULT_SAM, help="the SAM CLI to run")
    parser.add_argument("--build-dir", type=Path, default=DEFAULT_BUILD_DIR)
    parser.add_argument("--zip", type=Path, default=DEFAULT_ZIP, help="where to write the zip")
    args = parser.parse_args(argv)
    try:
        package = build_package(args.sam, args.build_dir, args.zip, function=args.function)
    except PackageError as error:
        print(f"package_function: {error}", file=sys.stderr)
        return 1
    print(package.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
