"""The shared Powertools Logger, Tracer and Metrics (one of each per process)."""

from __future__ import annotations

import logging

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

SERVICE = "lfv-monitor"
NAMESPACE = "LfvMonitor"

# Powertools reads POWERTOOLS_SERVICE_NAME / POWERTOOLS_METRICS_NAMESPACE / POWERTOOLS_LOG_LEVEL
# itself; these are only the defaults when they are unset.
logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(service=SERVICE)
if not metrics.namespace:
    metrics.namespace = NAMESPACE

# The domain and the adapters log with the standard library under "lfv_monitor.*" (they must not
# build Powertools objects at import); their parent logger gets Powertools' JSON formatter, so
# their structured ``extra`` keys and the cycle's correlation id appear in the same log lines.
logging.getLogger("lfv_monitor")
copy_config_to_registered_loggers(source_logger=logger, include={"lfv_monitor"})
