"""The target queue's SQS event (multi-target mode): one poll cycle per message, of the target
the message names (the dispatcher's body: target, period, roleArn).

A target that fails (its role missing or denied, its region not served, throttled) ends in its
own health verdict and metrics and the invocation returns normally: raising would only redrive
the message, and after three receives put it in the DLQ. Only a message that is not a target
message raises (it can never succeed: the DLQ keeps it, and its alarm fires).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from lfv_monitor import fleet as fleets
from lfv_monitor.domain.cycle import CycleReport
from lfv_monitor.domain.errors import ConfigurationError
from lfv_monitor.domain.targets import TargetMessage, parse_target_message
from lfv_monitor.fleet import Fleet
from lfv_monitor.handlers.cycle_metrics import emit_metrics
from lfv_monitor.observability import logger, metrics


def is_target_event(event: dict[str, Any]) -> bool:
    """An SQS event source mapping's event (``Records`` from ``aws:sqs``)."""
    records = event.get("Records")
    return (
        isinstance(records, list)
        and bool(records)
        and all(isinstance(r, dict) and r.get("eventSource") == "aws:sqs" for r in records)
    )


def poll_targets(
    event: dict[str, Any], context: LambdaContext, fleet: Fleet | None
) -> dict[str, object]:
    """One cycle per record (the mapping's batch size is 1: one target per invocation)."""
    records: list[dict[str, Any]] = event["Records"]
    summaries = []
    for index, record in enumerate(records):
        where = f"target message {record.get('messageId') or index}"
        message = parse_target_message(record.get("body"), where=where)
        if index:  # each target's metrics in their own EMF record, with its own dimension
            metrics.flush_metrics()
        summaries.append(_poll(message, record, context, fleet))
    return summaries[0] if len(summaries) == 1 else {"cycles": summaries}


def _poll(
    message: TargetMessage, record: dict[str, Any], context: LambdaContext, fleet: Fleet | None
) -> dict[str, object]:
    target = message.target
    # A flush clears the dimensions, but with metrics disabled (the CLI, the demo, tests) nothing
    # is flushed: the previous target's dimension would stay and Powertools would warn.
    metrics.dimension_set.pop("target", None)
    metrics.add_dimension(name="target", value=target.id)
    logger.append_keys(target=target.id, period=message.period)
    logger.set_correlation_id(record.get("messageId"))
    try:
        monitor = (fleet or fleets.fleet()).monitor(message)
    except ConfigurationError as exc:
        report = CycleReport(started_at=datetime.now(UTC), config_error=str(exc))
        logger.error("invalid configuration; no cycle ran", extra={"reason": str(exc)})
        emit_metrics(report)
        return {"target": target.id, **report.as_dict()}
    report = monitor.run(
        lambda: context.get_remaining_time_in_millis() / 1000,
        correlation_id=logger.get_correlation_id(),
    )
    emit_metrics(report, monitor.settings)
    summary = {"target": target.id, **report.as_dict()}
    if report.succeeded:
        logger.info("target cycle finished", extra={"cycle": summary})
    else:
        logger.warning(
            "target cycle not healthy", extra={"reason": report.reason(), "cycle": summary}
        )
    return summary
