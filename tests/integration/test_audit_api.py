"""The audit API in process (API Gateway events into the Lambda handler) over the polled
history on moto server: the four routes, pagination, 400s for malformed parameters, and
schemathesis against the committed OpenAPI document."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from lfv_monitor.audit import AuditQueries
from lfv_monitor.domain.targets import Target
from lfv_monitor.handlers.api import lambda_handler
from lfv_monitor.lambda_context import LocalContext
from tests.support.apigw import WsgiGateway, rest_event
from tests.support.audit_history import AuditedStack

OPENAPI = Path(__file__).parents[2] / "docs" / "openapi.json"


@pytest.fixture
def call(audited_history: AuditedStack) -> Any:
    home = Target("123456789012", "us-east-1")  # as deployed: the stack's own target
    queries = AuditQueries(audited_history.table, client=audited_history.client(), home=home)

    def request(path: str, **query: str) -> tuple[int, dict[str, Any]]:
        event = rest_event(path, {k: [v] for k, v in query.items()})
        response = lambda_handler(event, LocalContext(), queries=queries)
        return response["statusCode"], json.loads(response["body"])

    return request


def test_the_four_questions_over_http(call: Any) -> None:
    status, body = call("/projects/widgets/jobs/ok-1/history")
    assert status == 200
    assert [i["status"] for i in body["items"]] == ["CREATED", "RUNNING", "SUCCEEDED"]
    assert body["items"][0]["observedAt"].endswith("Z") and body["nextToken"] is None

    status, body = call("/projects/gadgets/changes", since="1h", status="FAILED")
    assert status == 200 and [i["job"] for i in body["items"]] == ["g-1"]

    status, body = call("/changes", status="FAILED", since="7d")
    assert status == 200
    assert [(i["project"], i["job"]) for i in body["items"]] == [
        ("widgets", "fail-1"),
        ("gadgets", "g-1"),
    ]

    status, body = call("/jobs", status="RUNNING")
    assert status == 200
    assert [(i["project"], i["job"]) for i in body["items"]] == [
        ("gadgets", "g-2"),
        ("widgets", "msg-1"),
    ]


def test_pages_over_http_use_the_same_tokens_as_the_cli(
    call: Any, audited_history: AuditedStack
) -> None:
    _, first = call("/projects/widgets/changes", limit="4")
    _, second = call("/projects/widgets/changes", limit="4", nextToken=first["nextToken"])
    _, whole = call("/projects/widgets/changes")
    assert first["items"] + second["items"] == whole["items"][:8]
    same = AuditQueries(audited_history.table, client=audited_history.client())
    assert same.project_changes("widgets", limit=4).next_token == first["nextToken"]


@pytest.mark.parametrize(
    ("path", "query", "location"),
    [
        ("/jobs", {}, "query.status"),
        ("/jobs", {"status": "RUNNING", "limit": "0"}, "query.limit"),
        ("/jobs", {"status": "RUNNING", "limit": "many"}, "query.limit"),
        ("/jobs", {"status": "RUN NING"}, "query.status"),
        ("/changes", {"status": "FAILED", "nextToken": "%%%"}, "query.nextToken"),
        ("/projects/wid%23gets/changes", {}, "path.project"),
    ],
)
def test_malformed_parameters_are_400_naming_the_parameter(
    call: Any, path: str, query: dict[str, str], location: str
) -> None:
    status, body = call(path, **query)
    assert status == 400
    assert location in [e["location"] for e in body["errors"]]
    assert location in body["message"]


@pytest.mark.parametrize(
    ("path", "query", "reason"),
    [
        ("/changes", {"status": "FAILED", "since": "yesterday"}, "since: 'yesterday' is not"),
        ("/changes", {"status": "FAILED", "since": "1d", "until": "2d"}, "is after until"),
        ("/jobs", {"status": "RUNNING", "nextToken": "e30"}, "does not belong to this query"),
    ],
)
def test_bad_ranges_and_foreign_tokens_are_400_with_a_reason(
    call: Any, path: str, query: dict[str, str], reason: str
) -> None:
    status, body = call(path, **query)
    assert status == 400 and reason in body["message"]


def test_unknown_names_are_404(call: Any) -> None:
    status, body = call("/projects/widgets/jobs/nope/history")
    assert (status, body["message"]) == (404, "no history for job widgets/nope")
    status, body = call("/projects/nowhere/changes")
    assert (status, body["message"]) == (404, "no history for project nowhere")


def test_questions_about_another_target_read_that_targets_records(call: Any) -> None:
    # Given a table holding only the stack's own (home) target's records
    # When a job is asked for in another account and region, Then it is not there, by name
    member = {"account": "111111111111", "region": "eu-west-1"}
    status, body = call("/projects/widgets/jobs/cam-7/history", **member)
    assert (status, body["message"]) == (
        404,
        "no history for job widgets/cam-7 in account 111111111111, region eu-west-1",
    )
    # and the home target named explicitly is the default's answer
    home = call("/projects/widgets/changes", account="123456789012", region="us-east-1")
    assert home == call("/projects/widgets/changes")
    assert {(i["account"], i["region"]) for i in home[1]["items"]} == {
        ("123456789012", "us-east-1")
    }
    # and an account that is none is a 400 naming it
    status, body = call("/jobs", status="RUNNING", account="12345")
    assert status == 400 and "query.account" in body["message"]


def _app(stack: AuditedStack) -> WsgiGateway:
    # As deployed: the function knows the stack's own account and region (the home target).
    home = Target("123456789012", "us-east-1")
    queries = AuditQueries(stack.table, client=stack.client(), home=home)
    return WsgiGateway(lambda event, context: lambda_handler(event, context, queries=queries))


def _without_iam(document: dict[str, Any]) -> dict[str, Any]:
    """The document as the function sees it: API Gateway checks the SigV4 signature (IAM
    authorization) before the function runs, so the in-process calls carry no signature and
    schemathesis's authentication checks have nothing of the function's to test."""
    for path in document["paths"].values():
        for operation in path.values():
            operation.pop("security", None)
    document["components"].pop("securitySchemes", None)
    return document


schema = schemathesis.openapi.from_dict(_without_iam(json.loads(OPENAPI.read_text())))


@pytest.fixture
def api_app(audited_history: AuditedStack) -> WsgiGateway:
    return _app(audited_history)


#: Values the schema cannot constrain: a page token is opaque and a time expression is checked
#: by its meaning ("2026-13-40", a range that ends before it starts).  A schema-valid request
#: may be refused for these, and only for these, with a 400 that names the parameter.
SEMANTIC = {"nextToken": "next token", "since": "since", "until": "until"}


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_openapi_document(case: Any, api_app: WsgiGateway) -> None:
    # Every documented check (no 5xx, documented status codes and content types, response
    # bodies match their schemas, malformed requests are refused), except that a schema-valid
    # request may be refused for the semantic reasons above, which is checked here instead.
    response = case.call_and_validate(app=api_app, excluded_checks=[positive_data_acceptance])
    if case.meta.generation.mode == GenerationMode.POSITIVE and response.status_code == 400:
        message = response.json()["message"]
        sent = [name for name in SEMANTIC if name in (case.query or {})]
        assert any(message.startswith(SEMANTIC[name]) for name in sent), message
