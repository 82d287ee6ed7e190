"""Plain Python values ⇄ DynamoDB attribute values, and the epoch/JSON conversions items use."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

_ser = TypeSerializer()
_de = TypeDeserializer()


def to_item(values: dict[str, Any]) -> dict[str, Any]:
    """A low-level item from plain values, leaving out None."""
    return {k: _ser.serialize(v) for k, v in values.items() if v is not None}


def plain(item: dict[str, Any]) -> dict[str, Any]:
    """A low-level item as plain values (numbers as ``Decimal``, binaries as ``Binary``)."""
    return {k: _de.deserialize(v) for k, v in item.items()}


def epoch(ts: datetime | None) -> Decimal | None:
    return None if ts is None else Decimal(str(ts.timestamp()))


def from_epoch(value: Any) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(float(value), tz=UTC)


def to_dynamo(document: dict[str, Any]) -> Any:
    """A JSON document as DynamoDB values (floats as ``Decimal``)."""
    return json.loads(json.dumps(document), parse_float=Decimal)


def from_dynamo(value: Any) -> Any:
    """DynamoDB values back to JSON values (whole ``Decimal``s as ``int``)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: from_dynamo(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [from_dynamo(v) for v in value]
    if isinstance(value, set):
        return sorted(from_dynamo(v) for v in value)
    return value
