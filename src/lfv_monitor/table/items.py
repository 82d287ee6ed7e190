"""The item shapes: what a state, history, outbox or meta item holds (``parsing`` reads them).

Texts from the service are bounded by ``text`` (any length, any code points); the history item
keeps the full description through ``documents``, within DynamoDB's item limit.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from lfv_monitor.domain.models import Change, ChangeType, JobKey, is_terminal
from lfv_monitor.table import layout
from lfv_monitor.table.codec import epoch, to_item
from lfv_monitor.table.documents import ITEM_BUDGET, document_attributes, item_size
from lfv_monitor.table.layout import HOME, TableKeys
from lfv_monitor.table.text import bounded, status_key

# -- building ------------------------------------------------------------------------------


def history_item(
    change: Change, retention: timedelta | None, keys: TableKeys = HOME
) -> dict[str, Any]:
    key, version = change.key, change.version
    status, status_digest = bounded(change.status)
    message, digest = bounded(change.status_message)
    previous_status, _ = bounded(change.previous_status)
    previous_message, _ = bounded(change.previous_status_message)
    observed = layout.key_time(change.observed_at)
    item = {
        "pk": keys.job_pk(key),
        "sk": layout.history_sk(version),
        "gsi1pk": keys.project_partition(key.project),
        "gsi1sk": layout.project_change_sk(observed, key, version),
        "gsi2pk": keys.status_change_partition(status_key(change.status)),
        "gsi2sk": layout.status_change_sk(observed, key, version),
        "type": "HISTORY",
        **_target(keys),
        "project": key.project,
        "job": key.job,
        "version": version,
        "event_id": change.event_id,
        "change_type": change.change_type.value,
        "status": status,
        "status_digest": status_digest,
        "previous_status": previous_status,
        "status_message": message,
        "status_message_digest": digest,
        "previous_status_message": previous_message,
        "skipped_states": list(change.skipped_states) or None,
        "observed_at": observed,
        "created_at": _key_time(change.created),
        "observer": change.observer,
        "project_arn": change.project_arn,
        "expires_at": int((change.observed_at + retention).timestamp()) if retention else None,
    }
    if change.description is not None:
        room = ITEM_BUDGET - item_size(to_item(item))
        item.update(document_attributes(change.description.document, room))
    return item


def state_item(change: Change, keys: TableKeys = HOME) -> dict[str, Any]:
    key = change.key
    status, status_digest = bounded(change.status)
    message, digest = bounded(change.status_message)
    removed = change.change_type is ChangeType.REMOVED
    gone = is_terminal(change.status) or removed
    description = change.description
    return {
        "pk": keys.job_pk(key),
        "sk": layout.STATE_SK,
        "type": "STATE",
        **_target(keys),
        "gsi2pk": keys.state_partition(status_key(change.status)),
        "gsi2sk": layout.job_sk(key),
        "active_pk": None if gone else keys.active_pk,
        "active_sk": None if gone else layout.job_sk(key),
        "project": key.project,
        "job": key.job,
        "version": change.version,
        "status": status,
        "status_digest": status_digest,
        "removed": removed,
        "status_message": message,
        "status_message_digest": digest,
        "last_updated": epoch(description.last_updated) if description else None,
        "project_arn": change.project_arn,
        "observed_at": layout.key_time(change.observed_at),
        "created_at": _key_time(change.created),
        "last_event_id": change.event_id,
    }


def _target(keys: TableKeys) -> dict[str, Any]:
    """A target's account and region on its items; none on the home target's (unchanged)."""
    return {"account": keys.account, "region": keys.region} if keys.qualified else {}


def _key_time(ts: datetime | None) -> str | None:
    return None if ts is None else layout.key_time(ts)


def rebuilt_state_item(
    key: JobKey, version: int, latest: Change | None, keys: TableKeys = HOME
) -> dict[str, Any]:
    """A state item rebuilt from history: ``latest`` (the newest readable change) at
    ``version`` (the highest recorded), or, with no readable change, an unknown status that
    is described (in progress) next."""
    if latest is not None:
        state = state_item(replace(latest, version=version), keys)
    else:
        state = {
            "pk": keys.job_pk(key),
            "sk": layout.STATE_SK,
            "type": "STATE",
            **_target(keys),
            "project": key.project,
            "job": key.job,
            "version": version,
            "active_pk": keys.active_pk,
            "active_sk": layout.job_sk(key),
        }
    return {k: v for k, v in state.items() if v is not None}


def outbox_item(
    change: Change, channel: str, lease: timedelta, keys: TableKeys = HOME
) -> dict[str, Any]:
    return {
        "pk": keys.outbox_pk,
        "sk": layout.outbox_sk(channel, change.event_id),
        "type": "OUTBOX",
        "channel": channel,
        "event_id": change.event_id,
        "ref_pk": keys.job_pk(change.key),
        "ref_sk": layout.history_sk(change.version),
        "created_at": layout.key_time(change.observed_at),
        # The writer owns the entry until then (it publishes it itself); only after that may
        # another invocation claim it.
        "claimed_until": epoch(change.observed_at + lease),
    }
