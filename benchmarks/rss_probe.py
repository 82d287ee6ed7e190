"""P5: one cycle in a fresh process, as a cold Lambda container runs it; reports peak RSS.

Run by the benchmark with the function's environment (``python -m benchmarks.rss_probe
--timeout S OUT.json``); the simulator and moto run in other processes, so only the function's
own memory counts.  ``ru_maxrss`` is in KiB on Linux.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path


def maxrss_mb() -> float:
    """``ru_maxrss``: on Linux it is carried over from the parent across fork and exec, so a
    probe started by a large benchmark process starts at the parent's size."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def peak_rss_mb() -> float:
    """This process's own peak (``VmHWM``: the new address space's high-water mark)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return maxrss_mb()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    started = time.perf_counter()
    from lfv_monitor.bootstrap import build_monitor
    from lfv_monitor.handlers.poll import lambda_handler
    from lfv_monitor.lambda_context import LocalContext, scheduled_event

    monitor = build_monitor()
    after_build = peak_rss_mb()
    summary = lambda_handler(
        scheduled_event(), LocalContext(timeout_seconds=args.timeout), service=monitor
    )
    args.out.write_text(
        json.dumps(
            {
                "peak_rss_mb": peak_rss_mb(),
                "ru_maxrss_mb": maxrss_mb(),
                "rss_after_build_mb": after_build,
                "seconds": round(time.perf_counter() - started, 2),
                "jobs_seen": summary.get("jobsSeen"),
                "jobs_described": summary.get("jobsDescribed"),
                "changes": summary.get("changesRecorded"),
            }
        )
    )


if __name__ == "__main__":
    main()
