"""Errors of the audit queries.  Messages name what was wrong and are safe to show a user."""

from __future__ import annotations

from lfv_monitor.domain.errors import MonitorError


class AuditQueryError(MonitorError):
    """Base class: a question that cannot be answered as asked."""


class InvalidQueryError(AuditQueryError):
    """Bad input (a name, a status, a page size): HTTP 400, CLI exit 2."""


class InvalidTimeError(InvalidQueryError):
    """An unparseable ``since``/``until`` value or a range that ends before it starts."""


class InvalidPageTokenError(InvalidQueryError):
    """A page token that this query did not hand out (malformed, tampered or from another query)."""


class NoHistoryError(AuditQueryError):
    """The project or job was never recorded: HTTP 404, CLI exit 1."""
