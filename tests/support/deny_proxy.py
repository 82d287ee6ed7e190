"""A small fake service in front of the simulator: answers AccessDeniedException for the
projects named in ``denied`` (an IAM or SCP deny on one project's resources), and forwards every
other request unchanged.  The simulator's own faults apply per operation, not per project."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

import pytest


class DenyProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.denied: set[str] = set()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self._handle()

            def do_POST(self) -> None:
                self._handle()

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                status, headers, payload = proxy.answer(
                    self.command, self.path, dict(self.headers), body
                )
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def answer(
        self, method: str, path: str, headers: dict[str, str], body: bytes | None
    ) -> tuple[int, dict[str, str], bytes]:
        parts = unquote(path.split("?", maxsplit=1)[0]).split("/")
        if "projects" in parts[:-1] and parts[parts.index("projects") + 1] in self.denied:
            error = {"__type": "AccessDeniedException", "Message": "explicit deny"}
            return (
                403,
                {"Content-Type": "application/json", "x-amzn-ErrorType": "AccessDeniedException"},
                json.dumps(error).encode(),
            )
        forwarded = {
            k: v for k, v in headers.items() if k.lower() not in {"host", "content-length"}
        }
        request = urllib.request.Request(
            self.upstream + path, data=body, headers=forwarded, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, _kept(response.headers), response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, _kept(exc.headers), exc.read()


def _kept(headers: Any) -> dict[str, str]:
    drop = {"content-length", "transfer-encoding", "connection", "date", "server"}
    return {k: v for k, v in headers.items() if k.lower() not in drop}


@pytest.fixture
def deny_proxy(simulator: Any) -> Iterator[DenyProxy]:
    proxy = DenyProxy(simulator.url)
    proxy.thread.start()
    try:
        yield proxy
    finally:
        proxy.server.shutdown()
        proxy.server.server_close()
