"""An HTTP fault proxy in front of moto server: faults at the wire for DynamoDB, EventBridge, SNS.

The proxy forwards every request to ``upstream`` (moto server) and, by seeded rules, instead:

* ``throttle``: answers with the service's real throttling error (DynamoDB
  ``ProvisionedThroughputExceededException`` or ``ThrottlingException`` as a JSON 1.0 body,
  EventBridge ``ThrottlingException`` JSON 1.1, SNS ``Throttling`` query XML), HTTP 400;
* ``error5xx``: answers 500 (``InternalServerError`` / ``InternalFailure``) or 503;
* ``delay``: waits ``delay_s`` before forwarding (``phase="before"``) or after the service
  answered (``phase="after"``: the service acted, the client timed out);
* ``reset``: resets the TCP connection before forwarding, or after the service acted;
* ``partial``: fails chosen entries of EventBridge ``PutEvents`` (``FailedEntryCount``) or SNS
  ``PublishBatch`` (``Failed``): the chosen entries are taken out of the forwarded request and
  answered as failed, the others really are delivered;
* ``deny``: answers the service's access-denied error (DynamoDB and EventBridge
  ``AccessDeniedException``, SNS ``AuthorizationError``), which the SDK does not retry: an
  outage past the retries (an IAM change, a deleted key), so ``max_consecutive`` does not apply.

``max_consecutive`` caps how many attempts in a row of one operation get a fault, so that a
fault can be made to stay inside the SDK's retries.  ``arm_kill`` SIGKILLs a process when the
proxy sees the n-th request (or upstream response) of an operation: the way a soak kills a cycle
between the store write and the publish.

``serialize`` (default: DynamoDB) forwards one request of those services at a time: moto
snapshots a whole table when ``TransactWriteItems`` starts and restores it when the transaction
is cancelled, without a lock, so a cancelled transaction running beside another request erases
that request's write, which real DynamoDB never does.

Binds 127.0.0.1 only by default; nothing here logs request headers (they carry credentials).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import os
import random
import signal
import socket
import struct
import threading
import time
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

from lfv_workbench.serving import BackgroundServer

logger = logging.getLogger(__name__)

FaultKind = Literal["throttle", "error5xx", "delay", "reset", "partial", "deny"]
FAULT_KINDS: tuple[str, ...] = ("throttle", "error5xx", "delay", "reset", "partial", "deny")
SNS_NS = "http://sns.amazonaws.com/doc/2010-03-31/"
_HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


class FaultProxyError(ValueError):
    """A fault rule is invalid (the message names the field)."""


@dataclass
class FaultRule:
    """One kind of fault for requests matching ``service``/``operation`` (``"*"``: any)."""

    kind: FaultKind
    service: str = "*"
    operation: str = "*"
    rate: float = 1.0
    count: int | None = None  # inject at most this many (None: no limit)
    phase: Literal["before", "after"] = "before"  # delay / reset: before or after forwarding
    delay_s: float = 0.0
    status: int = 500  # error5xx
    error_code: str | None = None  # throttle: override the service's default code
    entry_rate: float = 0.5  # partial: share of the batch's entries to fail (at least one)
    used: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise FaultProxyError(f"kind: {self.kind!r} is not one of {', '.join(FAULT_KINDS)}")
        if not 0.0 <= self.rate <= 1.0:
            raise FaultProxyError(f"rate: must be between 0 and 1, got {self.rate}")
        if self.phase not in ("before", "after"):
            raise FaultProxyError(f"phase: must be 'before' or 'after', got {self.phase!r}")
        if self.kind == "error5xx" and not 500 <= self.status <= 599:
            raise FaultProxyError(f"status: a 5xx status is needed, got {self.status}")
        if self.kind == "partial" and self.operation not in ("PutEvents", "PublishBatch"):
            raise FaultProxyError("partial: operation must be PutEvents or PublishBatch")

    def matches(self, service: str, operation: str) -> bool:
        return self.service in ("*", service) and self.operation in ("*", operation)


@dataclass
class _Kill:
    operation: str
    nth: int
    phase: Literal["request", "response"]
    pid: int
    seen: int = 0
    fired: bool = False


def identify(headers: Any, body: bytes) -> tuple[str, str]:
    """(service, operation) of an AWS request: X-Amz-Target (JSON), else the query Action."""
    target = headers.get("X-Amz-Target") or ""
    if target:
        prefix, _, operation = target.partition(".")
        service = {"DynamoDB_20120810": "dynamodb", "AWSEvents": "events"}.get(prefix)
        if service is None:
            service = "sqs" if prefix.startswith("AmazonSQS") else prefix.lower()
        return service, operation
    form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
    action = (form.get("Action") or [""])[0]
    auth = headers.get("Authorization") or ""
    service = "sns"
    marker = "Credential="
    if marker in auth:  # Credential=<key>/<date>/<region>/<service>/aws4_request
        parts = auth.split(marker, 1)[1].split(",", 1)[0].split("/")
        if len(parts) >= 4:
            service = parts[3]
    return service, action


def throttle_response(service: str, code: str | None = None) -> tuple[int, str, bytes]:
    """(status, content type, body) of the service's throttling error."""
    if service == "dynamodb":
        code = code or "ProvisionedThroughputExceededException"
        body = {
            "__type": f"com.amazonaws.dynamodb.v20120810#{code}",
            "message": "The level of configured provisioned throughput for the table was "
            "exceeded. Consider increasing your provisioning level with the UpdateTable API.",
        }
        return 400, "application/x-amz-json-1.0", json.dumps(body).encode()
    if service == "events":
        body = {"__type": code or "ThrottlingException", "message": "Rate exceeded"}
        return 400, "application/x-amz-json-1.1", json.dumps(body).encode()
    return 400, "text/xml", _sns_error(code or "Throttling", "Rate exceeded", "Sender")


def server_error_response(service: str, status: int) -> tuple[int, str, bytes]:
    if service == "dynamodb":
        code = "com.amazonaws.dynamodb.v20120810#InternalServerError"
        body = {"__type": code, "message": "Internal server error"}
        return status, "application/x-amz-json-1.0", json.dumps(body).encode()
    if service == "events":
        body = {"__type": "InternalException", "message": "Internal error"}
        return status, "application/x-amz-json-1.1", json.dumps(body).encode()
    code = "ServiceUnavailable" if status == 503 else "InternalError"
    return status, "text/xml", _sns_error(code, "Internal error", "Receiver")


def denied_response(service: str) -> tuple[int, str, bytes]:
    """(status, content type, body) of the service's access-denied error (never retried)."""
    message = "User is not authorized to perform this action with an explicit deny"
    if service == "dynamodb":
        body = {"__type": "com.amazonaws.dynamodb.v20120810#AccessDeniedException"}
        return 400, "application/x-amz-json-1.0", json.dumps({**body, "message": message}).encode()
    if service == "events":
        body = {"__type": "AccessDeniedException", "message": message}
        return 400, "application/x-amz-json-1.1", json.dumps(body).encode()
    return 403, "text/xml", _sns_error("AuthorizationError", message, "Sender")


def _sns_error(code: str, message: str, kind: str) -> bytes:
    return (
        f'<ErrorResponse xmlns="{SNS_NS}"><Error><Type>{kind}</Type><Code>{code}</Code>'
        f"<Message>{message}</Message></Error><RequestId>{uuid.uuid4()}</RequestId>"
        "</ErrorResponse>"
    ).encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # request lines only, no headers
        logger.debug("fault proxy: %s", format % args)

    def do_POST(self) -> None:
        self._handle()

    def do_GET(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        proxy = self.server.proxy
        service, operation = identify(self.headers, body)
        proxy.note_request(service, operation)
        if proxy.kill_point(operation, "request"):
            self._reset()
            return
        rule = proxy.choose(service, operation)
        if rule is not None and self._answered_instead(rule, service, "before"):
            return
        if rule is not None and rule.kind == "partial":
            status, ctype, payload = self._partial(service, operation, body, rule)
        else:
            status, ctype, payload = self._forward(body, service)
        if proxy.kill_point(operation, "response"):
            self._reset()
            return
        if rule is not None and self._answered_instead(rule, service, "after"):
            return
        self._reply(status, ctype, payload)

    def _answered_instead(self, rule: FaultRule, service: str, phase: str) -> bool:
        """Apply ``rule`` at ``phase`` (before or after forwarding): True when the fault has
        answered the client itself (an error or a reset), False to go on (after a delay)."""
        errors = {
            "throttle": lambda: throttle_response(service, rule.error_code),
            "error5xx": lambda: server_error_response(service, rule.status),
            "deny": lambda: denied_response(service),
        }
        if phase == "before" and rule.kind in errors:
            self._reply(*errors[rule.kind]())
            return True
        if rule.phase != phase or rule.kind not in ("delay", "reset"):
            return False
        if rule.kind == "reset":
            self._reset()
            return True
        time.sleep(rule.delay_s)
        return False

    # -- upstream ------------------------------------------------------------------------
    def _forward(self, body: bytes, service: str = "") -> tuple[int, str, bytes]:
        if service in self.server.proxy.serialize:
            with self.server.proxy.serial_lock:
                return self._send_upstream(body)
        return self._send_upstream(body)

    def _send_upstream(self, body: bytes) -> tuple[int, str, bytes]:
        upstream = urllib.parse.urlsplit(self.server.proxy.upstream)
        conn = http.client.HTTPConnection(
            upstream.hostname or "127.0.0.1", upstream.port, timeout=60
        )
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_HEADERS}
            headers["Content-Length"] = str(len(body))
            conn.request(self.command, self.path, body=body, headers=headers)
            response = conn.getresponse()
            payload = response.read()
            ctype = response.getheader("Content-Type") or "application/octet-stream"
            return response.status, ctype, payload
        finally:
            conn.close()

    def _partial(
        self, service: str, operation: str, body: bytes, rule: FaultRule
    ) -> tuple[int, str, bytes]:
        if operation == "PutEvents":
            return self._partial_put_events(body, rule)
        return self._partial_publish_batch(body, rule)

    def _partial_put_events(self, body: bytes, rule: FaultRule) -> tuple[int, str, bytes]:
        """EventBridge PutEvents (JSON): forward the kept entries, answer the rest failed."""
        request = json.loads(body)
        entries = request.get("Entries", [])
        failed = self.server.proxy.pick(len(entries), rule.entry_rate)
        kept = [e for i, e in enumerate(entries) if i not in failed]
        upstream: list[dict[str, Any]] = []
        if kept:
            status, ctype, payload = self._forward(
                json.dumps({**request, "Entries": kept}).encode()
            )
            if status != 200:
                return status, ctype, payload
            upstream = list(json.loads(payload).get("Entries", []))
        injected = {"ErrorCode": "InternalFailure", "ErrorMessage": "injected by proxy"}
        results = [
            injected if i in failed else (upstream.pop(0) if upstream else {"ErrorCode": "Missing"})
            for i in range(len(entries))
        ]
        count = sum(1 for r in results if r.get("ErrorCode"))
        self.server.proxy.note_partial(len(failed))
        answer = {"FailedEntryCount": count, "Entries": results}
        return 200, "application/x-amz-json-1.1", json.dumps(answer).encode()

    def _partial_publish_batch(self, body: bytes, rule: FaultRule) -> tuple[int, str, bytes]:
        """SNS PublishBatch (query protocol): renumber the kept entries, answer the rest Failed."""
        form = urllib.parse.parse_qsl(body.decode(), keep_blank_values=True)
        members: dict[int, list[tuple[str, str]]] = {}
        others: list[tuple[str, str]] = []
        for key, value in form:
            if key.startswith(_BATCH_PREFIX):
                number, _, rest = key[len(_BATCH_PREFIX) :].partition(".")
                members.setdefault(int(number), []).append((rest, value))
            else:
                others.append((key, value))
        numbers = sorted(members)
        failed = {numbers[i] for i in self.server.proxy.pick(len(numbers), rule.entry_rate)}
        failed_ids = [dict(members[n]).get("Id", "") for n in numbers if n in failed]
        kept_numbers = [n for n in numbers if n not in failed]
        self.server.proxy.note_partial(len(failed))
        if not kept_numbers:
            return 200, "text/xml", _with_failed(_empty_publish_batch_response(), failed_ids)
        new_form = list(others)
        for new, old in enumerate(kept_numbers, start=1):
            new_form += [(f"{_BATCH_PREFIX}{new}.{rest}", v) for rest, v in members[old]]
        status, ctype, payload = self._forward(urllib.parse.urlencode(new_form).encode())
        if status != 200:
            return status, ctype, payload
        ET.register_namespace("", SNS_NS)
        return 200, "text/xml", _with_failed(ET.fromstring(payload), failed_ids)

    # -- replies -------------------------------------------------------------------------
    def _reply(self, status: int, ctype: str, payload: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        try:
            self.end_headers()
            self.wfile.write(payload)
        except OSError:  # the client gave up (a delay past its timeout)
            self.close_connection = True

    def _reset(self) -> None:
        """Drop the connection with a TCP RST (SO_LINGER 0), answering nothing."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    proxy: FaultProxy

    def handle_error(self, request: Any, client_address: Any) -> None:
        logger.debug("fault proxy: a connection from %s ended abruptly", client_address)


class FaultProxy(BackgroundServer):
    """A seeded HTTP fault layer in front of ``upstream`` (moto server), on ``host:port``."""

    def __init__(
        self,
        upstream: str,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int = 1,
        max_consecutive: int | None = None,
        serialize: frozenset[str] = frozenset({"dynamodb"}),
    ) -> None:
        self.serialize = serialize
        self.serial_lock = threading.Lock()
        self.upstream = upstream.rstrip("/")
        self.host = host
        self.port = port
        self.rng = random.Random(seed)
        self.max_consecutive = max_consecutive
        self.rules: list[FaultRule] = []
        #: Faults injected, by ``kind`` and by ``kind:service:operation``.
        self.injected: Counter[str] = Counter()
        self.requests: Counter[str] = Counter()
        self.kills: list[tuple[str, str]] = []
        #: Called as ``on_fault(kind, service, operation)`` for every injected fault.
        self.on_fault: Callable[[str, str, str], None] | None = None
        self._consecutive: Counter[str] = Counter()
        self._kill: _Kill | None = None
        self._lock = threading.Lock()

    # -- configuration -------------------------------------------------------------------
    def set_faults(self, rules: list[FaultRule]) -> None:
        with self._lock:
            self.rules = list(rules)
            self._consecutive.clear()

    def clear(self) -> None:
        self.set_faults([])
        self.disarm()

    def arm_kill(
        self,
        pid: int,
        operation: str,
        nth: int = 1,
        phase: Literal["request", "response"] = "response",
    ) -> None:
        """SIGKILL ``pid`` at the ``nth`` request (or upstream response) of ``operation``."""
        if nth < 1:
            raise FaultProxyError(f"nth: must be at least 1, got {nth}")
        with self._lock:
            self._kill = _Kill(operation, nth, phase, pid)

    def disarm(self) -> bool:
        """Forget the armed kill; True if it had fired."""
        with self._lock:
            fired = self._kill is not None and self._kill.fired
            self._kill = None
            return fired

    # -- decisions (called by the handler threads) ----------------------------------------
    def note_request(self, service: str, operation: str) -> None:
        with self._lock:
            self.requests[f"{service}:{operation}"] += 1

    def note_partial(self, entries: int) -> None:
        with self._lock:
            self.injected["partial_entries"] += entries

    def pick(self, size: int, share: float) -> set[int]:
        """Indices of at least one and about ``share`` of ``size`` entries."""
        with self._lock:
            chosen = {i for i in range(size) if self.rng.random() < share}
            if size and not chosen:
                chosen = {self.rng.randrange(size)}
            return chosen

    def choose(self, service: str, operation: str) -> FaultRule | None:
        key = f"{service}:{operation}"
        with self._lock:
            capped = (
                self.max_consecutive is not None and self._consecutive[key] >= self.max_consecutive
            )
            chosen = self._pick_rule(service, operation, capped=capped)
            if chosen is None:
                self._consecutive[key] = 0
                return None
            self._consecutive[key] += 1
            label: str = chosen.kind
            if chosen.kind in ("delay", "reset"):
                label = f"{chosen.kind}_{chosen.phase}"
            self.injected[label] += 1
            self.injected[f"{label}:{key}"] += 1
        if self.on_fault is not None:
            self.on_fault(label, service, operation)
        return chosen

    def _pick_rule(self, service: str, operation: str, *, capped: bool) -> FaultRule | None:
        """The first matching rule that fires (under the lock); when ``capped``, only a
        ``deny`` (an outage the SDK does not retry)."""
        for rule in self.rules:
            if capped and rule.kind != "deny":
                continue
            if not rule.matches(service, operation):
                continue
            if rule.count is not None and rule.used >= rule.count:
                continue
            if self.rng.random() < rule.rate:
                rule.used += 1
                return rule
        return None

    def kill_point(self, operation: str, phase: str) -> bool:
        with self._lock:
            kill = self._kill
            if kill is None or kill.fired or kill.operation != operation or kill.phase != phase:
                return False
            kill.seen += 1
            if kill.seen < kill.nth:
                return False
            kill.fired = True
            self.kills.append((operation, phase))
        with contextlib.suppress(ProcessLookupError):
            os.kill(kill.pid, signal.SIGKILL)
        return True

    # -- lifecycle -----------------------------------------------------------------------
    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("the fault proxy is not started")
        return f"http://{self.host}:{self._httpd.server_address[1]}"

    def _build_server(self) -> _Server:
        httpd = _Server((self.host, self.port), _Handler)
        httpd.proxy = self
        return httpd


_BATCH_PREFIX = "PublishBatchRequestEntries.member."


def _empty_publish_batch_response() -> ET.Element:
    return ET.fromstring(
        f'<PublishBatchResponse xmlns="{SNS_NS}"><PublishBatchResult><Successful/>'
        f"<Failed/></PublishBatchResult><ResponseMetadata><RequestId>{uuid.uuid4()}"
        "</RequestId></ResponseMetadata></PublishBatchResponse>"
    )


def _with_failed(root: ET.Element, failed_ids: list[str]) -> bytes:
    """The PublishBatch answer ``root`` with ``failed_ids`` added to its ``Failed`` list."""
    result = root.find(f"{{{SNS_NS}}}PublishBatchResult")
    assert result is not None
    failed_node = result.find(f"{{{SNS_NS}}}Failed")
    if failed_node is None:
        failed_node = ET.SubElement(result, f"{{{SNS_NS}}}Failed")
    for entry_id in failed_ids:
        member = ET.SubElement(failed_node, f"{{{SNS_NS}}}member")
        for name, value in (
            ("Id", entry_id),
            ("Code", "InternalError"),
            ("Message", "injected by proxy"),
            ("SenderFault", "false"),
        ):
            ET.SubElement(member, f"{{{SNS_NS}}}{name}").text = value
    text: bytes = ET.tostring(root, encoding="utf-8")
    return text
