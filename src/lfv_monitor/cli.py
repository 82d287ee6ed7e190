"""``lfv-monitor``: the command line.

Each subcommand lives in a module that exposes ``register(subparsers) -> None``; the parser it
adds sets ``func(args) -> int``. The product's commands (``poll`` and the audit questions) are in
``lfv_monitor.commands``; the workbench's (``demo``, ``local``, ``simulator``) are in
``lfv_workbench.commands``. Commands import their heavy dependencies (moto, rich) inside ``func``
so ``--help`` is fast and needs neither.

``pip install lfv-monitor`` gives every product command; the workbench's local stack and demo
need the ``local`` extra, and say so in one line (exit 2) when it is missing.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from collections.abc import Sequence

from lfv_monitor import __version__

#: Subcommand modules, in the order ``--help`` lists them.
COMMANDS: tuple[str, ...] = (
    "lfv_workbench.commands.demo",
    "lfv_workbench.commands.local",
    "lfv_monitor.commands.poll",
    "lfv_monitor.commands.history",
    "lfv_monitor.commands.changes",
    "lfv_monitor.commands.jobs",
    "lfv_monitor.commands.doctor",
    "lfv_workbench.commands.simulator",
)

#: The extra that provides the workbench's emulators, and the modules each command needs from it
#: (top-level import names; the simulator needs none).
LOCAL_EXTRA = "local"
NEEDS_LOCAL_EXTRA: dict[str, tuple[str, ...]] = {
    "demo": ("moto", "flask", "yaml", "samtranslator"),
    "local": ("moto", "flask", "yaml", "samtranslator"),
}


def missing_extra(command: str) -> str | None:
    """One line naming the extra to install when ``command`` needs modules that are absent."""
    missing = [m for m in NEEDS_LOCAL_EXTRA.get(command, ()) if importlib.util.find_spec(m) is None]
    if not missing:
        return None
    return (
        f"lfv-monitor {command} needs the '{LOCAL_EXTRA}' extra (missing: {', '.join(missing)}): "
        f"pip install 'lfv-monitor[{LOCAL_EXTRA}]'"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lfv-monitor",
        description=(
            "Watch Amazon Lookout for Vision model packaging jobs: record every change in "
            "DynamoDB and announce it on EventBridge and SNS. Also runs the local simulator "
            "and stack used by the demo and the tests."
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMANDS:
        importlib.import_module(module).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    problem = missing_extra(args.command)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    try:
        code: int = args.func(args)
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
