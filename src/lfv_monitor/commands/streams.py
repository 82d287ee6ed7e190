"""The CLI's streams: stdout carries only the command's answer; every log line goes to stderr.

Powertools' ``Logger`` writes to the ``sys.stdout`` it saw when it was built (right for Lambda,
where both streams land in CloudWatch Logs); a terminal command must keep stdout for its output,
so ``--json`` is exactly one JSON document a pipe can parse.
"""

from __future__ import annotations

import logging
import sys


def logs_to_stderr(*, verbose: bool) -> None:
    """Point every log handler that writes to stdout at stderr; ``verbose`` shows DEBUG lines,
    otherwise only warnings and errors."""
    loggers = [logging.getLogger()] + [
        item
        for item in logging.Logger.manager.loggerDict.values()
        if isinstance(item, logging.Logger)
    ]
    stdouts = {id(sys.stdout), id(sys.__stdout__)}
    for each in loggers:
        for handler in each.handlers:
            if isinstance(handler, logging.StreamHandler) and id(handler.stream) in stdouts:
                handler.setStream(sys.stderr)
    level = logging.DEBUG if verbose else logging.WARNING
    for name in ("lfv_monitor", "lfv-monitor"):
        logging.getLogger(name).setLevel(level)
