"""The audit history's HTTP API (API Gateway REST API, IAM-authorised): the four questions.

Routes (all GET, JSON, paginated with the same opaque page tokens as the CLI):
- ``/projects/{project}/jobs/{job}/history``   one job's history, oldest first
- ``/projects/{project}/changes``              a project's changes in a time range
- ``/changes?status=FAILED``                   changes to one status across projects
- ``/jobs?status=RUNNING``                     current state of the jobs with a status

Powertools validates every parameter against the types below (``enable_validation=True``);
a malformed one is a 400 naming it, an unknown project or job a 404, a table that cannot be
read a 503.  ``openapi_document()`` is the OpenAPI description, committed as docs/openapi.json.

Why over 300 lines: the route declarations are the API's contract (Powertools turns their
annotated parameters into both the validation and the OpenAPI document), and the error handlers
must register on the same resolver; the queries themselves live in ``lfv_monitor.audit``.
"""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field

from lfv_monitor.audit import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    AuditQueries,
    ChangePage,
    InvalidQueryError,
    JobStatePage,
    NoHistoryError,
)
from lfv_monitor.audit.queries import JOB_PATTERN, PROJECT_PATTERN, STATUS_PATTERN
from lfv_monitor.audit.scope import ACCOUNT_PATTERN, REGION_PATTERN
from lfv_monitor.audit.timespec import FORMATS_HELP, parse_range
from lfv_monitor.audit.tokens import MAX_TOKEN_LENGTH
from lfv_monitor.config import AuditSettings
from lfv_monitor.domain.errors import StoreError
from lfv_monitor.observability import capture_lambda_handler, logger

API_TITLE = "lfv-monitor audit history"
#: The API contract's version (not the package's): bump it when the routes or models change.
API_VERSION = "1.0.0"
TOKEN_PATTERN = r"^[A-Za-z0-9_-]+$"


class ErrorDetail(BaseModel):
    location: str = Field(description="where the bad value is, e.g. query.limit")
    reason: str


class ErrorBody(BaseModel):
    """Every error response: what went wrong, and for bad parameters which one and why."""

    message: str
    errors: list[ErrorDetail] = Field(default_factory=list)


app = APIGatewayRestResolver(enable_validation=True)

ProjectPath = Annotated[
    str,
    Path(pattern=PROJECT_PATTERN, max_length=255, description="Lookout for Vision project name"),
]
JobPath = Annotated[
    str, Path(pattern=JOB_PATTERN, max_length=64, description="model packaging job name")
]
Limit = Annotated[
    int,
    Query(ge=1, le=MAX_PAGE_SIZE, description=f"records per page (default {DEFAULT_PAGE_SIZE})"),
]
NextToken = Annotated[
    str | None,
    Query(
        alias="nextToken",
        pattern=TOKEN_PATTERN,
        max_length=MAX_TOKEN_LENGTH,
        description="the nextToken of the previous page of the same query",
    ),
]
Since = Annotated[
    str | None, Query(max_length=64, description=f"start of the range (inclusive): {FORMATS_HELP}")
]
Until = Annotated[
    str | None, Query(max_length=64, description=f"end of the range (inclusive): {FORMATS_HELP}")
]
StatusFilter = Annotated[
    str | None,
    Query(pattern=STATUS_PATTERN, max_length=40, description="only changes to this status"),
]
Status = Annotated[
    str,
    Query(
        pattern=STATUS_PATTERN,
        max_length=40,
        description="CREATED, RUNNING, SUCCEEDED, FAILED or REMOVED (any case)",
    ),
]
AccountFilter = Annotated[
    str | None,
    Query(
        pattern=ACCOUNT_PATTERN,
        max_length=12,
        description="the job's AWS account (a target of the monitor; default the stack's own)",
    ),
]
RegionFilter = Annotated[
    str | None,
    Query(
        pattern=REGION_PATTERN,
        max_length=32,
        description="the job's AWS region (a target of the monitor; default the stack's own)",
    ),
]
ProjectFilter = Annotated[
    str | None,
    Query(pattern=PROJECT_PATTERN, max_length=255, description="only this project's jobs"),
]


def _responses(model: type[BaseModel], not_found: bool) -> dict[int, OpenAPIResponse]:
    error: OpenAPIResponse = {
        "description": "",
        "content": {content_types.APPLICATION_JSON: {"model": ErrorBody}},
    }
    responses: dict[int, OpenAPIResponse] = {
        200: {
            "description": "one page, in a stable order",
            "content": {content_types.APPLICATION_JSON: {"model": model}},
        },
        400: {**error, "description": "a malformed parameter, range or page token"},
        503: {**error, "description": "the audit table could not be read"},
    }
    if not_found:
        responses[404] = {**error, "description": "no history for the project or job"}
    return responses


def _queries() -> AuditQueries:
    queries: AuditQueries = app.context["queries"]
    return queries


def _now() -> datetime:
    return datetime.now(UTC)


@app.get(
    "/projects/<project>/jobs/<job>/history",
    summary="One job's history, oldest first",
    description="Every recorded change of one model packaging job with its time, status, "
    "message and observer, ordered by version.",
    operation_id="getJobHistory",
    tags=["history"],
    responses=_responses(ChangePage, not_found=True),
)
def job_history(
    project: ProjectPath,
    job: JobPath,
    *,
    limit: Limit = DEFAULT_PAGE_SIZE,
    next_token: NextToken = None,
    account: AccountFilter = None,
    region: RegionFilter = None,
) -> ChangePage:
    return _queries().job_history(
        project, job, limit=limit, next_token=next_token, account=account, region=region
    )


@app.get(
    "/projects/<project>/changes",
    summary="A project's changes in a time range",
    description="Every change in one project observed in [since, until], ordered by "
    "observation time, job and version; optionally only changes to one status.",
    operation_id="listProjectChanges",
    tags=["history"],
    responses=_responses(ChangePage, not_found=True),
)
def project_changes(
    project: ProjectPath,
    *,
    since: Since = None,
    until: Until = None,
    status: StatusFilter = None,
    limit: Limit = DEFAULT_PAGE_SIZE,
    next_token: NextToken = None,
    account: AccountFilter = None,
    region: RegionFilter = None,
) -> ChangePage:
    start, end = parse_range(since, until, now=_now())
    return _queries().project_changes(
        project,
        since=start,
        until=end,
        status=status,
        limit=limit,
        next_token=next_token,
        account=account,
        region=region,
    )


@app.get(
    "/changes",
    summary="Changes to one status across projects in a time range",
    description="Every change to `status` in any project observed in [since, until], ordered "
    "by observation time, project, job and version (e.g. all FAILED in the last 7 days).",
    operation_id="listStatusChanges",
    tags=["history"],
    responses=_responses(ChangePage, not_found=False),
)
def status_changes(
    status: Status,
    *,
    since: Since = None,
    until: Until = None,
    limit: Limit = DEFAULT_PAGE_SIZE,
    next_token: NextToken = None,
    account: AccountFilter = None,
    region: RegionFilter = None,
) -> ChangePage:
    start, end = parse_range(since, until, now=_now())
    return _queries().status_changes(
        status,
        since=start,
        until=end,
        limit=limit,
        next_token=next_token,
        account=account,
        region=region,
    )


@app.get(
    "/jobs",
    summary="Current state of the tracked jobs with a status",
    description="The state the monitor holds now for every tracked job with `status`, "
    "ordered by project and job (e.g. what is RUNNING now).",
    operation_id="listJobs",
    tags=["jobs"],
    responses=_responses(JobStatePage, not_found=True),
)
def jobs(
    status: Status,
    *,
    project: ProjectFilter = None,
    limit: Limit = DEFAULT_PAGE_SIZE,
    next_token: NextToken = None,
    account: AccountFilter = None,
    region: RegionFilter = None,
) -> JobStatePage:
    return _queries().jobs(
        status,
        project=project,
        limit=limit,
        next_token=next_token,
        account=account,
        region=region,
    )


def _error(status: int, body: ErrorBody, headers: dict[str, str] | None = None) -> Response[str]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=body.model_dump_json(),
        headers=headers,
    )


#: The four paths; any other method on them is a 405 naming the one that works (API Gateway
#: forwards only GET, so this matters for direct invocations and for an honest contract).
_OUR_PATHS = re.compile(
    r"^/(projects/[^/]+/jobs/[^/]+/history|projects/[^/]+/changes|changes|jobs)/?$"
)


@app.not_found
def _not_found(exc: Exception) -> Response[str]:
    event = app.current_event
    if event.http_method != "GET" and _OUR_PATHS.match(event.path):
        return _error(405, ErrorBody(message="only GET is allowed here"), {"Allow": "GET"})
    return _error(404, ErrorBody(message=f"no such route: {event.http_method} {event.path}"))


@app.exception_handler(RequestValidationError)  # type: ignore[untyped-decorator]
def _bad_parameters(exc: RequestValidationError) -> Response[str]:
    details = [
        ErrorDetail(
            location=".".join(str(part) for part in error.get("loc", ())),
            reason=str(error.get("msg", error.get("type", "invalid"))),
        )
        for error in exc.errors()
    ]
    names = ", ".join(d.location for d in details) or "the request"
    return _error(400, ErrorBody(message=f"invalid parameters: {names}", errors=details))


@app.exception_handler(InvalidQueryError)  # type: ignore[untyped-decorator]
def _bad_query(exc: InvalidQueryError) -> Response[str]:
    return _error(400, ErrorBody(message=str(exc)))


@app.exception_handler(NoHistoryError)  # type: ignore[untyped-decorator]
def _no_history(exc: NoHistoryError) -> Response[str]:
    return _error(404, ErrorBody(message=str(exc)))


@app.exception_handler(StoreError)  # type: ignore[untyped-decorator]
def _store_failed(exc: StoreError) -> Response[str]:
    logger.exception("audit table read failed")
    return _error(503, ErrorBody(message="the audit history could not be read; try again"))


_default_queries: AuditQueries | None = None


def default_queries() -> AuditQueries:
    """The real queries, built on first use and reused while the container is warm."""
    global _default_queries  # noqa: PLW0603 - one client per warm container
    if _default_queries is None:
        settings = AuditSettings.from_env(os.environ)
        _default_queries = AuditQueries(settings.table_name, home=settings.home)
    return _default_queries


@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True
)
@capture_lambda_handler
def lambda_handler(
    event: dict[str, Any], context: LambdaContext, queries: AuditQueries | None = None
) -> dict[str, Any]:
    """Answer one API Gateway request.  ``queries`` lets tests pass their own."""
    app.append_context(queries=queries or default_queries())  # type: ignore[no-untyped-call]
    return app.resolve(event, context)


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document, generated from the routes above.

    Three edits to what Powertools generates: the 422 responses are dropped (validation errors
    are answered with 400, see ``_bad_parameters``), the IAM (SigV4) security scheme that the
    template's API uses is declared, and so is API Gateway's 403 for a request it refuses
    before the function runs (unsigned, or signed wrongly).
    """
    document: dict[str, Any] = json.loads(
        app.get_openapi_json_schema(
            title=API_TITLE,
            version=API_VERSION,
            description=(
                "Read-only queries over lfv-monitor's audit trail of Amazon Lookout for Vision "
                "model packaging jobs. Requests are signed with AWS Signature Version 4 "
                "(IAM authorization, service name execute-api)."
            ),
        )
    )
    for path in document.get("paths", {}).values():
        for operation in path.values():
            operation.get("responses", {}).pop("422", None)
            operation["security"] = [{"sigv4": []}]
            operation.setdefault("responses", {})["403"] = {
                "description": "API Gateway refused the request: no signature, or a wrong one",
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}
                },
            }
    schemas = document.get("components", {}).get("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    document.setdefault("components", {})["securitySchemes"] = {
        "sigv4": {
            "type": "apiKey",
            "name": "Authorization",
            "in": "header",
            "description": "AWS Signature Version 4 (IAM); API Gateway checks execute-api:Invoke",
            "x-amazon-apigateway-authtype": "awsSigv4",
        }
    }
    return document
