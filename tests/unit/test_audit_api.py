"""The audit API in process with an in-memory query fake: the committed OpenAPI document, the
error contract (400/404/405/503) and the handler's wiring."""

from __future__ import annotations

import json
from typing import Any

import pytest
from scripts.generate_openapi import DOCUMENT, rendered

from lfv_monitor.audit import ChangePage, NoHistoryError
from lfv_monitor.domain.errors import StoreError
from lfv_monitor.handlers import api
from lfv_monitor.lambda_context import LocalContext
from tests.support.apigw import rest_event


class FakeQueries:
    """Answers every question with an empty page, or raises what it is told to."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        def answer(*args: Any, **kwargs: Any) -> ChangePage:
            self.calls.append((name, args, kwargs))
            if self.error:
                raise self.error
            return ChangePage(items=[], next_token=None)

        return answer


def call(
    path: str, queries: Any = None, method: str = "GET", **query: str
) -> tuple[int, dict[str, Any], dict[str, str]]:
    event = rest_event(path, {k: [v] for k, v in query.items()}, method=method)
    response = api.lambda_handler(event, LocalContext(), queries=queries or FakeQueries())
    headers = dict(response.get("headers") or {})
    headers |= {k: ", ".join(v) for k, v in (response.get("multiValueHeaders") or {}).items()}
    return response["statusCode"], json.loads(response["body"]), headers


def test_the_committed_openapi_document_is_what_the_code_generates() -> None:
    # Regenerate with `make openapi` when this fails.
    assert DOCUMENT.read_text(encoding="utf-8") == rendered()


def test_the_document_declares_400_not_422_and_iam_auth() -> None:
    document = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    assert set(document["paths"]) == {
        "/projects/{project}/jobs/{job}/history",
        "/projects/{project}/changes",
        "/changes",
        "/jobs",
    }
    for path in document["paths"].values():
        responses = path["get"]["responses"]
        assert "422" not in responses and {"200", "400", "503"} <= set(responses)
        assert path["get"]["security"] == [{"sigv4": []}]


def test_parameters_reach_the_query_parsed() -> None:
    queries = FakeQueries()
    status, body, _ = call("/changes", queries, status="failed", since="7d", limit="3")
    assert (status, body) == (200, {"items": [], "nextToken": None})
    name, args, kwargs = queries.calls[0]
    assert (name, args, kwargs["limit"], kwargs["until"]) == (
        "status_changes",
        ("failed",),
        3,
        None,
    )
    assert kwargs["since"] is not None and kwargs["since"].tzinfo is not None


@pytest.mark.parametrize(
    ("error", "status", "message"),
    [
        (NoHistoryError("no history for job w/j"), 404, "no history for job w/j"),
        (StoreError("DynamoDB query failed: secret detail"), 503, "could not be read"),
    ],
)
def test_query_errors_map_to_statuses(error: Exception, status: int, message: str) -> None:
    got, body, _ = call("/projects/w/jobs/j/history", FakeQueries(error))
    assert got == status and message in body["message"]
    assert "secret detail" not in body["message"]


def test_other_methods_are_405_and_unknown_paths_404() -> None:
    status, body, headers = call("/jobs", method="DELETE", status="RUNNING")
    assert (status, headers.get("Allow")) == (405, "GET")
    status, body, _ = call("/nothing-here")
    assert status == 404 and "no such route" in body["message"]


def test_without_a_table_name_the_function_says_which_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from lfv_monitor.config import AuditSettings
    from lfv_monitor.domain.errors import ConfigurationError

    monkeypatch.delenv("TABLE_NAME", raising=False)
    with pytest.raises(ConfigurationError, match="TABLE_NAME is required"):
        AuditSettings.from_env({})
