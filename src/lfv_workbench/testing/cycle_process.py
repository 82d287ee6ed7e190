"""Run one poll cycle in this process, as the Lambda does, and write its report to a file.

``python -m lfv_workbench.testing.cycle_process REPORT_FILE``: configuration and endpoints from
the environment (as the function).  ``LFV_MONITOR_NOW`` (ISO-8601), when set, is the cycle's
clock: the soak runs every invocation on the simulator's virtual time.  Exit 0 with the report
written; 1 with a traceback on stderr for an unhandled exception; a soak SIGKILLs it to simulate
a function killed mid-cycle.
"""

from __future__ import annotations

import json
import sys
import traceback


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m lfv_workbench.testing.cycle_process REPORT_FILE", file=sys.stderr)
        return 2
    import os
    from datetime import datetime

    from lfv_monitor.bootstrap import build_monitor
    from lfv_monitor.handlers.poll import lambda_handler
    from lfv_monitor.lambda_context import LocalContext, scheduled_event

    now = os.environ.get("LFV_MONITOR_NOW")
    try:
        if now:
            fixed = datetime.fromisoformat(now.replace("Z", "+00:00"))
            monitor = build_monitor(clock=lambda: fixed)
        else:
            monitor = build_monitor()
        summary = lambda_handler(scheduled_event(), LocalContext(), service=monitor)
    except Exception:  # the soak counts these as unhandled exceptions
        traceback.print_exc()
        return 1
    with open(argv[0], "w", encoding="utf-8") as out:
        json.dump(summary, out, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
