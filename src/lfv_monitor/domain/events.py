"""The event contract (placeholder: the full builder lands with the publishers)."""

from __future__ import annotations

import hashlib

from lfv_monitor.domain.models import JobKey


def event_id_for(key: JobKey, version: int, status: str | None, status_message: str | None) -> str:
    """Deterministic: the same change of the same job always gets the same id."""
    text = "\x1f".join((key.project, key.job, str(version), status or "", status_message or ""))
    return hashlib.sha256(text.encode()).hexdigest()[:32]
