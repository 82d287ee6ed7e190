"""Integration tests talk over real HTTP to servers on 127.0.0.1, and to nothing else."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pytest_socket import disable_socket, enable_socket, socket_allow_hosts


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration" in str(item.path):
            item.add_marker(pytest.mark.integration)


#: Test properties (``record_property``) shown at the end of the run, and their titles.
SUMMARY = {
    "package_zip_bytes": "poller package, zipped (bytes)",
    "package_unzipped_bytes": "poller package, unzipped (bytes)",
    "local_stack_gaps": "local stack gaps",
}


def pytest_terminal_summary(terminalreporter: Any) -> None:
    shown = [
        (SUMMARY[name], value)
        for reports in terminalreporter.stats.values()
        for report in reports
        if getattr(report, "when", None) == "call"
        for name, value in getattr(report, "user_properties", [])
        if name in SUMMARY
    ]
    if shown:
        terminalreporter.write_sep("-", "deployment")
    for title, value in shown:
        if isinstance(value, list):
            terminalreporter.write_line(f"{title}:")
            for item in value:
                terminalreporter.write_line(f"  {item}")
        else:
            terminalreporter.write_line(
                f"{title}: {value:,}" if isinstance(value, int) else f"{title}: {value}"
            )


@pytest.fixture(autouse=True)
def _loopback_only() -> Iterator[None]:
    socket_allow_hosts(["127.0.0.1", "localhost"], allow_unix_socket=True)
    yield
    enable_socket()


__all__ = ["disable_socket"]
