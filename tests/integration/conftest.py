"""Integration tests talk over real HTTP to servers on 127.0.0.1, and to nothing else."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytest_socket import disable_socket, enable_socket, socket_allow_hosts


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration" in str(item.path):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(autouse=True)
def _loopback_only() -> Iterator[None]:
    socket_allow_hosts(["127.0.0.1", "localhost"], allow_unix_socket=True)
    yield
    enable_socket()


__all__ = ["disable_socket"]
