"""Service text made safe to show: on a terminal, in a spreadsheet, in JSON.

Statuses, messages, project and job names come from Lookout for Vision (or whoever answers in its
place) and are printed by ``poll``, ``history``, ``changes``, ``jobs`` and the demo.  Printed
as they are, an ANSI escape would restyle or rewrite the terminal, a ``\\r`` would overwrite the
line, a bidi override would show text in another order than it is; in a CSV file, a cell that
starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return) is run as a formula by a
spreadsheet.  Every command prints such text through these helpers; what is stored is untouched.

- :func:`printable`: every character Python does not call printable (control characters C0/C1
  and DEL, format characters such as bidi overrides and zero-width marks, lone surrogates, line
  and paragraph separators, private-use and unassigned code points) becomes a Python-style
  escape (``\\x1b``, ``\\r``, ``\\u202e``); spaces of any kind are kept.  Backslashes are not
  doubled: the result is for reading, not for parsing back (``--output json`` is lossless).
- :func:`one_line`: whitespace runs collapsed to one space, then :func:`printable`, then cut.
- :func:`csv_cell`: :func:`printable`, and a leading ``'`` before a formula's first character.
- :func:`json_text`: JSON whose strings keep every character, with the unsafe ones as ``\\uXXXX``.
"""

from __future__ import annotations

import json
import unicodedata
from typing import Any

_SHORT_ESCAPES = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}
#: What a spreadsheet reads as the start of a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _unsafe(char: str) -> bool:
    return not char.isprintable() and unicodedata.category(char) != "Zs"


def _escape(char: str) -> str:
    if char in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[char]
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def printable(text: str) -> str:
    """``text`` with every character that could act on a terminal escaped."""
    if text.isprintable():
        return text
    return "".join(_escape(c) if _unsafe(c) else c for c in text)


def one_line(text: str | None, limit: int = 120) -> str:
    """``text`` on one line: whitespace collapsed, unsafe characters escaped, cut to ``limit``."""
    if not text:
        return ""
    line = printable(" ".join(text.split()))
    return line if len(line) <= limit else line[: limit - 1] + "…"


def csv_cell(value: Any) -> Any:
    """A CSV cell a spreadsheet shows as text: escaped, and not run as a formula."""
    if not isinstance(value, str):
        return value
    text = printable(value)
    return "'" + text if value.startswith(FORMULA_STARTS) else text


def _json_escape(char: str) -> str:
    code = ord(char)
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000  # a UTF-16 surrogate pair, as JSON spells characters past the BMP
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def json_text(data: Any, *, indent: int | None = 2) -> str:
    """``json.dumps`` that a terminal cannot be driven by: the same value when parsed back.

    JSON already escapes C0 controls inside strings; DEL, C1 controls, bidi overrides, lone
    surrogates (which UTF-8 cannot even encode) and the rest become ``\\uXXXX`` escapes.  Outside
    strings, JSON has only ASCII punctuation, digits, letters, spaces and the indent's newlines.
    """
    text = json.dumps(data, indent=indent, ensure_ascii=False, default=str)
    if text.replace("\n", "").isprintable():
        return text
    return "".join(_json_escape(c) if c != "\n" and _unsafe(c) else c for c in text)
