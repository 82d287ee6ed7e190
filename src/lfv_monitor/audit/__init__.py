"""Read side of the audit trail: the four history questions over the table's keys and indexes.

``queries.AuditQueries`` is the adapter (DynamoDB Query only, never Scan); ``models`` holds the
records and pages it returns; ``timespec`` parses ``--since``/``--until`` values; ``tokens``
makes the opaque page tokens.  The CLI commands and the HTTP API both call these.
"""

from lfv_monitor.audit.errors import (
    AuditQueryError,
    InvalidPageTokenError,
    InvalidQueryError,
    InvalidTimeError,
    NoHistoryError,
)
from lfv_monitor.audit.models import ChangePage, ChangeRecord, JobStatePage, JobStateRecord
from lfv_monitor.audit.queries import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, AuditQueries

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "MAX_PAGE_SIZE",
    "AuditQueries",
    "AuditQueryError",
    "ChangePage",
    "ChangeRecord",
    "InvalidPageTokenError",
    "InvalidQueryError",
    "InvalidTimeError",
    "JobStatePage",
    "JobStateRecord",
    "NoHistoryError",
]
