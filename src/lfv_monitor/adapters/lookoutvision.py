"""``JobSource`` over the Lookout for Vision API (through the carried service model).

Raw API output becomes domain models here; every response member is optional in the model, so
nothing here trusts a field to be present or of the right type.  SDK errors are mapped to domain
errors by error code, never by message text.

Paging and parsing are bounded: a listing ends with a ``SourceError`` when a page token comes
back a second time (any cycle, not only an immediate repeat), after ``max_pages`` pages, or when
``out_of_time`` says the invocation's deadline is near (``DeadlineReachedError``); an answer over
``MAX_RESPONSE_BYTES`` is refused before it is parsed, and one nested too deeply to parse
(``RecursionError``) or too large to hold (``MemoryError``) is a ``SourceError`` too: an error of
that project's listing or that job's describe, never of the whole cycle.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
)

from lfv_monitor.clients import SERVICE_QUOTA_PER_SECOND, lookoutvision_client
from lfv_monitor.domain.errors import (
    AccessDeniedError,
    DeadlineReachedError,
    ResourceNotFoundError,
    ServiceUnreachableError,
    SourceError,
    ThrottledError,
)
from lfv_monitor.domain.models import JobDescription, JobKey, JobSummary, Project

PAGE_SIZE = 100
#: Lambda's longest timeout: no invocation lives longer.
MAX_INVOCATION_SECONDS = 900
#: The most pages the service's quota serves to one listing within one invocation.
MAX_PAGES = int(SERVICE_QUOTA_PER_SECOND * MAX_INVOCATION_SECONDS)
#: A page of 100 summaries is well under 1 MB; a larger answer is refused before it is parsed.
MAX_RESPONSE_BYTES = 8 * 1024 * 1024
_UNREACHABLE = (EndpointConnectionError, ConnectTimeoutError, ConnectionClosedError)
_ERRORS: dict[str, type[Exception]] = {
    "ResourceNotFoundException": ResourceNotFoundError,
    "AccessDeniedException": AccessDeniedError,
    # STS's, when the member role of a target cannot be assumed (missing, or not trusting us):
    # the credentials are fetched on the first call, so it surfaces from that call.
    "AccessDenied": AccessDeniedError,
    "ThrottlingException": ThrottledError,
}


class _ResponseTooLargeError(Exception):
    """Raised from botocore's ``before-parse`` event: the body is not parsed."""


def _refuse_large_body(response_dict: Any = None, **_: Any) -> None:
    body = response_dict.get("body") if isinstance(response_dict, dict) else None
    if isinstance(body, bytes | bytearray) and len(body) > MAX_RESPONSE_BYTES:
        raise _ResponseTooLargeError(
            f"the answer is {len(body)} bytes, over the {MAX_RESPONSE_BYTES} bytes accepted"
        )


class RateLimiter:
    """A client-side rate per operation: calls to one operation are spaced 1/rate apart.

    Installed on the client's ``before-send`` event, so retries count too.  Each operation has
    its own quota at the service, so each has its own spacing here.  Thread-safe.
    """

    def __init__(
        self,
        rate_per_second: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate_per_second <= 0:
            raise ValueError("rate_per_second must be positive")
        self.interval = 1.0 / rate_per_second
        self._clock = clock
        self._sleep = sleep
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def acquire(self, operation: str) -> None:
        with self._lock:
            now = self._clock()
            slot = max(now, self._next.get(operation, now))
            self._next[operation] = slot + self.interval
        if slot > now:
            self._sleep(slot - now)

    def install(self, client: Any) -> None:
        def before_send(event_name: str = "", **_: Any) -> None:
            # botocore emits ``before-send.<service>.<Operation>`` with the request only (no
            # operation model): the operation is the event name's last part.
            self.acquire(event_name.rsplit(".", 1)[-1] or "unknown")

        client.meta.events.register("before-send.lookoutvision", before_send)


def _str(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def _time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, tz=UTC)
    return None


def _jsonable(value: Any) -> Any:
    """The response as JSON-ready data, timestamps as epoch seconds as on the wire."""
    if isinstance(value, datetime):
        ts = value.timestamp()
        return int(ts) if ts.is_integer() else ts
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


class LookoutVisionJobSource:
    """Reads projects and model packaging jobs.  ``client`` defaults to a new client.

    ``max_pages`` bounds one listing; ``out_of_time`` (set per invocation by the composition
    root, see ``bootstrap.Monitor.run``) is asked between pages.
    """

    def __init__(
        self,
        client: Any = None,
        *,
        rate_per_second: float | None = 4.0,
        max_pages: int = MAX_PAGES,
        out_of_time: Callable[[], bool] | None = None,
    ) -> None:
        self.client = client if client is not None else lookoutvision_client()
        self.max_pages = max_pages
        self.out_of_time = out_of_time
        #: ThrottlingException answers received (each retried attempt counts).
        self.throttles = 0
        if rate_per_second:
            RateLimiter(rate_per_second).install(self.client)
        self.client.meta.events.register("needs-retry.lookoutvision", self._count_throttle)
        self.client.meta.events.register("before-parse.lookoutvision", _refuse_large_body)

    def _count_throttle(self, response: Any = None, **_: Any) -> None:
        if response is not None:
            parsed = response[1] if isinstance(response, tuple) and len(response) > 1 else {}
            if isinstance(parsed, dict) and parsed.get("Error", {}).get("Code") == (
                "ThrottlingException"
            ):
                self.throttles += 1

    # -- JobSource -----------------------------------------------------------------------
    def list_projects(self) -> list[Project]:
        projects = []
        for page in self._pages("list_projects", "Projects"):
            for item in page:
                name = _str(item.get("ProjectName")) if isinstance(item, dict) else None
                if name:
                    projects.append(Project(name=name, arn=_str(item.get("ProjectArn"))))
        return projects

    def list_jobs(self, project: str) -> list[JobSummary]:
        jobs = []
        for page in self._pages("list_model_packaging_jobs", "ModelPackagingJobs", project):
            for item in page:
                name = _str(item.get("JobName")) if isinstance(item, dict) else None
                if not name:
                    continue
                jobs.append(
                    JobSummary(
                        key=JobKey(project, name),
                        status=_str(item.get("Status")),
                        status_message=_str(item.get("StatusMessage")),
                        last_updated=_time(item.get("LastUpdatedTimestamp")),
                        model_version=_str(item.get("ModelVersion")),
                        created=_time(item.get("CreationTimestamp")),
                    )
                )
        return jobs

    def describe_job(self, key: JobKey) -> JobDescription:
        response = self._call(
            "describe_model_packaging_job", ProjectName=key.project, JobName=key.job
        )
        try:
            return self._description(key, response)
        except RecursionError as exc:  # a document nested deeper than Python recurses
            raise SourceError(f"{key}: the description is nested too deeply") from exc

    @staticmethod
    def _description(key: JobKey, response: dict[str, Any]) -> JobDescription:
        raw = response.get("ModelPackagingDescription")
        if not isinstance(raw, dict):
            raise SourceError(f"{key}: the response has no ModelPackagingDescription")
        # A description without a usable Status is a malformed answer, not a change to "no
        # status": recording it would write a state the job never had (tried again next cycle).
        status = raw.get("Status")
        if not isinstance(status, str) or not status:
            raise SourceError(f"{key}: the response has no Status (got {status!r:.40})")
        message = raw.get("StatusMessage")
        if message is not None and not isinstance(message, str):
            raise SourceError(f"{key}: StatusMessage is not text (got {type(message).__name__})")
        return JobDescription(
            key=key,
            status=status,
            status_message=message,
            model_version=_str(raw.get("ModelVersion")),
            creation_timestamp=_time(raw.get("CreationTimestamp")),
            last_updated=_time(raw.get("LastUpdatedTimestamp")),
            document=_jsonable(raw),
        )

    # -- plumbing ------------------------------------------------------------------------
    def _pages(self, operation: str, result_key: str, project: str | None = None) -> Iterator[Any]:
        """Every page of one listing; a ``SourceError`` ends it when it cannot end by itself."""
        kwargs: dict[str, Any] = {"MaxResults": PAGE_SIZE}
        where = f"{operation} {project}" if project is not None else operation
        if project is not None:
            kwargs["ProjectName"] = project
        seen: set[str] = set()
        for page in range(1, self.max_pages + 1):
            response = self._call(operation, **kwargs)
            items = response.get(result_key)
            yield items if isinstance(items, list) else []
            token = response.get("NextToken")
            if not token:
                return
            if not isinstance(token, str) or token in seen:
                raise SourceError(
                    f"{where}: page {page} repeats the page token {_str(token)!r:.60}: "
                    "the listing would never end"
                )
            seen.add(token)
            if self.out_of_time is not None and self.out_of_time():
                raise DeadlineReachedError(
                    f"{where}: the invocation's deadline came after page {page}; "
                    "the listing is left for the next cycle"
                )
            kwargs["NextToken"] = token
        raise SourceError(
            f"{where}: more than {self.max_pages} pages, more than the service's quota "
            "serves in one invocation"
        )

    def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        where = "/".join(str(kwargs[k]) for k in ("ProjectName", "JobName") if k in kwargs)
        try:
            response: dict[str, Any] = getattr(self.client, operation)(**kwargs)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            message = exc.response.get("Error", {}).get("Message") or code
            error_type = _ERRORS.get(code, SourceError)
            text = f"{operation} {where}: {code}: {message}".replace("  ", " ")
            if error_type is ResourceNotFoundError:
                resource_type = _str(exc.response.get("ResourceType"))
                raise ResourceNotFoundError(text, resource_type=resource_type) from exc
            raise error_type(text) from exc
        except _UNREACHABLE as exc:
            raise ServiceUnreachableError(f"{operation}: {exc}") from exc
        except BotoCoreError as exc:  # malformed responses, read timeouts, ...
            raise SourceError(f"{operation} {where}: {exc}") from exc
        except (ValueError, TypeError, AttributeError) as exc:
            # botocore's parser on a malformed body: a timestamp that is not one, a list item
            # that is not an object, ... (it raises these, not a BotoCoreError)
            raise SourceError(f"{operation} {where}: malformed response: {exc}") from exc
        except RecursionError as exc:  # JSON nested deeper than the parser recurses
            raise SourceError(f"{operation} {where}: the answer is nested too deeply") from exc
        except _ResponseTooLargeError as exc:
            raise SourceError(f"{operation} {where}: {exc}") from exc
        except MemoryError as exc:  # what was allocated for it is freed as this unwinds
            raise SourceError(f"{operation} {where}: the answer is too large to hold") from exc
        return response if isinstance(response, dict) else {}
