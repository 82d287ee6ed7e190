"""DynamoDB capacity from item sizes (on-demand read and write request units).

moto answers ``ConsumedCapacity`` with fixed placeholders (1.0 per call, or the number of keys),
not sizes, and the monitor does not ask for it; so the benchmark computes capacity the way
DynamoDB documents it, from the items in each request and response:

* item size: attribute names plus values (strings and binaries by length in bytes, numbers
  about one byte per two significant digits plus one, lists and maps 3 bytes plus 1 per
  element, booleans and nulls 1 byte);
* reads: strongly consistent 1 RRU per 4 KB, eventually consistent half that, as each
  request's ``ConsistentRead`` says (the poller's state BatchGetItem is eventually consistent
  since issue 7: 0.5 RRU a key; its outbox and baseline reads are consistent); GetItem and
  each BatchGetItem key at least one unit, found or not; a Query rounds the total of its items
  up, and a Query on a global secondary index (the Active index) is always eventually
  consistent;
* writes: 1 WRU per 1 KB of each item, twice that inside TransactWriteItems, plus one write
  per global secondary index the item is projected into (all indexes project ALL);
* approximations (said in the report): an UpdateItem or DeleteItem counts 1 KB (the item it
  touches is not in the request; the monitor's state and outbox items are far below 1 KB),
  and replacing an item whose index keys change is counted as one index write, not two.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

READ_UNIT = 4096
WRITE_UNIT = 1024
#: The table's global secondary indexes: name -> (partition key, sort key); see
#: docs/architecture.md, "Table design".
INDEXES: dict[str, tuple[str, str]] = {
    "ByProject": ("gsi1pk", "gsi1sk"),
    "ByStatus": ("gsi2pk", "gsi2sk"),
    "Active": ("active_pk", "active_sk"),
}


def _number_size(text: str) -> int:
    digits = Decimal(text).normalize().as_tuple().digits
    return math.ceil(len(digits) / 2) + 1


def value_size(value: Mapping[str, Any]) -> int:
    """Size in bytes of one low-level attribute value (``{"S": ...}``, ``{"N": ...}``, ...)."""
    ((kind, raw),) = value.items()
    if kind == "S":
        return len(str(raw).encode())
    if kind == "N":
        return _number_size(str(raw))
    if kind == "B":
        return len(raw) if isinstance(raw, bytes | bytearray) else len(str(raw))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(str(s).encode()) for s in raw)
    if kind == "NS":
        return sum(_number_size(str(n)) for n in raw)
    if kind == "BS":
        return sum(len(b) for b in raw)
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in raw)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + value_size(v) for k, v in raw.items())
    raise ValueError(f"unknown DynamoDB attribute type {kind!r}")


def item_size(item: Mapping[str, Any]) -> int:
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def read_units(size: int, *, consistent: bool) -> float:
    units = max(1, math.ceil(size / READ_UNIT))
    return float(units) if consistent else units / 2


def write_units(item: Mapping[str, Any], *, transactional: bool = False) -> float:
    units = max(1, math.ceil(item_size(item) / WRITE_UNIT))
    base = units * (2 if transactional else 1)
    indexes = sum(1 for pk, sk in INDEXES.values() if pk in item and sk in item)
    return float(base + indexes * units)


def consumed(
    operation: str, params: Mapping[str, Any], response: Mapping[str, Any]
) -> dict[str, float]:
    """Read and write units one DynamoDB call consumed: ``{"read": r, "write": w}``."""
    if operation in _READS:
        return {"read": _READS[operation](params, response), "write": 0.0}
    if operation in _WRITES:
        return {"read": 0.0, "write": _WRITES[operation](params)}
    return {"read": 0.0, "write": 0.0}


def _get_item(params: Mapping[str, Any], response: Mapping[str, Any]) -> float:
    item = response.get("Item")
    return read_units(item_size(item) if item else 0, consistent=bool(params.get("ConsistentRead")))


def _batch_get_item(params: Mapping[str, Any], response: Mapping[str, Any]) -> float:
    read = 0.0
    for table, request in params.get("RequestItems", {}).items():
        consistent = bool(request.get("ConsistentRead"))
        found = response.get("Responses", {}).get(table, [])
        unprocessed = len(response.get("UnprocessedKeys", {}).get(table, {}).get("Keys", []))
        missing = len(request.get("Keys", [])) - len(found) - unprocessed
        read += sum(read_units(item_size(i), consistent=consistent) for i in found)
        read += max(0, missing) * read_units(0, consistent=consistent)
    return read


def _query(params: Mapping[str, Any], response: Mapping[str, Any]) -> float:
    consistent = bool(params.get("ConsistentRead")) and "IndexName" not in params
    return read_units(sum(item_size(i) for i in response.get("Items", [])), consistent=consistent)


def _batch_write_item(params: Mapping[str, Any]) -> float:
    return sum(
        write_units(request["PutRequest"].get("Item", {})) if "PutRequest" in request else 1.0
        for requests in params.get("RequestItems", {}).values()
        for request in requests
    )


_READS: dict[str, Callable[[Mapping[str, Any], Mapping[str, Any]], float]] = {
    "GetItem": _get_item,
    "BatchGetItem": _batch_get_item,
    "Query": _query,
    "Scan": _query,
}
_WRITES: dict[str, Callable[[Mapping[str, Any]], float]] = {
    "PutItem": lambda params: write_units(params.get("Item", {})),
    "UpdateItem": lambda params: 1.0,
    "DeleteItem": lambda params: 1.0,
    "BatchWriteItem": _batch_write_item,
    "TransactWriteItems": lambda params: sum(
        _transact_units(entry) for entry in params.get("TransactItems", [])
    ),
}


def _transact_units(entry: Mapping[str, Any]) -> float:
    if "Put" in entry:
        return write_units(entry["Put"].get("Item", {}), transactional=True)
    if "ConditionCheck" in entry:
        return 2.0  # a condition check is a transactional read of up to 4 KB
    return 2.0  # Update / Delete: 1 KB, doubled


def total(rows: Iterable[Mapping[str, float]]) -> dict[str, float]:
    read = write = 0.0
    for row in rows:
        read += row.get("read", 0.0)
        write += row.get("write", 0.0)
    return {"read": read, "write": write}
