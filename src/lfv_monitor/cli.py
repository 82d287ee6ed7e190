"""``lfv-monitor``: the command line.

Each subcommand lives in a module that exposes ``register(subparsers) -> None``; the parser it
adds sets ``func(args) -> int``. The product's commands (``poll`` and the audit questions) are in
``lfv_monitor.commands``; the workbench's (``demo``, ``local``, ``simulator``) are in
``lfv_workbench.commands``. Commands import their heavy dependencies (moto, rich) inside ``func``
so ``--help`` is fast and needs neither.
"""

from __future__ import annotations

import argparse
import importlib
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
    "lfv_workbench.commands.simulator",
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
    try:
        code: int = args.func(args)
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
