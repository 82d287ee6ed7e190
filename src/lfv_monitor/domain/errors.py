"""Domain errors.  Adapters map SDK errors to these (by error code, never by message text)."""

from __future__ import annotations


class MonitorError(Exception):
    """Base class of every error the monitor raises on purpose."""


class ConfigurationError(MonitorError):
    """The monitor's configuration is missing or invalid; the message names the variable."""


class ServiceUnreachableError(MonitorError):
    """Lookout for Vision cannot be reached at all (DNS, connection refused, endpoint gone)."""


class ResourceNotFoundError(MonitorError):
    """The service does not know the project or job (it was deleted)."""

    def __init__(self, message: str, *, resource_type: str | None = None) -> None:
        super().__init__(message)
        self.resource_type = resource_type


class AccessDeniedError(MonitorError):
    """The monitor's role may not call this operation on this resource."""


class ThrottledError(MonitorError):
    """Throttled past the client's retries."""


class SourceError(MonitorError):
    """Any other failure reading from Lookout for Vision (5xx past retries, malformed response)."""


class StoreError(MonitorError):
    """The snapshot store failed."""


class DeliveryError(MonitorError):
    """Publishing to a channel failed for some or all entries."""

    def __init__(self, message: str, *, failed_event_ids: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.failed_event_ids = failed_event_ids


class DeadlineReachedError(SourceError):
    """A listing stopped between pages because the invocation's deadline is near; the next
    cycle lists that project again (the cycle reports it as the deadline, not a fault)."""
