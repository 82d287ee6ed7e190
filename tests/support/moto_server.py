"""A moto server (DynamoDB, SNS, SQS, EventBridge, ...) on 127.0.0.1, for integration tests.

Use the ``aws_endpoint`` fixture: a URL that boto3 clients take as ``endpoint_url``.  The
server lives for the whole session; every test starts from an empty account (moto's reset API).
"""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator

import pytest
from moto.server import ThreadedMotoServer


@pytest.fixture(scope="session")
def _moto_server() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    port = server._server.server_port  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def aws_endpoint(_moto_server: str) -> str:
    """moto server's URL, on an empty account."""
    request = urllib.request.Request(f"{_moto_server}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    return _moto_server
