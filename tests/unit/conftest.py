"""Unit tests never touch the network: every socket is blocked (pytest-socket)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_network(socket_disabled: None) -> None:
    return None
