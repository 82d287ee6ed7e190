"""The carried service model gives a working ``lookoutvision`` client on the newest boto3."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
import botocore
import pytest
from botocore.exceptions import UnknownServiceError
from botocore.stub import Stubber

from lfv_monitor.clients import (
    SERVICE_NAME,
    lookoutvision_client,
    new_session,
    register_service_model,
)

ERRORS = {
    "AccessDeniedException": 403,
    "ConflictException": 409,
    "InternalServerException": 500,
    "ResourceNotFoundException": 404,
    "ServiceQuotaExceededException": 402,
    "ThrottlingException": 429,
    "ValidationException": 400,
}


def test_plain_boto3_no_longer_knows_the_service() -> None:
    # Given the newest botocore, which removed the client in 1.40.61
    assert tuple(int(p) for p in botocore.__version__.split(".")[:3]) >= (1, 40, 61)
    # Then a plain session cannot build it: this is why the project carries the model
    with pytest.raises(UnknownServiceError):
        boto3.Session(region_name="us-east-1").client(SERVICE_NAME)


def test_client_has_the_seven_operations_and_both_paginators() -> None:
    client = lookoutvision_client(region_name="us-east-1")
    assert set(client.meta.service_model.operation_names) == {
        "ListProjects",
        "CreateProject",
        "DescribeProject",
        "DeleteProject",
        "StartModelPackagingJob",
        "ListModelPackagingJobs",
        "DescribeModelPackagingJob",
    }
    assert client.can_paginate("list_projects")
    assert client.can_paginate("list_model_packaging_jobs")
    assert client.meta.service_model.signing_name == "lookoutvision"
    assert client.meta.config.retries["mode"] == "standard"


def test_default_endpoint_follows_aws_host_naming() -> None:
    client = lookoutvision_client(region_name="eu-west-1")
    assert client.meta.endpoint_url == "https://lookoutvision.eu-west-1.amazonaws.com"


def test_endpoint_url_argument_and_service_env_var(monkeypatch: pytest.MonkeyPatch) -> None:
    assert (
        lookoutvision_client(endpoint_url="http://127.0.0.1:4000").meta.endpoint_url
        == "http://127.0.0.1:4000"
    )
    monkeypatch.setenv("AWS_ENDPOINT_URL_LOOKOUTVISION", "http://127.0.0.1:4567")
    assert lookoutvision_client().meta.endpoint_url == "http://127.0.0.1:4567"


@pytest.mark.parametrize(("code", "status"), sorted(ERRORS.items()))
def test_every_modelled_error_is_a_client_exception(code: str, status: int) -> None:
    client = lookoutvision_client(region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_client_error("list_projects", service_error_code=code, http_status_code=status)
        with pytest.raises(getattr(client.exceptions, code)) as caught:
            client.list_projects()
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == status


def test_paginator_follows_next_token() -> None:
    client = lookoutvision_client(region_name="us-east-1")
    ts = datetime(2026, 11, 1, tzinfo=UTC)
    with Stubber(client) as stub:
        stub.add_response(
            "list_model_packaging_jobs",
            {"ModelPackagingJobs": [{"JobName": "a", "Status": "RUNNING"}], "NextToken": "t1"},
            {"ProjectName": "p", "MaxResults": 100},
        )
        stub.add_response(
            "list_model_packaging_jobs",
            {"ModelPackagingJobs": [{"JobName": "b", "CreationTimestamp": ts}]},
            {"ProjectName": "p", "MaxResults": 100, "NextToken": "t1"},
        )
        pages = client.get_paginator("list_model_packaging_jobs").paginate(
            ProjectName="p", PaginationConfig={"PageSize": 100}
        )
        names = [j["JobName"] for page in pages for j in page["ModelPackagingJobs"]]
    assert names == ["a", "b"]


def test_registration_is_idempotent() -> None:
    session = new_session(region_name="us-east-1")
    register_service_model(session)
    loader = session._session.get_component("data_loader")
    assert sum(p.endswith("lfv_monitor/data") for p in loader.search_paths) == 1
