"""The shared Powertools Logger, Tracer and Metrics (one of each per process)."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = "lfv-monitor"
NAMESPACE = "LfvMonitor"

# Powertools reads POWERTOOLS_SERVICE_NAME / POWERTOOLS_METRICS_NAMESPACE / POWERTOOLS_LOG_LEVEL
# itself; these are only the defaults when they are unset.
logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(service=SERVICE)
if not metrics.namespace:
    metrics.namespace = NAMESPACE
