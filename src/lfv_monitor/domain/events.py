"""The event contract: what a recorded ``Change`` looks like on EventBridge and SNS.

Pure: no boto3, no ``os``, no I/O.  ``docs/events.md`` documents every field and
``events/schemas/job-state-change.schema.json`` is the JSON Schema of the whole event.

Size budget (one budget for both channels, so SNS queue/Lambda subscribers get the same detail as
EventBridge): ``statusMessage`` and ``previousStatusMessage`` are cut to ``MESSAGE_MAX_BYTES``
each, other free text to ``TEXT_MAX_BYTES``, and the whole serialized detail stays under
``DETAIL_MAX_BYTES``.  A cut value ends with a visible marker and is listed in
``truncatedFields``; the full text stays in the history item.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from datetime import UTC, datetime
from typing import Any

from lfv_monitor.domain.models import Change, JobKey
from lfv_monitor.domain.targets import Target

#: 1.1: ``account`` and ``region`` (the job's AWS account and region; issue 15).
SCHEMA_VERSION = "1.1"
DETAIL_TYPE = "Lookout for Vision Model Packaging Job State Change"
DEFAULT_SOURCE = "lfv-monitor"

#: EventBridge: one PutEvents entry, and one PutEvents request, at most 256 KiB.
PUT_EVENTS_MAX_BYTES = 256 * 1024
#: SNS: one message (all per-protocol bodies and attributes), and one PublishBatch, at most this.
SNS_MAX_BYTES = 262_144
#: Budget of each status message field in the detail (UTF-8 bytes of its JSON encoding).
MESSAGE_MAX_BYTES = 4096
#: Budget of any other free-text field (descriptions, compiler options, tag values).
TEXT_MAX_BYTES = 1024
#: Budget of the whole serialized detail.  An SNS message carries it twice (sqs, lambda), JSON
#: escaped again, plus the email and chat bodies: 4 x 16 KiB stays far under 256 KiB.
DETAIL_MAX_BYTES = 16 * 1024
#: SNS subjects must be shorter than 100 characters.
SUBJECT_MAX_CHARS = 99

_ID_NAMESPACE = "lfv-monitor/job-state-change/v1"


def event_id_for(
    key: JobKey,
    version: int,
    status: str | None,
    status_message: str | None,
    target: Target | None = None,
) -> str:
    """Deterministic id of one change: the same change always gets the same 64 hex chars.

    ``target``: the job's account and region when it is not the stack's own (home) target. The
    home target's ids are the single-account version's, so an upgrade does not re-id events.
    """
    parts: list[object] = [_ID_NAMESPACE, key.project, key.job, version, status, status_message]
    if target is not None:
        parts += [target.account, target.region]
    material = json.dumps(parts, ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(material.encode("ascii")).hexdigest()


def iso_utc(value: datetime | None) -> str | None:
    """ISO-8601 UTC with milliseconds and ``Z``; naive datetimes are taken as UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def clean_text(value: str) -> str:
    """``value`` as valid Unicode: lone surrogates (JSON allows ``\\ud800``) become U+FFFD."""
    return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def json_size(value: Any) -> int:
    """UTF-8 bytes of ``value`` serialized the way the publishers serialize it."""
    return len(dumps(value).encode("utf-8"))


def dumps(value: Any) -> str:
    """Compact JSON, non-ASCII kept as UTF-8 (what goes on the wire)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def truncation_marker(full_length: int) -> str:
    return f"… [truncated, {full_length} chars in full; see the history]"


def fit_text(value: str, max_bytes: int) -> tuple[str, bool]:
    """``value`` cut so that its JSON encoding takes at most ``max_bytes`` UTF-8 bytes.

    A cut value ends with ``truncation_marker``; returns the text and whether it was cut.
    """
    value = clean_text(value)
    if json_size(value) <= max_bytes:
        return value, False
    marker = truncation_marker(len(value))
    low, high = 0, min(len(value), max_bytes)  # every character takes at least one byte
    while low < high:  # the longest prefix that fits with the marker
        middle = (low + high + 1) // 2
        if json_size(value[:middle] + marker) <= max_bytes:
            low = middle
        else:
            high = middle - 1
    return value[:low] + marker, True


def _camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def _convert(value: Any, path: str, cut: list[str]) -> Any:
    """Service JSON (PascalCase keys) to camelCase, free text bounded by ``TEXT_MAX_BYTES``."""
    if isinstance(value, dict):
        return {
            _camel(str(k)): _convert(v, f"{path}.{_camel(str(k))}", cut) for k, v in value.items()
        }
    if isinstance(value, list):
        return [_convert(v, f"{path}[{i}]", cut) for i, v in enumerate(value)]
    if isinstance(value, str):
        text, was_cut = fit_text(value, TEXT_MAX_BYTES)
        if was_cut:
            cut.append(path)
        return text
    return value


def _optional_text(value: Any, path: str, cut: list[str], max_bytes: int) -> str | None:
    if value is None:
        return None
    text, was_cut = fit_text(str(value), max_bytes)
    if was_cut:
        cut.append(path)
    return text


def build_detail(change: Change) -> dict[str, Any]:
    """The ``detail`` of the EventBridge event (and the SQS/Lambda body on SNS) for ``change``.

    Every key is always present (``null`` when unknown), so consumers and rules see one shape.
    """
    cut: list[str] = []
    description = change.description
    document = description.document if description else {}
    greengrass_config = description.greengrass_configuration if description else None
    greengrass_output = description.greengrass_output if description else None
    detail: dict[str, Any] = {
        "schemaVersion": SCHEMA_VERSION,
        "eventId": change.event_id,
        "account": change.account,
        "region": change.region,
        "changeType": str(change.change_type),
        "version": change.version,
        "projectName": clean_text(change.key.project),
        "projectArn": clean_text(change.project_arn) if change.project_arn else None,
        "jobName": clean_text(change.key.job),
        "modelVersion": _optional_text(
            description.model_version if description else None, "modelVersion", cut, 256
        ),
        "jobDescription": _optional_text(
            document.get("ModelPackagingJobDescription"), "jobDescription", cut, TEXT_MAX_BYTES
        ),
        "packagingMethod": _optional_text(
            document.get("ModelPackagingMethod"), "packagingMethod", cut, 256
        ),
        "status": _optional_text(change.status, "status", cut, 256),
        "previousStatus": _optional_text(change.previous_status, "previousStatus", cut, 256),
        "statusMessage": _optional_text(
            change.status_message, "statusMessage", cut, MESSAGE_MAX_BYTES
        ),
        "previousStatusMessage": _optional_text(
            change.previous_status_message, "previousStatusMessage", cut, MESSAGE_MAX_BYTES
        ),
        "isTerminal": change.is_terminal,
        "skippedStates": [clean_text(s) for s in change.skipped_states],
        "creationTimestamp": iso_utc(
            description.creation_timestamp if description else change.created
        ),
        "lastUpdatedTimestamp": iso_utc(description.last_updated if description else None),
        "observedAt": iso_utc(change.observed_at),
        "observedBy": _optional_text(change.observer, "observedBy", cut, 256),
        "correlationId": _optional_text(change.correlation_id, "correlationId", cut, 256),
        "greengrass": {
            "configuration": (
                _convert(greengrass_config, "greengrass.configuration", cut)
                if greengrass_config is not None
                else None
            ),
            "output": (
                _convert(greengrass_output, "greengrass.output", cut)
                if greengrass_output is not None
                else None
            ),
        },
        "truncated": False,
        "truncatedFields": cut,
    }
    _fit_detail(detail, cut)
    detail["truncated"] = bool(cut)
    return detail


def _fit_detail(detail: dict[str, Any], cut: list[str]) -> None:
    """Shrink the largest optional parts until the detail fits ``DETAIL_MAX_BYTES``."""
    greengrass = detail["greengrass"]
    configuration = greengrass["configuration"]
    if json_size(detail) > DETAIL_MAX_BYTES and configuration:
        # Tags and descriptions are what can grow; keep what identifies the component.
        kept = ("componentName", "componentVersion", "targetDevice", "targetPlatform")
        greengrass["configuration"] = {k: configuration[k] for k in kept if k in configuration}
        cut.append("greengrass.configuration")
    for field, budget in (
        ("previousStatusMessage", 512),
        ("statusMessage", 1024),
        ("jobDescription", 256),
    ):
        value = detail[field]
        if json_size(detail) <= DETAIL_MAX_BYTES or value is None:
            continue
        text, was_cut = fit_text(value, budget)
        if was_cut:
            detail[field] = text
            if field not in cut:
                cut.append(field)


# --- the SNS subject -------------------------------------------------------------------------


def ascii_safe(value: str | None, fallback: str) -> str:
    """``value`` as printable ASCII on one line (accents dropped, controls as spaces)."""
    if not value:
        return fallback
    decomposed = unicodedata.normalize("NFKD", clean_text(value))
    ascii_only = decomposed.encode("ascii", "ignore").decode("ascii")
    printable = "".join(c if " " <= c <= "~" else " " for c in ascii_only)
    collapsed = " ".join(printable.split())
    return collapsed or fallback


def _shorten(value: str, limit: int) -> str:
    if len(value) <= limit:
        return value
    if limit <= 3:
        return value[: max(limit, 1)]
    return value[: limit - 3] + "..."


_SUBJECT_TEMPLATES = {
    "DISCOVERED": "{status}: new packaging job {job} in project {project}",
    "STATUS": "{status}: packaging job {job} in project {project}",
    "STATUS_MESSAGE": "{status}: new message for packaging job {job} in project {project}",
    "REMOVED": "REMOVED: packaging job {job} in project {project} is gone",
    "BASELINE": "{status}: packaging job {job} in project {project}",
}


def subject_for(change: Change) -> str:
    """A person-readable SNS subject under 100 characters, printable ASCII, one line.

    e.g. ``FAILED: packaging job cam-7 in project widgets``; long names are shortened with
    ``...``, non-ASCII letters lose their accents (or are dropped).
    """
    status = _shorten(ascii_safe(change.status, "UNKNOWN"), 20)
    job = ascii_safe(change.key.job, "?")
    project = ascii_safe(change.key.project, "?")
    template = _SUBJECT_TEMPLATES.get(str(change.change_type), _SUBJECT_TEMPLATES["STATUS"])
    fixed = len(template.format(status=status, job="", project=""))
    room = SUBJECT_MAX_CHARS - fixed
    if len(job) + len(project) > room:
        job_room = max(room // 2, room - len(project))
        job = _shorten(job, job_room)
        project = _shorten(project, room - len(job))
    return template.format(status=status, job=job, project=project)
