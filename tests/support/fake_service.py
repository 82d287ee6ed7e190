"""A tiny stand-in for Lookout for Vision on 127.0.0.1, for answers the simulator never gives.

The simulator is a faithful service; some hostile answers (page tokens that cycle, a body nested
10,000 deep, a body of many megabytes) cannot be produced by it.  ``FakeService`` answers every
request with whatever its ``answer`` function returns for ``(path, query)``, over real HTTP, and
records the requests it got.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

#: ``answer(path, query) -> (status, body)``; a dict or list body is sent as JSON.
Answer = Callable[[str, dict[str, str]], tuple[int, Any]]


class FakeService:
    def __init__(self) -> None:
        self.answer: Answer = lambda path, query: (404, {"message": "no answer set"})
        self.requests: list[tuple[str, dict[str, str]]] = []
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                url = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(url.query))
                service.requests.append((url.path, query))
                status, body = service.answer(url.path, query)
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def start(self) -> FakeService:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


@pytest.fixture
def fake_service() -> Iterator[FakeService]:
    service = FakeService().start()
    try:
        yield service
    finally:
        service.stop()
