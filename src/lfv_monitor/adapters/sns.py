"""``ChangePublisher`` on an SNS topic (PublishBatch, 10 entries a call)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from lfv_monitor.adapters.batching import chunks, send_batch
from lfv_monitor.domain.events import SNS_MAX_BYTES
from lfv_monitor.domain.models import Change
from lfv_monitor.domain.notifications import sns_message

logger = logging.getLogger(__name__)


def entry_size(entry: dict[str, Any]) -> int:
    """What SNS counts toward its 256 KiB: the message and its attributes (and, to be safe,
    the subject), in UTF-8 bytes."""
    size = len(entry["Message"].encode("utf-8")) + len(entry.get("Subject", "").encode("utf-8"))
    for name, attribute in entry.get("MessageAttributes", {}).items():
        size += len(name.encode("utf-8")) + len(attribute["DataType"].encode("utf-8"))
        size += len(attribute.get("StringValue", "").encode("utf-8"))
    return size


class SnsNotifier:
    """Publishes one notification per change, with per-protocol bodies and filter attributes."""

    channel = "sns"

    def __init__(self, topic_arn: str, *, client: Any = None) -> None:
        if not topic_arn.startswith("arn:"):
            raise ValueError(f"SnsNotifier: topic_arn {topic_arn!r} is not an SNS topic ARN")
        if client is None:
            from lfv_monitor.clients import aws_client

            client = aws_client("sns")
        self.topic_arn = topic_arn
        self.client = client

    @staticmethod
    def entry(change: Change) -> dict[str, Any]:
        """The PublishBatch entry of ``change`` (``Id`` is the event id: 64 hex chars)."""
        subject, message, attributes = sns_message(change)
        return {
            "Id": change.event_id,
            "Message": message,
            "MessageStructure": "json",
            "Subject": subject,
            "MessageAttributes": attributes,
        }

    def publish(self, changes: Sequence[Change]) -> set[str]:
        """Publish every change; return the event ids SNS accepted.  Never raises."""
        unique = list({c.event_id: c for c in changes}.values())
        items = [(c.event_id, self.entry(c)) for c in unique]
        sizes = [entry_size(e) for _, e in items]
        delivered: set[str] = set()
        for group in chunks(items, sizes, SNS_MAX_BYTES):
            delivered |= self._publish(group)
        return delivered

    def _publish(self, group: list[tuple[str, dict[str, Any]]]) -> set[str]:
        ids = [event_id for event_id, _ in group]
        response = send_batch(
            "PublishBatch",
            self.channel,
            ids,
            lambda: self.client.publish_batch(
                TopicArn=self.topic_arn, PublishBatchRequestEntries=[e for _, e in group]
            ),
        )
        if response is None:
            return set()
        for failure in response.get("Failed", []):
            logger.warning(
                "PublishBatch rejected an entry",
                extra={
                    "channel": self.channel,
                    "event_id": failure.get("Id"),
                    "error_code": failure.get("Code"),
                    "error_message": failure.get("Message", ""),
                    "sender_fault": failure.get("SenderFault"),
                },
            )
        succeeded = {s.get("Id") for s in response.get("Successful", [])}
        return {event_id for event_id in ids if event_id in succeeded}
