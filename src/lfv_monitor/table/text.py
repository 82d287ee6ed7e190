"""Service text made storable: any length, any code points, deterministically bounded.

DynamoDB strings must be valid UTF-8 and an item at most 400 KB (index keys: 2,048 bytes for a
partition key, 1,024 for a sort key).  A text that is valid and short enough is stored as it is;
any other is stored *cleaned* (lone surrogates as U+FFFD) and *cut* to a fixed number of
characters, with the SHA-256 digest of the full text (``models.message_digest``) beside it, so
comparisons stay exact.  The full text stays in the history item's description document, which
is JSON with ``\\uXXXX`` escapes (lossless for any code point), compressed when large.
"""

from __future__ import annotations

import hashlib

from lfv_monitor.domain.models import message_digest

#: Characters of a Status or StatusMessage kept as an attribute (at most 16 KiB of UTF-8).
ATTRIBUTE_LIMIT = 4096
#: A status is used as it is in an index key up to this many UTF-8 bytes.
KEY_STATUS_BYTES = 256
#: Characters of a longer or invalid status kept in its key form (before the digest).
KEY_STATUS_PREFIX = 64


def clean(text: str) -> str:
    """``text`` as valid Unicode: lone surrogates become U+FFFD (everything else unchanged)."""
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def is_clean(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def bounded(text: str | None, limit: int = ATTRIBUTE_LIMIT) -> tuple[str | None, str | None]:
    """(the text to store, the digest of the full text when the stored one differs from it)."""
    if text is None:
        return None, None
    stored = clean(text)[:limit] if len(text) > limit or not is_clean(text) else text
    return stored, (message_digest(text) if stored != text else None)


def status_key(status: str | None) -> str:
    """The bounded form of a status used in index keys: the status itself when it is valid and
    short, else its first characters and a digest (``<prefix>~<sha256[:16]>``), deterministic.
    """
    if status is None:
        return "None"  # what the layout has always written for a job without a status
    if is_clean(status) and len(status.encode("utf-8")) <= KEY_STATUS_BYTES:
        return status
    raw = status.encode("utf-8", "surrogatepass")
    return f"{clean(status)[:KEY_STATUS_PREFIX]}~{hashlib.sha256(raw).hexdigest()[:16]}"
