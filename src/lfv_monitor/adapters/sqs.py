"""The dispatcher's queue: SQS FIFO ``SendMessageBatch``, 10 entries a call (``TargetQueue``).

Each entry's result is checked (``Failed``); an SDK error fails only its batch. Nothing raises:
the ids not returned are the dispatcher's ``DispatchFailures``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from lfv_monitor.adapters.batching import MAX_ENTRIES, send_batch
from lfv_monitor.domain.targets import TargetMessage

logger = logging.getLogger(__name__)


class SqsTargetQueue:
    """``TargetQueue`` on an SQS FIFO queue: group = target id, deduplication = target#period."""

    channel = "target-queue"

    def __init__(self, queue_url: str, client: Any) -> None:
        self._queue_url = queue_url
        self._client = client

    def send(self, messages: Sequence[TargetMessage]) -> set[str]:
        sent: set[str] = set()
        for start in range(0, len(messages), MAX_ENTRIES):
            sent |= self._send_chunk(messages[start : start + MAX_ENTRIES])
        return sent

    def _send_chunk(self, chunk: Sequence[TargetMessage]) -> set[str]:
        # Entry ids are positions: unique within the call, and within SQS's [A-Za-z0-9_-]{1,80}.
        by_entry = {str(index): message for index, message in enumerate(chunk)}
        entries = [
            {
                "Id": entry_id,
                "MessageBody": json.dumps(message.body(), sort_keys=True),
                "MessageGroupId": message.group_id,
                "MessageDeduplicationId": message.deduplication_id,
            }
            for entry_id, message in by_entry.items()
        ]
        ids = [m.deduplication_id for m in chunk]
        response = send_batch(
            "SendMessageBatch",
            self.channel,
            ids,
            lambda: self._client.send_message_batch(QueueUrl=self._queue_url, Entries=entries),
        )
        if response is None:
            return set()
        for failed in response.get("Failed", []):
            message = by_entry.get(str(failed.get("Id")))
            logger.warning(
                "SendMessageBatch entry failed",
                extra={
                    "target": message.target.id if message else failed.get("Id"),
                    "error_code": failed.get("Code"),
                    "sender_fault": failed.get("SenderFault"),
                },
            )
        return {
            by_entry[ok["Id"]].deduplication_id
            for ok in response.get("Successful", [])
            if ok.get("Id") in by_entry
        }
