"""What the two publishers share: packing entries into batch calls, and making one call."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

logger = logging.getLogger(__name__)

#: PutEvents and SNS PublishBatch both take at most 10 entries a call.
MAX_ENTRIES = 10


def chunks(
    items: Sequence[tuple[str, dict[str, Any]]], sizes: Sequence[int], max_bytes: int
) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """Consecutive groups of at most ``MAX_ENTRIES`` items whose sizes add up to ``max_bytes``."""
    group: list[tuple[str, dict[str, Any]]] = []
    total = 0
    for item, size in zip(items, sizes, strict=True):
        if group and (len(group) == MAX_ENTRIES or total + size > max_bytes):
            yield group
            group, total = [], 0
        group.append(item)
        total += size
    if group:
        yield group


def send_batch(
    operation: str, channel: str, ids: list[str], call: Callable[[], dict[str, Any]]
) -> dict[str, Any] | None:
    """Make one batch call; on an SDK error log it and return None: the whole batch failed and
    stays in the outbox.  Never raises."""
    try:
        return call()
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "Unknown")
        logger.warning(
            "%s failed", operation, extra={"channel": channel, "error_code": code, "event_ids": ids}
        )
    except BotoCoreError as error:
        logger.warning(
            "%s failed",
            operation,
            extra={"channel": channel, "error": type(error).__name__, "event_ids": ids},
        )
    return None
