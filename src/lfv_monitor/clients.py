"""The one place that builds AWS clients.

botocore dropped the ``lookoutvision`` client in 1.40.61; this package carries the service model
(``data/lookoutvision/2020-11-20``, derived by ``scripts/derive_service_model.py``) and adds its
folder to botocore's loader search path, so a current boto3 builds a working client: SigV4,
modelled exceptions, paginators, ``Stubber`` and ``endpoint_url`` all behave as they did.

Endpoints, credentials and region come from the SDK's standard configuration (``AWS_PROFILE``,
``AWS_REGION``, ``AWS_ENDPOINT_URL``, ``AWS_ENDPOINT_URL_LOOKOUTVISION``, ...), or from the
arguments here, which win.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from functools import partial
from importlib import resources
from typing import Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.credentials import (
    AssumeRoleCredentialFetcher,
    CredentialProvider,
    Credentials,
    DeferredRefreshableCredentials,
)

SERVICE_NAME = "lookoutvision"
API_VERSION = "2020-11-20"
#: The operations of the carried model (scripts/derive_service_model.py keeps exactly these).
OPERATIONS: tuple[str, ...] = (
    "ListProjects",
    "CreateProject",
    "DescribeProject",
    "DeleteProject",
    "StartModelPackagingJob",
    "ListModelPackagingJobs",
    "DescribeModelPackagingJob",
)
#: Lookout for Vision's documented quota: 5 requests per second per API, per account and region.
SERVICE_QUOTA_PER_SECOND = 5.0

DATA_PATH = str(resources.files("lfv_monitor") / "data")

# Throttling is retried with botocore's "standard" mode (exponential backoff with jitter and a
# retry quota).  Five attempts cover a one-second burst over a 5 req/s quota.
LOOKOUTVISION_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 5},
    connect_timeout=5,
    read_timeout=15,
    user_agent_extra="lfv-monitor",
)
DEFAULT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 5},
    connect_timeout=5,
    read_timeout=15,
    user_agent_extra="lfv-monitor",
)


def register_service_model(session: boto3.Session) -> boto3.Session:
    """Make ``session`` able to build ``lookoutvision`` clients (idempotent)."""
    loader = session._session.get_component("data_loader")
    if DATA_PATH not in loader.search_paths:
        loader.search_paths.append(DATA_PATH)
    return session


def new_session(
    *, profile_name: str | None = None, region_name: str | None = None
) -> boto3.Session:
    """A boto3 session that knows the carried Lookout for Vision model."""
    return register_service_model(boto3.Session(profile_name=profile_name, region_name=region_name))


def lookoutvision_client(
    session: boto3.Session | None = None,
    *,
    endpoint_url: str | None = None,
    region_name: str | None = None,
    config: Config | None = None,
) -> Any:
    """A ``lookoutvision`` client on any boto3, retries set for the 5 req/s quota."""
    session = register_service_model(session or boto3.Session())
    merged = LOOKOUTVISION_CONFIG.merge(config) if config else LOOKOUTVISION_CONFIG
    make: Any = session.client  # the stubs know only botocore's own services
    return make(SERVICE_NAME, endpoint_url=endpoint_url, region_name=region_name, config=merged)


def aws_client(
    service: str,
    session: boto3.Session | None = None,
    *,
    endpoint_url: str | None = None,
    region_name: str | None = None,
    config: Config | None = None,
) -> Any:
    """Any other AWS client (dynamodb, events, sns, sqs) with the project's defaults."""
    session = session or boto3.Session()
    merged = DEFAULT_CONFIG.merge(config) if config else DEFAULT_CONFIG
    make: Any = session.client
    return make(service, endpoint_url=endpoint_url, region_name=region_name, config=merged)


# ------------------------------------------------------------------ member accounts (issue 15)
#: STS's limit on RoleSessionName, and the characters it accepts.
_SESSION_NAME_MAX = 64
_SESSION_NAME_BAD = re.compile(r"[^\w+=,.@-]")


def role_session_name(stack_name: str) -> str:
    """``lfv-monitor-<stack name>``, trimmed to STS's 64 characters: the member account's
    CloudTrail shows which monitor stack read it."""
    return _SESSION_NAME_BAD.sub("-", f"lfv-monitor-{stack_name}")[:_SESSION_NAME_MAX]


class _AssumedRoleProvider(CredentialProvider):
    """Hands botocore's credential chain the refreshable credentials of one assumed role."""

    METHOD = "lfv-monitor-assume-role"
    CANONICAL_NAME = "lfv-monitor-assume-role"

    def __init__(self, credentials: Credentials) -> None:
        super().__init__()
        self._credentials = credentials

    def load(self) -> Credentials:
        return self._credentials


class TargetClients:
    """Lookout for Vision clients for targets (an account and a region), cached per (role,
    region); one refreshable credential set per role.

    A target in the monitor's own account (``role_arn`` None) uses ``session`` as it is. Any
    other is reached by assuming ``role_arn`` with RoleSessionName ``session_name``: botocore's
    ``AssumeRoleCredentialFetcher`` with ``DeferredRefreshableCredentials`` calls STS on first
    use and again shortly before the credentials expire, never per cycle. STS is called with
    ``session``'s credentials in ``session``'s region (its regional endpoint);
    ``sts_client_creator`` (``create_client``'s signature) replaces how that client is made.
    """

    def __init__(
        self,
        session: boto3.Session | None = None,
        *,
        session_name: str,
        sts_endpoint_url: str | None = None,
        endpoint_url: str | None = None,
        config: Config | None = None,
        sts_client_creator: Callable[..., Any] | None = None,
    ) -> None:
        self._base = register_service_model(session or boto3.Session())
        self._sts_client_creator = sts_client_creator
        self._session_name = session_name
        self._sts_endpoint_url = sts_endpoint_url
        self._endpoint_url = endpoint_url
        self._config = config
        self._sessions: dict[str, boto3.Session] = {}
        self._clients: dict[tuple[str | None, str], Any] = {}
        self._lock = threading.Lock()

    def lookoutvision(self, role_arn: str | None, region: str) -> Any:
        """The client for one target, built once per (role, region)."""
        key = (role_arn, region)
        with self._lock:
            if key not in self._clients:
                session = self._base if role_arn is None else self._assumed(role_arn)
                self._clients[key] = lookoutvision_client(
                    session,
                    endpoint_url=self._endpoint_url,
                    region_name=region,
                    config=self._config,
                )
            return self._clients[key]

    def session(self, role_arn: str) -> boto3.Session:
        """The boto3 session whose credentials are ``role_arn``'s (refreshed as they expire)."""
        with self._lock:
            return self._assumed(role_arn)

    def _assumed(self, role_arn: str) -> boto3.Session:
        if role_arn not in self._sessions:
            source = self._base.get_credentials()
            if source is None:
                raise RuntimeError("no AWS credentials to assume a member role with")
            creator: Callable[..., Any] = self._sts_client_creator or partial(
                self._base._session.create_client,
                region_name=self._base.region_name,
                endpoint_url=self._sts_endpoint_url,
                config=DEFAULT_CONFIG,
            )
            fetcher = AssumeRoleCredentialFetcher(
                creator, source, role_arn, extra_args={"RoleSessionName": self._session_name}
            )
            credentials = DeferredRefreshableCredentials(
                refresh_using=fetcher.fetch_credentials, method="assume-role"
            )
            core = botocore.session.Session()
            core.get_component("credential_provider").insert_before(
                "env", _AssumedRoleProvider(credentials)
            )
            self._sessions[role_arn] = register_service_model(
                boto3.Session(botocore_session=core, region_name=self._base.region_name)
            )
        return self._sessions[role_arn]
