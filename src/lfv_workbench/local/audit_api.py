"""The audit API on loopback, as API Gateway serves it: ``lfv-monitor local up`` starts one.

Each request must carry an AWS Signature Version 4 made with the local stack's credentials for
service ``execute-api`` in the stack's region (what the template's ``AWS_IAM`` authorizer asks
for); unsigned or wrongly signed requests get API Gateway's 403 answers. A signed request under
the stage (``/v1``) becomes API Gateway's REST proxy event and goes to the same Lambda handler
the stack deploys (``lfv_monitor.handlers.api``), one request at a time, as one warm container.

This is a local stand-in for API Gateway's signature check, not a security boundary: the local
credentials are public (``testing``/``testing``) and it serves on loopback.
"""

from __future__ import annotations

import hmac
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from botocore.auth import SIGV4_TIMESTAMP, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

STAGE = "v1"
SERVICE = "execute-api"
#: API Gateway refuses a signature whose X-Amz-Date is further than this from its clock.
MAX_SKEW = timedelta(minutes=15)
ACCOUNT_ID = "123456789012"
_AUTHORIZATION = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/"
    r"(?P<service>[^/]+)/aws4_request,\s*SignedHeaders=(?P<headers>[a-z0-9;-]+),\s*"
    r"Signature=(?P<signature>[0-9a-f]{64})$"
)
MISSING_TOKEN = "Missing Authentication Token"
Handler = Callable[[dict[str, Any]], dict[str, Any]]


class SignatureVerifier:
    """Checks SigV4 signatures made with one key pair, for ``execute-api`` in ``region``."""

    def __init__(self, access_key: str, secret_key: str, region: str) -> None:
        self.access_key = access_key
        self.region = region
        self._signer = SigV4Auth(Credentials(access_key, secret_key), SERVICE, region)

    def refusal(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes, now: datetime
    ) -> str | None:
        """None when the request is signed correctly, else API Gateway's message for it."""
        auth = _parse_authorization(headers.get("authorization", ""))
        if isinstance(auth, str):
            return auth
        if auth["key"] != self.access_key:
            return "The security token included in the request is invalid."
        if (auth["region"], auth["service"]) != (self.region, SERVICE):
            return (
                f"Credential should be scoped to a valid region and service "
                f"({self.region}/{SERVICE}), not {auth['region']}/{auth['service']}."
            )
        stamp = headers.get("x-amz-date", "")
        try:
            signed_at = datetime.strptime(stamp, SIGV4_TIMESTAMP).replace(tzinfo=UTC)
        except ValueError:
            return "Authorization header requires existence of either a 'X-Amz-Date' header."
        if abs(now - signed_at) > MAX_SKEW:
            return "Signature expired: the request's X-Amz-Date is more than 15 minutes off."
        names = auth["headers"].split(";")
        if "host" not in names or any(name not in headers for name in names):
            return "The request signature we calculated does not match the signature you provided."
        request = AWSRequest(
            method=method, url=url, data=body, headers={n: headers[n] for n in names}
        )
        request.context["timestamp"] = stamp
        canonical = self._signer.canonical_request(request)
        expected = self._signer.signature(self._signer.string_to_sign(request, canonical), request)
        if not hmac.compare_digest(expected, auth["signature"]):
            return "The request signature we calculated does not match the signature you provided."
        return None


def _parse_authorization(value: str) -> dict[str, str] | str:
    if not value:
        return MISSING_TOKEN
    match = _AUTHORIZATION.match(value.strip())
    if match is None:
        return "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature'."
    return match.groupdict()


def rest_event(
    method: str, raw_path: str, headers: Mapping[str, str], body: bytes
) -> dict[str, Any]:
    """API Gateway's REST proxy event (``/{proxy+}`` on stage ``v1``) for one request."""
    parts = urlsplit(raw_path)
    path = parts.path[len(STAGE) + 1 :] or "/"
    query = parse_qs(parts.query, keep_blank_values=True)
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": dict(headers) or None,
        "multiValueHeaders": {k: [v] for k, v in headers.items()} or None,
        "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "path": parts.path,
            "stage": STAGE,
            "requestId": str(uuid.uuid4()),
            "requestTimeEpoch": int(time.time() * 1000),
            "accountId": ACCOUNT_ID,
            "apiId": "local",
            "identity": {
                "sourceIp": "127.0.0.1",
                "userArn": f"arn:aws:iam::{ACCOUNT_ID}:user/local",
            },
        },
        "body": body.decode("utf-8", "replace") if body else None,
        "isBase64Encoded": False,
    }


def serve_audit_api(
    table: str,
    dynamodb: Any,
    *,
    credentials: Mapping[str, str],
    region: str,
    host: str,
    port: int = 0,
) -> LocalAuditApi:
    """Start the audit API over ``table`` (read through ``dynamodb``), signed with ``credentials``
    (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``)."""
    from lfv_monitor.audit import AuditQueries
    from lfv_monitor.domain.targets import Target
    from lfv_monitor.handlers.api import lambda_handler
    from lfv_monitor.lambda_context import LocalContext
    from lfv_workbench.local.accounts import MONITOR_ACCOUNT

    # As the deployed function (MONITOR_ACCOUNT_ID, AWS_REGION): the stack's own target.
    queries = AuditQueries(table, client=dynamodb, home=Target(MONITOR_ACCOUNT, region))

    def handle(event: dict[str, Any]) -> dict[str, Any]:
        context: Any = LocalContext()  # quacks like LambdaContext
        return lambda_handler(event, context, queries=queries)

    api = LocalAuditApi(
        handle,
        SignatureVerifier(
            credentials["AWS_ACCESS_KEY_ID"], credentials["AWS_SECRET_ACCESS_KEY"], region
        ),
        host=host,
        port=port,
    )
    api.start()
    return api


class LocalAuditApi:
    """An HTTP server on ``host:port`` in front of ``handler`` (event -> response)."""

    def __init__(
        self, handler: Handler, verifier: SignatureVerifier, *, host: str, port: int = 0
    ) -> None:
        self.handler = handler
        self.verifier = verifier
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, port), _request_handler(self))
        self._thread: threading.Thread | None = None
        bound_host, bound_port = self._server.server_address[:2]
        shown = "127.0.0.1" if bound_host in ("0.0.0.0", "") else str(bound_host)
        self.url = f"http://{shown}:{bound_port}/{STAGE}"

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="lfv-local-audit-api", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=10)
            self._thread = None
        self._server.server_close()

    def answer(
        self, method: str, raw_path: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        host = headers.get("host", "")
        refusal = self.verifier.refusal(
            method, f"http://{host}{raw_path}", headers, body, datetime.now(UTC)
        )
        if refusal is None and not urlsplit(raw_path).path.startswith(f"/{STAGE}/"):
            refusal = MISSING_TOKEN  # API Gateway's answer outside the stage's resources
        if refusal is not None:
            payload = json.dumps({"message": refusal}).encode()
            return (
                403,
                {"Content-Type": "application/json", "x-amzn-ErrorType": "ForbiddenException"},
                payload,
            )
        with self._lock:
            response = self.handler(rest_event(method, raw_path, headers, body))
        out = dict(response.get("headers") or {})
        for name, values in (response.get("multiValueHeaders") or {}).items():
            out[name] = ", ".join(values)
        return int(response["statusCode"]), out, (response.get("body") or "").encode()


def _request_handler(api: LocalAuditApi) -> type[BaseHTTPRequestHandler]:
    class RequestHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass  # stdout/stderr stay the command's; API Gateway's access log is not emulated

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, out, payload = api.answer(self.command, self.path, headers, body)
            self.send_response(status)
            for name, value in out.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        def __getattr__(self, name: str) -> Any:
            # Every method reaches the gateway, which answers as API Gateway does (403 unsigned,
            # the handler's 405 otherwise); http.server would answer 501 for unknown ones.
            if name.startswith("do_"):
                return self._serve
            raise AttributeError(name)

    return RequestHandler
