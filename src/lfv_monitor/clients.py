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

from importlib import resources
from typing import Any

import boto3
from botocore.config import Config

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
