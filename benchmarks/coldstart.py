"""P4: cold start, in fresh processes: importing the handler module and building the service,
against a baseline of boto3 + Powertools Logger/Metrics + 4 clients, measured in the same run
(interleaved, so both see the same machine load).  Reports medians in milliseconds.

The baseline's four clients are DynamoDB, EventBridge, SNS and SQS (the monitor's fourth,
Lookout for Vision, is not in botocore; SQS is a similarly small model).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from collections.abc import Mapping
from typing import Any

MONITOR = """
import time
t = time.perf_counter()
import lfv_monitor.handlers.poll
from lfv_monitor.bootstrap import build_monitor
build_monitor()
print((time.perf_counter() - t) * 1000)
"""

BASELINE = """
import time
t = time.perf_counter()
import boto3
from aws_lambda_powertools import Logger, Metrics
Logger(service="baseline")
Metrics(namespace="Baseline", service="baseline")
session = boto3.Session()
for name in ("dynamodb", "events", "sns", "sqs"):
    session.client(name)
print((time.perf_counter() - t) * 1000)
"""

ENV = {
    "TABLE_NAME": "lfv-bench",
    "EVENT_BUS_NAME": "lfv-bench-bus",
    "TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:lfv-bench-topic",
    "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
    "AWS_ENDPOINT_URL_LOOKOUTVISION": "http://127.0.0.1:9",
}


def _once(code: str, env: Mapping[str, str]) -> float:
    out = subprocess.run(
        [sys.executable, "-c", code], env=dict(env), check=True, capture_output=True, text=True
    )
    return float(out.stdout.strip().splitlines()[-1])


def measure(
    base_env: Mapping[str, str], *, runs: int = 15, in_lambda: bool = False
) -> dict[str, Any]:
    """``in_lambda``: with ``AWS_LAMBDA_FUNCTION_NAME`` set and tracing not disabled, as the
    deployed function (Tracing: Active) starts: the handler module then builds the X-Ray
    tracer.  The baseline is the same in both."""
    env = {**os.environ, **base_env, **ENV}
    if in_lambda:
        env["AWS_LAMBDA_FUNCTION_NAME"] = "lfv-monitor-bench"
        env.pop("POWERTOOLS_TRACE_DISABLED", None)
    monitor: list[float] = []
    baseline: list[float] = []
    _once(MONITOR, env)  # warm the file-system cache and .pyc files for both
    _once(BASELINE, env)
    for _ in range(runs):
        monitor.append(_once(MONITOR, env))
        baseline.append(_once(BASELINE, env))
    m, b = statistics.median(monitor), statistics.median(baseline)
    return {
        "runs": runs,
        "monitor_ms": round(m, 1),
        "baseline_ms": round(b, 1),
        "ratio": round(m / b, 3),
        "monitor_all_ms": [round(x, 1) for x in monitor],
        "baseline_all_ms": [round(x, 1) for x in baseline],
    }
