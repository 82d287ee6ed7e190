"""The shared Powertools Logger, Tracer and Metrics (one of each per process)."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any, TypeVar, cast

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

SERVICE = "lfv-monitor"
NAMESPACE = "LfvMonitor"


def _logger() -> Logger:
    """Powertools reads POWERTOOLS_SERVICE_NAME / POWERTOOLS_LOG_LEVEL itself.  A level that is
    no level would fail this module's import (a traceback at init); the logger then logs at INFO
    and the configuration check (``config.py``) reports the variable by name."""
    try:
        return Logger(service=SERVICE)
    except ValueError:
        return Logger(service=SERVICE, level="INFO")


logger = _logger()
metrics = Metrics(service=SERVICE)


def _tracing_possible() -> bool:
    """Tracing works only inside Lambda (the X-Ray daemon is there) and when not turned off.

    Building Powertools' Tracer loads the X-Ray SDK (~0.1-0.2 s); elsewhere (the CLI, the demo,
    tests, benchmarks) it would be disabled anyway, so it is not built at all.
    """
    disabled = os.environ.get("POWERTOOLS_TRACE_DISABLED", "").lower() in {"1", "true"}
    return bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME")) and not disabled


tracer: Tracer | None = Tracer(service=SERVICE) if _tracing_possible() else None

F = TypeVar("F", bound=Callable[..., Any])


def capture_lambda_handler(handler: F) -> F:
    """``tracer.capture_lambda_handler`` where tracing is possible; the handler as is elsewhere."""
    if tracer is None:
        return handler
    return cast(F, tracer.capture_lambda_handler(handler))


if not metrics.namespace:
    metrics.namespace = NAMESPACE

# The domain and the adapters log with the standard library under "lfv_monitor.*" (they must not
# build Powertools objects at import); their parent logger gets Powertools' JSON formatter, so
# their structured ``extra`` keys and the cycle's correlation id appear in the same log lines.
logging.getLogger("lfv_monitor")
copy_config_to_registered_loggers(source_logger=logger, include={"lfv_monitor"})
