"""``lfv-monitor``: the command line.

Each subcommand lives in ``lfv_monitor.commands.<name>`` and exposes
``register(subparsers) -> None``; the parser it adds sets ``func(args) -> int``.
Commands import their heavy dependencies (moto, rich) inside ``func`` so ``--help`` is fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from lfv_monitor import __version__

#: Subcommand modules, in the order ``--help`` lists them.
COMMANDS: tuple[str, ...] = (
    "demo",
    "local",
    "poll",
    "history",
    "changes",
    "jobs",
    "simulator",
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
    for name in COMMANDS:
        importlib.import_module(f"lfv_monitor.commands.{name}").register(sub)
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
