"""The history item's copy of the service's description, and the 400 KB item limit.

The document is kept as a map when it is small and every text in it is valid UTF-8; otherwise as
gzip-compressed JSON (``\\uXXXX`` escapes keep lone surrogates and control characters exactly).
Whatever it holds, the item is size-checked *after* compression against DynamoDB's 400 KB: a
document that does not fit is cut deterministically (every text longer than a bound keeps its
start and a visible marker), with the SHA-256 of the full document kept, and only one that does
not fit even then is left out.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from typing import Any

from boto3.dynamodb.types import Binary

from lfv_monitor.table.codec import to_dynamo, to_item

#: DynamoDB's item limit, and what the monitor allows itself (room for size-rule differences).
DYNAMODB_ITEM_BYTES = 400 * 1024
ITEM_BUDGET = 380 * 1024
#: A document whose JSON is at most this long, with valid text only, is kept as a map.
INLINE_DOCUMENT_LIMIT = 64 * 1024
#: DynamoDB nests maps and lists at most 32 levels deep; a deeper document is stored compressed.
MAX_NESTING = 30
#: Text bounds tried, in order, when the compressed document does not fit.
CUT_BOUNDS = (128 * 1024, 16 * 1024, 2048, 256)


def item_size(item: dict[str, Any]) -> int:
    """An upper bound of a low-level item's size by DynamoDB's rules (names + values)."""
    return sum(len(name.encode("utf-8")) + _value_size(v) for name, v in item.items())


def _value_size(value: dict[str, Any]) -> int:
    (kind, data), *_ = value.items()
    if kind == "S":
        return len(data.encode("utf-8", "surrogatepass"))
    if kind == "B":
        return len(bytes(data)) if not isinstance(data, bytes) else len(data)
    if kind == "N":
        return len(data) + 1
    if kind == "M":
        return 3 + sum(len(k.encode("utf-8")) + 1 + _value_size(v) for k, v in data.items())
    if kind == "L":
        return 3 + sum(1 + _value_size(v) for v in data)
    if kind in ("SS", "NS"):
        return sum(len(str(v).encode("utf-8")) + 1 for v in data)
    if kind == "BS":
        return sum(len(bytes(v)) for v in data)
    return 1  # BOOL, NULL


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def _cut(value: Any, bound: int) -> Any:
    """``value`` with every text longer than ``bound`` characters cut, with a marker."""
    if isinstance(value, str) and len(value) > bound:
        return value[:bound] + f"… [truncated: {len(value)} characters in full]"
    if isinstance(value, dict):
        return {k: _cut(v, bound) for k, v in value.items()}
    if isinstance(value, list):
        return [_cut(v, bound) for v in value]
    return value


def _depth(value: Any, limit: int) -> int:
    """How deep ``value`` nests maps and lists, counting no further than ``limit + 1``."""
    if limit < 0 or not isinstance(value, dict | list):
        return 0
    children = value.values() if isinstance(value, dict) else value
    return 1 + max((_depth(v, limit - 1) for v in children), default=0)


def _inline(document: dict[str, Any], text: str, budget: int) -> dict[str, Any] | None:
    if len(text) > INLINE_DOCUMENT_LIMIT or _depth(document, MAX_NESTING) > MAX_NESTING:
        return None
    try:
        json.dumps(document, ensure_ascii=False).encode("utf-8")
        attributes = {"description": to_dynamo(document)}
        size = item_size(to_item(attributes))
    except (UnicodeEncodeError, TypeError, ValueError, RecursionError):  # surrogates, NaN, ...
        return None
    return attributes if size <= budget else None


def document_attributes(document: dict[str, Any], budget: int) -> dict[str, Any]:
    """The attributes that keep ``document`` in at most ``budget`` bytes of item."""
    try:
        text = json.dumps(document, separators=(",", ":"))  # ASCII: lossless for any code point
    except (TypeError, ValueError, RecursionError):
        return {"description_omitted": True}
    inline = _inline(document, text, budget)
    if inline is not None:
        return inline
    packed = gzip.compress(text.encode("ascii"), mtime=0)
    if len(packed) + 64 <= budget:
        return {"description_gz": Binary(packed)}
    digest = _digest(text)
    for bound in CUT_BOUNDS:
        cut_text = json.dumps(_cut(document, bound), separators=(",", ":"))
        packed = gzip.compress(cut_text.encode("ascii"), mtime=0)
        if len(packed) + 256 <= budget:
            return {
                "description_gz": Binary(packed),
                "description_truncated": True,
                "description_digest": digest,
            }
    return {"description_omitted": True, "description_digest": digest}
