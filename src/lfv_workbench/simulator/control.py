"""A small HTTP client of the simulator's control API (``/_simulator/...``)."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from lfv_workbench.simulator.scenario import ScenarioError


class SimulatorControlError(RuntimeError):
    """The control API refused a request (the message is the simulator's reason)."""


class SimulatorControl:
    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    def _call(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.url}/_simulator{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                result: dict[str, Any] = json.loads(response.read() or b"{}")
                return result
        except urllib.error.HTTPError as exc:
            try:
                reason = json.loads(exc.read()).get("error", exc.reason)
            except ValueError:
                reason = exc.reason
            if path == "/scenario":
                raise ScenarioError(str(reason)) from exc
            raise SimulatorControlError(f"{method} {path}: {reason}") from exc

    def advance(self, seconds: float) -> dict[str, Any]:
        """Move virtual time forward; returns ``{"now", "time", "speed"}``."""
        return self._call("POST", "/clock", {"advance": seconds})

    def set_time(self, offset: float) -> dict[str, Any]:
        """Jump to virtual offset ``offset`` (never backwards)."""
        return self._call("POST", "/clock", {"set": offset})

    def set_speed(self, speed: float) -> dict[str, Any]:
        return self._call("POST", "/clock", {"speed": speed})

    def clock(self) -> dict[str, Any]:
        return self._call("GET", "/clock")

    def load_scenario(self, scenario: dict[str, Any]) -> dict[str, Any]:
        """Replace the state with ``scenario``; raises ScenarioError when it is refused."""
        return self._call("POST", "/scenario", scenario)

    def set_faults(
        self, faults: dict[str, Any], *, account: str | None = None, region: str | None = None
    ) -> dict[str, Any]:
        """Replace the fault set (same shape as a scenario's ``faults``) of one world: the one
        ``account`` and ``region`` name, else the default world."""
        return self._call("POST", "/faults" + _world(account, region), faults)

    def state(self, *, account: str | None = None, region: str | None = None) -> dict[str, Any]:
        """One world's state (the default world's unless ``account`` and ``region`` name
        another), plus ``worlds``: every world's account, region, counts and calls."""
        return self._call("GET", "/state" + _world(account, region))

    def worlds(self) -> list[dict[str, Any]]:
        """Every world served: ``{"account", "region", "projects", "jobs", "calls"}``."""
        worlds: list[dict[str, Any]] = self._call("GET", "/worlds")["worlds"]
        return worlds

    def reset_counters(
        self, *, account: str | None = None, region: str | None = None
    ) -> dict[str, Any]:
        return self._call("POST", "/state/reset-counters" + _world(account, region), {})


def _world(account: str | None, region: str | None) -> str:
    if account is None and region is None:
        return ""
    return "?" + urllib.parse.urlencode({"account": account or "", "region": region or ""})
