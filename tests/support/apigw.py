"""API Gateway REST proxy events for in-process calls of the API handler (no network).

``rest_event`` builds the event API Gateway sends for a request; ``WsgiGateway`` makes the
Lambda handler a WSGI application, so tools that test WSGI apps (schemathesis) call it directly.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from lfv_monitor.lambda_context import LocalContext

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def rest_event(
    path: str,
    query: dict[str, list[str]] | None = None,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    resource: str = "/{proxy+}",
) -> dict[str, Any]:
    query = query or {}
    headers = headers or {}
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": headers or None,
        "multiValueHeaders": {k: [v] for k, v in headers.items()} or None,
        "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": method,
            "path": f"/v1{path}",
            "stage": "v1",
            "requestId": str(uuid.uuid4()),
            "accountId": "123456789012",
            "apiId": "abcdef1234",
            "identity": {"sourceIp": "127.0.0.1", "userArn": "arn:aws:iam::123456789012:user/a"},
        },
        "body": None,
        "isBase64Encoded": False,
    }


class WsgiGateway:
    """A WSGI app that turns each request into an API Gateway event for ``handler``."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        headers = {
            key[5:].replace("_", "-").lower(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        event = rest_event(
            environ.get("PATH_INFO") or "/",
            query,
            method=environ["REQUEST_METHOD"],
            headers=headers,
        )
        response = self.handler(event, LocalContext())
        body = response.get("body") or ""
        data = base64.b64decode(body) if response.get("isBase64Encoded") else body.encode()
        response_headers = dict(response.get("headers") or {})
        for name, values in (response.get("multiValueHeaders") or {}).items():
            response_headers[name] = ", ".join(values)
        status = int(response["statusCode"])
        start_response(f"{status} X", list(response_headers.items()))
        return [data]
