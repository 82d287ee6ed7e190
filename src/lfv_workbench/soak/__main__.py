"""``python -m lfv_workbench.soak --seed 7 --cycles 500`` (``make soak``): run the seeded fault
soak and print its ledger; exit 1 when a promise is broken (docs/reliability.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lfv_workbench.soak.plan import SoakConfig
from lfv_workbench.soak.runner import run_soak


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lfv_workbench.soak",
        description="Seeded fault soak of the monitor on the local emulators (127.0.0.1).",
    )
    parser.add_argument("--seed", type=int, default=1, help="RNG seed (default 1)")
    parser.add_argument("--cycles", type=int, default=500, help="faulty cycles (default 500)")
    parser.add_argument("--clean-tail", type=int, default=3, help="clean cycles at the end (3)")
    parser.add_argument("--jobs", type=int, default=None, help="jobs (default 30 + cycles/10)")
    parser.add_argument("--log-dir", type=Path, default=None, help="keep subprocess logs here")
    parser.add_argument(
        "--strict",
        action="store_true",
        help="fail on duplicates after overlapping invocations too (the known gap)",
    )
    args = parser.parse_args(argv)
    if args.cycles < 1 or args.clean_tail < 1:
        parser.error("--cycles and --clean-tail must be at least 1")
    if args.jobs is not None and args.jobs < 1:
        parser.error("--jobs must be at least 1")
    result = run_soak(
        SoakConfig(
            seed=args.seed,
            cycles=args.cycles,
            clean_tail=args.clean_tail,
            jobs=args.jobs,
            log_dir=args.log_dir,
        )
    )
    result.strict = args.strict
    print(result.render())
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
