"""The item shapes: what a state, history, outbox or meta item holds (``parsing`` reads them).

Large texts: state and history items keep the first ``MESSAGE_ATTRIBUTE_LIMIT`` characters of a
StatusMessage plus the digest of the whole; the history item keeps the full description, gzip
compressed above ``INLINE_DOCUMENT_LIMIT``.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

from boto3.dynamodb.types import Binary

from lfv_monitor.domain.models import (
    Change,
    ChangeType,
    JobDescription,
    JobKey,
    is_terminal,
    message_digest,
)
from lfv_monitor.table import layout
from lfv_monitor.table.codec import epoch, to_dynamo

#: StatusMessage text kept on state items and history attributes; the full text is in the
#: history item's description (compressed when large).
MESSAGE_ATTRIBUTE_LIMIT = 4096
#: Above this, the description document is stored gzip-compressed.
INLINE_DOCUMENT_LIMIT = 64 * 1024
#: DynamoDB items are at most 400 KB; keep the compressed document well under it.
COMPRESSED_DOCUMENT_LIMIT = 300 * 1024


def shorten(message: str | None) -> tuple[str | None, str | None]:
    """(text to store, digest of the full text when it was shortened)."""
    if message is None or len(message) <= MESSAGE_ATTRIBUTE_LIMIT:
        return message, None
    return message[:MESSAGE_ATTRIBUTE_LIMIT], message_digest(message)


# -- building ------------------------------------------------------------------------------


def history_item(change: Change, retention: timedelta | None) -> dict[str, Any]:
    key, version = change.key, change.version
    message, digest = shorten(change.status_message)
    previous_message, _ = shorten(change.previous_status_message)
    observed = layout.key_time(change.observed_at)
    item = {
        "pk": layout.job_pk(key),
        "sk": layout.history_sk(version),
        "gsi1pk": layout.project_partition(key.project),
        "gsi1sk": layout.project_change_sk(observed, key, version),
        "gsi2pk": layout.status_change_partition(change.status),
        "gsi2sk": layout.status_change_sk(observed, key, version),
        "type": "HISTORY",
        "project": key.project,
        "job": key.job,
        "version": version,
        "event_id": change.event_id,
        "change_type": change.change_type.value,
        "status": change.status,
        "previous_status": change.previous_status,
        "status_message": message,
        "status_message_digest": digest,
        "previous_status_message": previous_message,
        "skipped_states": list(change.skipped_states) or None,
        "observed_at": observed,
        "observer": change.observer,
        "project_arn": change.project_arn,
        "expires_at": int((change.observed_at + retention).timestamp()) if retention else None,
    }
    if change.description is not None:
        item.update(document_attributes(change.description))
    return item


def state_item(change: Change) -> dict[str, Any]:
    key = change.key
    message, digest = shorten(change.status_message)
    gone = is_terminal(change.status) or change.change_type is ChangeType.REMOVED
    description = change.description
    return {
        "pk": layout.job_pk(key),
        "sk": layout.STATE_SK,
        "type": "STATE",
        "gsi2pk": layout.state_partition(change.status),
        "gsi2sk": layout.job_sk(key),
        "active_pk": None if gone else layout.ACTIVE_PK,
        "active_sk": None if gone else layout.job_sk(key),
        "project": key.project,
        "job": key.job,
        "version": change.version,
        "status": change.status,
        "status_message": message,
        "status_message_digest": digest,
        "last_updated": epoch(description.last_updated) if description else None,
        "project_arn": change.project_arn,
        "observed_at": layout.key_time(change.observed_at),
        "last_event_id": change.event_id,
    }


def rebuilt_state_item(key: JobKey, version: int, latest: Change | None) -> dict[str, Any]:
    """A state item rebuilt from history: ``latest`` (the newest readable change) at
    ``version`` (the highest recorded), or, with no readable change, an unknown status that
    is described (in progress) next."""
    if latest is not None:
        state = state_item(replace(latest, version=version))
    else:
        state = {
            "pk": layout.job_pk(key),
            "sk": layout.STATE_SK,
            "type": "STATE",
            "project": key.project,
            "job": key.job,
            "version": version,
            "active_pk": layout.ACTIVE_PK,
            "active_sk": layout.job_sk(key),
        }
    return {k: v for k, v in state.items() if v is not None}


def outbox_item(change: Change, channel: str, lease: timedelta) -> dict[str, Any]:
    return {
        "pk": layout.OUTBOX_PK,
        "sk": layout.outbox_sk(channel, change.event_id),
        "type": "OUTBOX",
        "channel": channel,
        "event_id": change.event_id,
        "ref_pk": layout.job_pk(change.key),
        "ref_sk": layout.history_sk(change.version),
        "created_at": layout.key_time(change.observed_at),
        # The writer owns the entry until then (it publishes it itself); only after that may
        # another invocation claim it.
        "claimed_until": epoch(change.observed_at + lease),
    }


def document_attributes(description: JobDescription) -> dict[str, Any]:
    text = json.dumps(description.document, separators=(",", ":"))
    if len(text) <= INLINE_DOCUMENT_LIMIT:
        return {"description": to_dynamo(description.document)}
    packed = gzip.compress(text.encode(), mtime=0)
    if len(packed) <= COMPRESSED_DOCUMENT_LIMIT:
        return {"description_gz": Binary(packed)}
    # Larger than an item can hold even compressed: keep a visibly shortened copy.
    document = dict(description.document)
    full = document.get("StatusMessage")
    if isinstance(full, str):
        marker = f"… [truncated: {len(full)} characters in full]"
        document["StatusMessage"] = full[: COMPRESSED_DOCUMENT_LIMIT // 2] + marker
    packed = gzip.compress(json.dumps(document).encode(), mtime=0)
    return {"description_gz": Binary(packed), "description_truncated": True}
