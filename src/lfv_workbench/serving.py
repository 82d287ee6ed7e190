"""One lifecycle for the workbench's HTTP servers (the simulator, the fault proxy).

Each serves a stdlib ``ThreadingHTTPServer`` from a daemon thread: ``start`` binds and serves
once (a second call does nothing), ``stop`` shuts it down and closes the socket, and the object
is a context manager that does both.
"""

from __future__ import annotations

import ipaddress
import sys
import threading
from http.server import ThreadingHTTPServer
from types import TracebackType
from typing import Self


class BackgroundServer:
    """Base of a server served in the background; subclasses build the bound server."""

    _httpd: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    def _build_server(self) -> ThreadingHTTPServer:
        """The bound server, not yet serving (its handler's back reference set)."""
        raise NotImplementedError

    def start(self) -> Self:
        if self._httpd is None:
            httpd = self._build_server()
            self._httpd = httpd
            self._thread = threading.Thread(
                target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def is_loopback(host: str) -> bool:
    """``localhost`` or a loopback address: reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def warn_unless_loopback(host: str, what: str, exposed: str) -> None:
    """On stderr, when ``host`` is not a loopback address: who can reach ``what`` and what
    they can do (``exposed``), since the workbench's servers have no authentication."""
    if not is_loopback(host):
        print(
            f"WARNING: binding {what} to {host}: anyone who can reach this address {exposed}.",
            file=sys.stderr,
        )
