"""``SnapshotStore`` over one DynamoDB table (design: docs/architecture.md, "Table design").

A change is one ``TransactWriteItems``: the immutable history item, the job's current state
conditional on its version (optimistic locking), and one outbox entry per channel.  Delivering
an announcement deletes its outbox entry; what is left is retried by later cycles.
"""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import Binary, TypeDeserializer, TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError

from lfv_monitor.clients import aws_client
from lfv_monitor.domain.errors import StoreError
from lfv_monitor.domain.models import (
    Change,
    ChangeType,
    JobDescription,
    JobKey,
    ProjectRecord,
    Rotation,
    StoredJob,
    is_terminal,
    message_digest,
)

BATCH_GET_LIMIT = 100
BATCH_WRITE_LIMIT = 25
#: StatusMessage text kept on state items and history attributes; the full text is in the
#: history item's description (compressed when large).
MESSAGE_ATTRIBUTE_LIMIT = 4096
#: Above this, the description document is stored gzip-compressed.
INLINE_DOCUMENT_LIMIT = 64 * 1024
#: DynamoDB items are at most 400 KB; keep the compressed document well under it.
COMPRESSED_DOCUMENT_LIMIT = 300 * 1024
CHANNELS: tuple[str, ...] = ("events", "sns")

_ser = TypeSerializer()
_de = TypeDeserializer()


def job_pk(key: JobKey) -> str:
    return f"JOB#{key.project}#{key.job}"


def iso(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _from_iso(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def _epoch(ts: datetime | None) -> Decimal | None:
    return None if ts is None else Decimal(str(ts.timestamp()))


def _from_epoch(value: Any) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(float(value), tz=UTC)


def _shorten(message: str | None) -> tuple[str | None, str | None]:
    """(text to store, digest of the full text when it was shortened)."""
    if message is None or len(message) <= MESSAGE_ATTRIBUTE_LIMIT:
        return message, None
    return message[:MESSAGE_ATTRIBUTE_LIMIT], message_digest(message)


def _item(values: dict[str, Any]) -> dict[str, Any]:
    """A low-level item from plain values, leaving out None."""
    return {k: _ser.serialize(v) for k, v in values.items() if v is not None}


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _de.deserialize(v) for k, v in item.items()}


def _to_dynamo(document: dict[str, Any]) -> Any:
    return json.loads(json.dumps(document), parse_float=Decimal)


def _from_dynamo(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _from_dynamo(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_from_dynamo(v) for v in value]
    if isinstance(value, set):
        return sorted(_from_dynamo(v) for v in value)
    return value


class DynamoDBSnapshotStore:
    """The audit trail.  ``client`` defaults to a new DynamoDB client."""

    def __init__(
        self,
        table_name: str,
        *,
        client: Any = None,
        retention_days: int = 0,
        channels: Sequence[str] = CHANNELS,
        outbox_lease_seconds: float = 60.0,
    ) -> None:
        self.table = table_name
        self.client = client if client is not None else aws_client("dynamodb")
        self.retention = timedelta(days=retention_days) if retention_days else None
        self.channels = tuple(channels)
        self.lease = outbox_lease_seconds
        self._poisoned = 0

    # -- baseline ------------------------------------------------------------------------
    def is_initialized(self) -> bool:
        response = self._call(
            "get_item",
            TableName=self.table,
            Key=_item({"pk": "META", "sk": "BASELINE"}),
            ConsistentRead=True,
        )
        return "completed_at" in (response.get("Item") or {})

    def mark_initialized(self, at: datetime) -> None:
        self._call(
            "put_item",
            TableName=self.table,
            Item=_item({"pk": "META", "sk": "BASELINE", "completed_at": iso(at)}),
        )

    def baseline_cursor(self) -> str | None:
        response = self._call(
            "get_item",
            TableName=self.table,
            Key=_item({"pk": "META", "sk": "BASELINE_CURSOR"}),
            ConsistentRead=True,
        )
        item = _plain(response.get("Item") or {})
        cursor = item.get("project")
        return cursor if isinstance(cursor, str) else None

    def save_baseline_cursor(self, project: str) -> None:
        self._call(
            "put_item",
            TableName=self.table,
            Item=_item({"pk": "META", "sk": "BASELINE_CURSOR", "project": project}),
        )

    def take_poisoned(self) -> int:
        """Malformed items set aside since the last call (none are yet: the quarantine of
        malformed items is added to this adapter separately)."""
        taken, self._poisoned = self._poisoned, 0
        return taken

    # -- the scan's fair order (META/ROTATION) -------------------------------------------
    def rotation(self) -> Rotation:
        response = self._call(
            "get_item",
            TableName=self.table,
            Key=_item({"pk": "META", "sk": "ROTATION"}),
            ConsistentRead=True,
        )
        item = _plain(response.get("Item") or {})
        owed = item.get("owed") or []
        cursor = item.get("active_cursor")
        since = item.get("backlog_since")
        return Rotation(
            owed=tuple(str(name) for name in owed),
            active_cursor=cursor if isinstance(cursor, str) else None,
            backlog_since=_from_iso(since) if isinstance(since, str) else None,
        )

    def save_rotation(self, rotation: Rotation) -> None:
        key = {"pk": "META", "sk": "ROTATION"}
        if rotation == Rotation():
            self._call("delete_item", TableName=self.table, Key=_item(key))
            return
        values = {
            **key,
            "type": "META",
            "owed": list(rotation.owed) or None,
            "active_cursor": rotation.active_cursor,
            "backlog_since": iso(rotation.backlog_since) if rotation.backlog_since else None,
        }
        self._call("put_item", TableName=self.table, Item=_item(values))

    # -- per-project records (pk PROJECT, sk the project's name) ----------------------------
    def project_records(self) -> dict[str, ProjectRecord]:
        records: dict[str, ProjectRecord] = {}
        for item in self._query(
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues=_item({":p": "PROJECT"}),
            ConsistentRead=True,
        ):
            name = item.get("sk")
            if isinstance(name, str):
                records[name] = ProjectRecord(
                    name,
                    baseline_pending=bool(item.get("baseline_pending", False)),
                    failures=int(item.get("failures", 0)),
                )
        return records

    def save_project_record(self, record: ProjectRecord) -> None:
        key = {"pk": "PROJECT", "sk": record.name}
        if record.empty:
            self._call("delete_item", TableName=self.table, Key=_item(key))
            return
        values = {**key, "type": "PROJECT", "failures": record.failures}
        self._call(
            "put_item",
            TableName=self.table,
            Item=_item({**values, "baseline_pending": record.baseline_pending}),
        )

    # -- reads ---------------------------------------------------------------------------
    def get_jobs(self, keys: Sequence[JobKey]) -> dict[JobKey, StoredJob]:
        found: dict[JobKey, StoredJob] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), BATCH_GET_LIMIT):
            request: dict[str, Any] = {
                self.table: {
                    "Keys": [
                        _item({"pk": job_pk(k), "sk": "STATE"})
                        for k in unique[start : start + BATCH_GET_LIMIT]
                    ],
                    # Eventually consistent: half the read cost, and safe: every write is
                    # conditional on the version, so a stale read can only lose a race.
                    "ConsistentRead": False,
                }
            }
            attempt = 0
            while request:
                response = self._call("batch_get_item", RequestItems=request)
                for raw in response.get("Responses", {}).get(self.table, []):
                    job = self._stored(_plain(raw))
                    found[job.key] = job
                request = response.get("UnprocessedKeys") or {}
                if request:
                    attempt += 1
                    time.sleep(min(0.05 * 2**attempt, 1.0))
        return found

    def active_jobs(self) -> list[StoredJob]:
        return [
            self._stored(item)
            for item in self._query(
                IndexName="Active",
                KeyConditionExpression="active_pk = :a",
                ExpressionAttributeValues=_item({":a": "ACTIVE"}),
            )
        ]

    # -- writes --------------------------------------------------------------------------
    def record(self, change: Change, expected_version: int | None) -> bool:
        pk = job_pk(change.key)
        history_sk = f"V#{change.version:010d}"
        message, digest = _shorten(change.status_message)
        previous_message, _ = _shorten(change.previous_status_message)
        observed = iso(change.observed_at)
        history = {
            "pk": pk,
            "sk": history_sk,
            "gsi1pk": f"PROJECT#{change.key.project}",
            "gsi1sk": f"{observed}#{change.key.job}#{change.version:010d}",
            "gsi2pk": f"STATUS#{change.status}",
            "gsi2sk": f"{observed}#{change.key.project}#{change.key.job}#{change.version:010d}",
            "type": "HISTORY",
            "project": change.key.project,
            "job": change.key.job,
            "version": change.version,
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
            "expires_at": (
                int((change.observed_at + self.retention).timestamp()) if self.retention else None
            ),
        }
        if change.description is not None:
            history.update(self._document_attributes(change.description))
        terminal_or_gone = is_terminal(change.status) or change.change_type is ChangeType.REMOVED
        state = {
            "pk": pk,
            "sk": "STATE",
            "type": "STATE",
            "gsi2pk": f"STATE#{change.status}",
            "gsi2sk": f"{change.key.project}#{change.key.job}",
            "active_pk": None if terminal_or_gone else "ACTIVE",
            "active_sk": None if terminal_or_gone else f"{change.key.project}#{change.key.job}",
            "project": change.key.project,
            "job": change.key.job,
            "version": change.version,
            "status": change.status,
            "status_message": message,
            "status_message_digest": digest,
            "last_updated": _epoch(change.description.last_updated) if change.description else None,
            "project_arn": change.project_arn,
            "observed_at": observed,
            "last_event_id": change.event_id,
        }
        if expected_version is None:
            state_condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(pk)"}
        else:
            state_condition = {
                "ConditionExpression": "version = :v",
                "ExpressionAttributeValues": _item({":v": expected_version}),
            }
        items: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self.table,
                    "Item": _item(history),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {"Put": {"TableName": self.table, "Item": _item(state), **state_condition}},
        ]
        if change.announce:
            items += [
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": _item(
                            {
                                "pk": "OUTBOX",
                                "sk": f"{channel}#{change.event_id}",
                                "type": "OUTBOX",
                                "channel": channel,
                                "event_id": change.event_id,
                                "ref_pk": pk,
                                "ref_sk": history_sk,
                                "created_at": observed,
                                # The writer owns the entry until then (it publishes it itself);
                                # only after that may another invocation claim it.
                                "claimed_until": _epoch(
                                    change.observed_at + timedelta(seconds=self.lease)
                                ),
                            }
                        ),
                    }
                }
                for channel in self.channels
            ]
        try:
            self.client.transact_write_items(TransactItems=items)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "TransactionCanceledException":
                reasons = exc.response.get("CancellationReasons") or []
                if any(r.get("Code") == "ConditionalCheckFailed" for r in reasons) or not reasons:
                    return False
            raise StoreError(f"recording {change.key} failed: {exc}") from exc
        except BotoCoreError as exc:
            raise StoreError(f"recording {change.key} failed: {exc}") from exc
        return True

    def refresh(self, job: StoredJob, last_updated: datetime | None) -> None:
        try:
            self.client.update_item(
                TableName=self.table,
                Key=_item({"pk": job_pk(job.key), "sk": "STATE"}),
                UpdateExpression="SET last_updated = :t",
                ConditionExpression="version = :v",
                ExpressionAttributeValues=_item(
                    {":t": _epoch(last_updated) or Decimal(0), ":v": job.version}
                ),
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise StoreError(f"refreshing {job.key} failed: {exc}") from exc

    # -- outbox --------------------------------------------------------------------------
    def pending(self, now: datetime) -> list[tuple[Change, frozenset[str]]]:
        entries = [
            entry
            for entry in self._query(
                KeyConditionExpression="pk = :o",
                ExpressionAttributeValues=_item({":o": "OUTBOX"}),
                ConsistentRead=True,
            )
            if float(entry.get("claimed_until", 0)) <= now.timestamp()
        ]
        if not entries:
            return []
        channels: dict[tuple[str, str], set[str]] = {}
        for entry in entries:
            channels.setdefault((entry["ref_pk"], entry["ref_sk"]), set()).add(entry["channel"])
        histories = self._batch_get(list(channels))
        result = []
        for ref, wanted in channels.items():
            item = histories.get(ref)
            if item is not None:
                result.append((self._change(item), frozenset(wanted)))
        result.sort(key=lambda pair: (pair[0].observed_at, pair[0].event_id))
        return result

    def claim(self, event_ids: Iterable[str], channel: str, now: datetime) -> set[str]:
        claimed = set()
        for event_id in event_ids:
            try:
                self.client.update_item(
                    TableName=self.table,
                    Key=_item({"pk": "OUTBOX", "sk": f"{channel}#{event_id}"}),
                    UpdateExpression="SET claimed_until = :until",
                    ConditionExpression="attribute_exists(pk) AND claimed_until <= :now",
                    ExpressionAttributeValues=_item(
                        {
                            ":until": _epoch(now + timedelta(seconds=self.lease)),
                            ":now": _epoch(now),
                        }
                    ),
                )
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                    continue  # delivered, or claimed by another invocation meanwhile
                raise StoreError(f"claiming outbox entry {event_id} failed: {exc}") from exc
            except BotoCoreError as exc:
                raise StoreError(f"claiming outbox entry {event_id} failed: {exc}") from exc
            claimed.add(event_id)
        return claimed

    def release(self, event_ids: Iterable[str], channel: str) -> None:
        for event_id in event_ids:
            try:
                self.client.update_item(
                    TableName=self.table,
                    Key=_item({"pk": "OUTBOX", "sk": f"{channel}#{event_id}"}),
                    UpdateExpression="SET claimed_until = :zero",
                    ConditionExpression="attribute_exists(pk)",
                    ExpressionAttributeValues=_item({":zero": 0}),
                )
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                    raise StoreError(f"releasing outbox entry {event_id} failed: {exc}") from exc

    def mark_delivered(self, event_ids: Iterable[str], channel: str) -> None:
        keys = [{"pk": "OUTBOX", "sk": f"{channel}#{event_id}"} for event_id in event_ids]
        for start in range(0, len(keys), BATCH_WRITE_LIMIT):
            request: dict[str, Any] = {
                self.table: [
                    {"DeleteRequest": {"Key": _item(k)}}
                    for k in keys[start : start + BATCH_WRITE_LIMIT]
                ]
            }
            attempt = 0
            while request:
                response = self._call("batch_write_item", RequestItems=request)
                request = response.get("UnprocessedItems") or {}
                if request:
                    attempt += 1
                    time.sleep(min(0.05 * 2**attempt, 1.0))

    # -- history (read side, also used by the audit queries) ------------------------------
    def history(self, key: JobKey) -> list[Change]:
        return [
            self._change(item)
            for item in self._query(
                KeyConditionExpression="pk = :p AND begins_with(sk, :v)",
                ExpressionAttributeValues=_item({":p": job_pk(key), ":v": "V#"}),
                ConsistentRead=True,
            )
        ]

    # -- plumbing ------------------------------------------------------------------------
    def _document_attributes(self, description: JobDescription) -> dict[str, Any]:
        text = json.dumps(description.document, separators=(",", ":"))
        if len(text) <= INLINE_DOCUMENT_LIMIT:
            return {"description": _to_dynamo(description.document)}
        packed = gzip.compress(text.encode(), mtime=0)
        if len(packed) <= COMPRESSED_DOCUMENT_LIMIT:
            return {"description_gz": Binary(packed)}
        # Larger than an item can hold even compressed: keep a visibly shortened copy.
        document = dict(description.document)
        full = document.get("StatusMessage")
        if isinstance(full, str):
            document["StatusMessage"] = (
                full[: COMPRESSED_DOCUMENT_LIMIT // 2]
                + f"… [truncated: {len(full)} characters in full]"
            )
        packed = gzip.compress(json.dumps(document).encode(), mtime=0)
        return {"description_gz": Binary(packed), "description_truncated": True}

    @staticmethod
    def _document(item: dict[str, Any]) -> dict[str, Any] | None:
        if "description" in item:
            value = _from_dynamo(item["description"])
            return value if isinstance(value, dict) else None
        if "description_gz" in item:
            raw = item["description_gz"]
            data = bytes(raw)  # boto3 Binary supports bytes()
            value = json.loads(gzip.decompress(data))
            return value if isinstance(value, dict) else None
        return None

    def _change(self, item: dict[str, Any]) -> Change:
        key = JobKey(item["project"], item["job"])
        document = self._document(item)
        description = None
        if document is not None:
            description = JobDescription(
                key=key,
                status=item.get("status"),
                status_message=document.get("StatusMessage", item.get("status_message")),
                model_version=document.get("ModelVersion"),
                creation_timestamp=_from_epoch(document.get("CreationTimestamp")),
                last_updated=_from_epoch(document.get("LastUpdatedTimestamp")),
                document=document,
            )
        message = item.get("status_message")
        if description is not None and item.get("status_message_digest"):
            message = description.status_message
        return Change(
            event_id=item["event_id"],
            change_type=ChangeType(item["change_type"]),
            key=key,
            version=int(item["version"]),
            status=item.get("status"),
            previous_status=item.get("previous_status"),
            status_message=message,
            previous_status_message=item.get("previous_status_message"),
            observed_at=_from_iso(item["observed_at"]),
            skipped_states=tuple(item.get("skipped_states") or ()),
            project_arn=item.get("project_arn"),
            description=description,
            observer=item.get("observer", "lfv-monitor"),
        )

    @staticmethod
    def _stored(item: dict[str, Any]) -> StoredJob:
        return StoredJob(
            key=JobKey(item["project"], item["job"]),
            status=item.get("status"),
            status_message=item.get("status_message"),
            version=int(item["version"]),
            last_updated=_from_epoch(item.get("last_updated")),
            project_arn=item.get("project_arn"),
            status_message_digest=item.get("status_message_digest"),
        )

    def _batch_get(self, refs: list[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
        found: dict[tuple[str, str], dict[str, Any]] = {}
        for start in range(0, len(refs), BATCH_GET_LIMIT):
            request: dict[str, Any] = {
                self.table: {
                    "Keys": [
                        _item({"pk": pk, "sk": sk})
                        for pk, sk in refs[start : start + BATCH_GET_LIMIT]
                    ],
                    "ConsistentRead": True,
                }
            }
            while request:
                response = self._call("batch_get_item", RequestItems=request)
                for raw in response.get("Responses", {}).get(self.table, []):
                    item = _plain(raw)
                    found[(item["pk"], item["sk"])] = item
                request = response.get("UnprocessedKeys") or {}
        return found

    def _query(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        kwargs["TableName"] = self.table
        while True:
            response = self._call("query", **kwargs)
            for raw in response.get("Items", []):
                yield _plain(raw)
            last = response.get("LastEvaluatedKey")
            if not last:
                return
            kwargs["ExclusiveStartKey"] = last

    def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response: dict[str, Any] = getattr(self.client, operation)(**kwargs)
        except (ClientError, BotoCoreError) as exc:
            raise StoreError(f"DynamoDB {operation} on {self.table} failed: {exc}") from exc
        return response
