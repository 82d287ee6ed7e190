"""Opaque page tokens: base64url (unpadded) of the query's next start key as compact JSON.

The same key always gives the same token (sorted keys), so a page token is stable.  Decoding
checks only the shape; the query checks that the key belongs to it.
"""

from __future__ import annotations

import base64
import binascii
import json
import re

from lfv_monitor.audit.errors import InvalidPageTokenError

#: Longer than any key this table can produce (four key attributes of at most ~600 characters).
MAX_TOKEN_LENGTH = 4096
_ALPHABET = re.compile(r"^[A-Za-z0-9_-]+$")


def encode_token(key: dict[str, str]) -> str:
    text = json.dumps(key, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_token(token: str, attributes: frozenset[str]) -> dict[str, str]:
    """The start key in ``token``, which must hold exactly ``attributes``, all strings."""
    if len(token) > MAX_TOKEN_LENGTH or not _ALPHABET.match(token):
        raise InvalidPageTokenError(
            "next token is malformed (not a token from a previous page of this query)"
        )
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        key = json.loads(raw.decode())
    except (binascii.Error, ValueError):
        raise InvalidPageTokenError(
            "next token is malformed (not a token from a previous page of this query)"
        ) from None
    if (
        not isinstance(key, dict)
        or set(key) != attributes
        or not all(isinstance(v, str) and v for v in key.values())
    ):
        raise InvalidPageTokenError("next token does not belong to this query")
    return key
