"""AWS Organizations, read-only: the accounts and units under a parent (``OrganizationDirectory``).

``ListAccountsForParent`` and ``ListOrganizationalUnitsForParent`` answer only in the
organization's management account or a delegated administrator account (README, "Many accounts
and regions"). Every page is read; SDK errors are mapped by code to domain errors.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from lfv_monitor.domain.errors import (
    AccessDeniedError,
    MonitorError,
    ResourceNotFoundError,
    SourceError,
    ThrottledError,
)

_ERRORS: dict[str, Callable[[str], MonitorError]] = {
    "AccessDeniedException": AccessDeniedError,
    "AWSOrganizationsNotInUseException": AccessDeniedError,
    "ParentNotFoundException": ResourceNotFoundError,
    "TooManyRequestsException": ThrottledError,
}


class OrganizationsDirectory:
    """``OrganizationDirectory`` over an ``organizations`` client."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def active_accounts(self, parent_id: str) -> list[str]:
        pages = self._pages("list_accounts_for_parent", parent_id)
        return [
            account["Id"]
            for page in pages
            for account in page.get("Accounts", [])
            # ``State`` replaces the older ``Status``; either says ACTIVE for a usable account
            # (SUSPENDED, PENDING_CLOSURE, CLOSED ones are not watched).
            if (account.get("State") or account.get("Status")) == "ACTIVE"
        ]

    def child_units(self, parent_id: str) -> list[str]:
        pages = self._pages("list_organizational_units_for_parent", parent_id)
        return [unit["Id"] for page in pages for unit in page.get("OrganizationalUnits", [])]

    def _pages(self, operation: str, parent_id: str) -> list[dict[str, Any]]:
        try:
            return list(self._iterate(operation, parent_id))
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "Unknown")
            raise _ERRORS.get(code, SourceError)(f"{operation} {parent_id}: {code}") from error
        except BotoCoreError as error:
            raise SourceError(f"{operation} {parent_id}: {type(error).__name__}") from error

    def _iterate(self, operation: str, parent_id: str) -> Iterator[dict[str, Any]]:
        paginator = self._client.get_paginator(operation)
        yield from paginator.paginate(ParentId=parent_id)
