"""The four audit questions as DynamoDB Queries (never a Scan), each paginated in a stable order.

Design: docs/architecture.md, "Table design" (access patterns 4-7).  Every answer is one page of
at most ``limit`` records and an opaque ``next_token`` that is set only when more records follow.
A page is read with ``Limit = remaining + 1`` so the last page never ends with an empty one; the
token is built from the last record's key, so the same page always yields the same token.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from boto3.dynamodb.types import TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError

from lfv_monitor.audit.errors import InvalidQueryError, NoHistoryError
from lfv_monitor.audit.models import ChangePage, JobStatePage
from lfv_monitor.audit.plan import Plan as _Plan
from lfv_monitor.audit.records import change_records, state_records
from lfv_monitor.audit.scope import Where, in_target, where
from lfv_monitor.audit.timespec import check_range
from lfv_monitor.audit.tokens import encode_token
from lfv_monitor.clients import aws_client
from lfv_monitor.domain.errors import StoreError
from lfv_monitor.domain.targets import Target
from lfv_monitor.table import layout
from lfv_monitor.table.codec import plain
from lfv_monitor.table.layout import key_time

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500

#: Lookout for Vision's name rules (projects 1-255, jobs 1-64 characters); never a '#'.
PROJECT_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,254}$"
JOB_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
#: Statuses are upper-case words (CREATED, RUNNING, SUCCEEDED, FAILED, REMOVED, or a new one).
STATUS_PATTERN = r"^[A-Za-z][A-Za-z_]{0,39}$"

_ser = TypeSerializer()


def check_project(project: str) -> str:
    if not re.match(PROJECT_PATTERN, project):
        raise InvalidQueryError(
            f"project {project!r} is not a valid project name "
            "(1-255 letters, digits, '-' or '_', starting with a letter or digit)"
        )
    return project


def check_job(job: str) -> str:
    if not re.match(JOB_PATTERN, job):
        raise InvalidQueryError(
            f"job {job!r} is not a valid job name (1-64 letters, digits, '-' or '_')"
        )
    return job


def check_status(status: str) -> str:
    if not re.match(STATUS_PATTERN, status.strip()):
        raise InvalidQueryError(
            f"status {status!r} is not a status (e.g. CREATED, RUNNING, SUCCEEDED, FAILED, REMOVED)"
        )
    return status.strip().upper()


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidQueryError(f"limit {limit} is out of range (1-{MAX_PAGE_SIZE})")
    return limit


def _history_key(
    keys: layout.TableKeys, project: str, job: str
) -> Callable[[str], tuple[str, str] | None]:
    return lambda sk: keys.history_key_of(project, job, sk)


def _by_project_key(
    keys: layout.TableKeys, project: str
) -> Callable[[str], tuple[str, str] | None]:
    return lambda value: keys.key_of_project_change(project, value)


class AuditQueries:
    """The audit questions over the monitor's table.  ``client`` defaults to a new DynamoDB
    client (endpoint, region and credentials from the SDK's standard configuration).

    Every question is about one target (``account``, ``region``; the stack's own, ``home``, by
    default): the records name it.
    """

    def __init__(self, table_name: str, *, client: Any = None, home: Target | None = None) -> None:
        self.table = table_name
        self.client = client if client is not None else aws_client("dynamodb")
        self.home = home

    # -- 1. one job's history, oldest first ------------------------------------------------
    def job_history(
        self,
        project: str,
        job: str,
        *,
        limit: int = DEFAULT_PAGE_SIZE,
        next_token: str | None = None,
        account: str | None = None,
        region: str | None = None,
    ) -> ChangePage:
        check_project(project)
        check_job(job)
        at = where(account, region, self.home)
        plan = _Plan(
            index=None,
            partition=("pk", at.keys.job_partition(project, job)),
            sort_attribute="sk",
            table_key=_history_key(at.keys, project, job),
            prefix=layout.HISTORY_PREFIX,
        )
        items, token = self._page(plan, check_limit(limit), next_token)
        if not items and next_token is None:
            raise NoHistoryError(f"no history for job {project}/{job}{in_target(at)}")
        return ChangePage(items=change_records(items, at.place), next_token=token)

    # -- 2. a project's changes in a time range (optionally with one status) ---------------
    def project_changes(
        self,
        project: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        status: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        next_token: str | None = None,
        account: str | None = None,
        region: str | None = None,
    ) -> ChangePage:
        check_project(project)
        check_range(since, until)
        at = where(account, region, self.home)
        plan = _Plan(
            index=layout.BY_PROJECT,
            partition=("gsi1pk", at.keys.project_partition(project)),
            sort_attribute="gsi1sk",
            table_key=_by_project_key(at.keys, project),
            lower=key_time(since) if since else None,
            upper=key_time(until) + "~" if until else None,
            filters={"status": check_status(status)} if status is not None else {},
        )
        items, token = self._page(plan, check_limit(limit), next_token)
        if not items and next_token is None and not self._project_known(at, project):
            raise NoHistoryError(f"no history for project {project}{in_target(at)}")
        return ChangePage(items=change_records(items, at.place), next_token=token)

    # -- 3. changes to one status across projects in a time range ---------------------------
    def status_changes(
        self,
        status: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        next_token: str | None = None,
        account: str | None = None,
        region: str | None = None,
    ) -> ChangePage:
        status = check_status(status)
        check_range(since, until)
        at = where(account, region, self.home)
        plan = _Plan(
            index=layout.BY_STATUS,
            partition=("gsi2pk", at.keys.status_change_partition(status)),
            sort_attribute="gsi2sk",
            table_key=at.keys.key_of_status_change,
            lower=key_time(since) if since else None,
            upper=key_time(until) + "~" if until else None,
        )
        items, token = self._page(plan, check_limit(limit), next_token)
        return ChangePage(items=change_records(items, at.place), next_token=token)

    # -- 4. current state of the tracked jobs with one status -------------------------------
    def jobs(
        self,
        status: str,
        *,
        project: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        next_token: str | None = None,
        account: str | None = None,
        region: str | None = None,
    ) -> JobStatePage:
        status = check_status(status)
        at = where(account, region, self.home)
        plan = _Plan(
            index=layout.BY_STATUS,
            partition=("gsi2pk", at.keys.state_partition(status)),
            sort_attribute="gsi2sk",
            table_key=at.keys.key_of_state,
            prefix=f"{check_project(project)}#" if project is not None else None,
        )
        items, token = self._page(plan, check_limit(limit), next_token)
        if not items and next_token is None and project and not self._project_known(at, project):
            raise NoHistoryError(f"no history for project {project}{in_target(at)}")
        return JobStatePage(items=state_records(items, at.place), next_token=token)

    # -- plumbing -------------------------------------------------------------------------
    def _page(
        self, plan: _Plan, limit: int, next_token: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        start = plan.start_key(next_token) if next_token is not None else None
        items: list[dict[str, Any]] = []
        for item in self._query(plan, start, limit + 1):
            items.append(item)
            if len(items) > limit:
                last = items[limit - 1]
                return items[:limit], encode_token({a: last[a] for a in plan.attributes})
        return items, None

    def _query(
        self, plan: _Plan, start: dict[str, str] | None, wanted: int
    ) -> Iterator[dict[str, Any]]:
        expression, names, values = plan.key_condition()
        kwargs: dict[str, Any] = {"TableName": self.table, "KeyConditionExpression": expression}
        if plan.index:
            kwargs["IndexName"] = plan.index
        for n, (attribute, value) in enumerate(sorted(plan.filters.items())):
            names[f"#f{n}"] = attribute
            values[f":f{n}"] = value
        if plan.filters:
            kwargs["FilterExpression"] = " AND ".join(
                f"#f{n} = :f{n}" for n in range(len(plan.filters))
            )
        kwargs["ExpressionAttributeNames"] = names
        kwargs["ExpressionAttributeValues"] = {k: _ser.serialize(v) for k, v in values.items()}
        if start is not None:
            kwargs["ExclusiveStartKey"] = {k: {"S": v} for k, v in start.items()}
        returned = 0
        while True:
            kwargs["Limit"] = max(wanted - returned, 1)
            response = self._call(kwargs)
            for raw in response.get("Items", []):
                returned += 1
                yield plain(raw)
            last = response.get("LastEvaluatedKey")
            if not last:
                return
            kwargs["ExclusiveStartKey"] = last

    def _project_known(self, at: Where, project: str) -> bool:
        response = self._call(
            {
                "TableName": self.table,
                "IndexName": layout.BY_PROJECT,
                "KeyConditionExpression": "gsi1pk = :p",
                "ExpressionAttributeValues": {":p": {"S": at.keys.project_partition(project)}},
                "Limit": 1,
            }
        )
        return bool(response.get("Items"))

    def _call(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        try:
            response: dict[str, Any] = self.client.query(**kwargs)
        except (ClientError, BotoCoreError) as exc:
            raise StoreError(f"DynamoDB query on {self.table} failed: {exc}") from exc
        return response
