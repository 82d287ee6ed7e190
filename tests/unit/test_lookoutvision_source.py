"""The Lookout for Vision adapter: error mapping, defensive parsing, the client-side rate."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError
from botocore.stub import Stubber

from lfv_monitor.adapters.lookoutvision import LookoutVisionJobSource, RateLimiter
from lfv_monitor.clients import lookoutvision_client
from lfv_monitor.domain.errors import (
    AccessDeniedError,
    ResourceNotFoundError,
    ServiceUnreachableError,
    SourceError,
    ThrottledError,
)
from lfv_monitor.domain.models import JobKey


@pytest.fixture
def source() -> LookoutVisionJobSource:
    return LookoutVisionJobSource(
        lookoutvision_client(region_name="us-east-1"), rate_per_second=None
    )


@pytest.mark.parametrize(
    ("code", "status", "error"),
    [
        ("ResourceNotFoundException", 404, ResourceNotFoundError),
        ("AccessDeniedException", 403, AccessDeniedError),
        ("ThrottlingException", 429, ThrottledError),
        ("ValidationException", 400, SourceError),
        ("InternalServerException", 500, SourceError),
    ],
)
def test_errors_map_by_code(
    source: LookoutVisionJobSource, code: str, status: int, error: type[Exception]
) -> None:
    with Stubber(source.client) as stub:
        stub.add_client_error("describe_model_packaging_job", code, "nope", status)
        with pytest.raises(error, match="widgets/cam"):
            source.describe_job(JobKey("widgets", "cam"))


def test_missing_and_odd_fields_do_not_crash(source: LookoutVisionJobSource) -> None:
    with Stubber(source.client) as stub:
        stub.add_response(
            "list_model_packaging_jobs",
            {
                "ModelPackagingJobs": [
                    {"JobName": "a"},
                    {"Status": "RUNNING"},
                    {
                        "JobName": "b",
                        "Status": "WEIRD",
                        "LastUpdatedTimestamp": datetime(2026, 1, 1, tzinfo=UTC),
                    },
                ]
            },
        )
        jobs = source.list_jobs("widgets")
    assert [(j.key.job, j.status) for j in jobs] == [("a", None), ("b", "WEIRD")]
    assert jobs[0].in_progress  # a missing status is not terminal


def test_a_description_keeps_every_field_json_ready(source: LookoutVisionJobSource) -> None:
    description: dict[str, Any] = {
        "JobName": "cam",
        "ProjectName": "widgets",
        "ModelVersion": "1",
        "Status": "SUCCEEDED",
        "StatusMessage": "done",
        "CreationTimestamp": datetime(2026, 11, 1, tzinfo=UTC),
        "ModelPackagingConfiguration": {
            "Greengrass": {
                "ComponentName": "c",
                "S3OutputLocation": {"Bucket": "widgets-artifacts", "Prefix": "p/"},
                "TargetPlatform": {"Os": "LINUX", "Arch": "X86_64", "Accelerator": "NVIDIA"},
            }
        },
        "ModelPackagingOutputDetails": {"Greengrass": {"ComponentVersion": "1.0.0"}},
    }
    with Stubber(source.client) as stub:
        stub.add_response(
            "describe_model_packaging_job", {"ModelPackagingDescription": description}
        )
        result = source.describe_job(JobKey("widgets", "cam"))
    assert result.document["CreationTimestamp"] == 1793491200
    assert (
        result.greengrass_configuration == description["ModelPackagingConfiguration"]["Greengrass"]
    )
    assert result.greengrass_output == {"ComponentVersion": "1.0.0"}


def test_an_empty_response_is_a_source_error(source: LookoutVisionJobSource) -> None:
    with Stubber(source.client) as stub:
        stub.add_response("describe_model_packaging_job", {})
        with pytest.raises(SourceError, match="no ModelPackagingDescription"):
            source.describe_job(JobKey("widgets", "cam"))


def test_a_connection_failure_means_unreachable(source: LookoutVisionJobSource) -> None:
    def refuse(**_: Any) -> None:
        raise EndpointConnectionError(endpoint_url="https://lookoutvision.us-east-1.amazonaws.com")

    source.client.meta.events.register("before-send.lookoutvision", refuse)
    with pytest.raises(ServiceUnreachableError):
        source.list_projects()


def test_rate_limiter_spaces_calls_per_operation() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(4, clock=lambda: now[0], sleep=sleep)
    for _ in range(3):
        limiter.acquire("DescribeModelPackagingJob")
    limiter.acquire("ListModelPackagingJobs")  # its own quota: no wait
    assert slept == [0.25, 0.25]
