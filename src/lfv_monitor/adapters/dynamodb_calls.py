"""The DynamoDB calls the snapshot store makes, with their paging, retries and error mapping.

Every failure past botocore's retries becomes a ``StoreError``; a transaction whose condition
failed is ``False``, not an error (another writer won).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from lfv_monitor.domain.errors import StoreError
from lfv_monitor.table.codec import plain, to_item

BATCH_GET_LIMIT = 100
BATCH_WRITE_LIMIT = 25


def error_code(exc: ClientError) -> str | None:
    code = exc.response.get("Error", {}).get("Code")
    return code if isinstance(code, str) else None


def _backoff(attempt: int) -> None:
    time.sleep(min(0.05 * 2**attempt, 1.0))


class TableCalls:
    """One table's calls over a low-level DynamoDB ``client``."""

    def __init__(self, table: str, client: Any) -> None:
        self.table = table
        self.client = client

    def call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response: dict[str, Any] = getattr(self.client, operation)(**kwargs)
        except (ClientError, BotoCoreError) as exc:
            raise StoreError(f"DynamoDB {operation} on {self.table} failed: {exc}") from exc
        return response

    def get(self, pk: str, sk: str) -> dict[str, Any]:
        """The item's plain values (empty when there is none), read consistently."""
        response = self.call(
            "get_item", TableName=self.table, Key=to_item({"pk": pk, "sk": sk}), ConsistentRead=True
        )
        return plain(response.get("Item") or {})

    def put(self, item: dict[str, Any]) -> None:
        self.call("put_item", TableName=self.table, Item=to_item(item))

    def batch_get(
        self, keys: list[tuple[str, str]], *, consistent: bool
    ) -> Iterator[dict[str, Any]]:
        """The items at ``keys`` (missing ones left out), 100 keys a call, as plain values."""
        for start in range(0, len(keys), BATCH_GET_LIMIT):
            chunk = keys[start : start + BATCH_GET_LIMIT]
            request: dict[str, Any] = {
                self.table: {
                    "Keys": [to_item({"pk": pk, "sk": sk}) for pk, sk in chunk],
                    "ConsistentRead": consistent,
                }
            }
            attempt = 0
            while request:
                response = self.call("batch_get_item", RequestItems=request)
                for raw in response.get("Responses", {}).get(self.table, []):
                    yield plain(raw)
                request = response.get("UnprocessedKeys") or {}
                if request:
                    attempt += 1
                    _backoff(attempt)

    def batch_delete(self, keys: list[tuple[str, str]]) -> None:
        for start in range(0, len(keys), BATCH_WRITE_LIMIT):
            chunk = keys[start : start + BATCH_WRITE_LIMIT]
            request: dict[str, Any] = {
                self.table: [
                    {"DeleteRequest": {"Key": to_item({"pk": pk, "sk": sk})}} for pk, sk in chunk
                ]
            }
            attempt = 0
            while request:
                response = self.call("batch_write_item", RequestItems=request)
                request = response.get("UnprocessedItems") or {}
                if request:
                    attempt += 1
                    _backoff(attempt)

    def query(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Every item the Query matches, all pages, as plain values."""
        kwargs["TableName"] = self.table
        while True:
            response = self.call("query", **kwargs)
            for raw in response.get("Items", []):
                yield plain(raw)
            last = response.get("LastEvaluatedKey")
            if not last:
                return
            kwargs["ExclusiveStartKey"] = last

    def conditional_update(self, what: str, **kwargs: Any) -> bool:
        """``UpdateItem``; False when its condition failed.  ``what`` names it in errors."""
        try:
            self.client.update_item(TableName=self.table, **kwargs)
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise StoreError(f"{what} failed: {exc}") from exc
        except BotoCoreError as exc:
            raise StoreError(f"{what} failed: {exc}") from exc
        return True

    def transact(self, what: str, items: list[dict[str, Any]]) -> bool:
        """``TransactWriteItems``; False when a condition failed (another writer won)."""
        try:
            self.client.transact_write_items(TransactItems=items)
        except ClientError as exc:
            if error_code(exc) == "TransactionCanceledException":
                reasons = exc.response.get("CancellationReasons") or []
                if any(r.get("Code") == "ConditionalCheckFailed" for r in reasons) or not reasons:
                    return False
            raise StoreError(f"{what} failed: {exc}") from exc
        except BotoCoreError as exc:
            raise StoreError(f"{what} failed: {exc}") from exc
        return True
