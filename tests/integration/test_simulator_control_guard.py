"""The simulator's control API cannot be driven by a web page nor fed absurd numbers (issue 12,
point 9), over real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from lfv_workbench.simulator import SimulatorControl, SimulatorServer

JSON = {"Content-Type": "application/json"}


def _call(
    simulator: SimulatorServer,
    path: str,
    body: bytes | None = None,
    *,
    method: str = "POST",
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        f"{simulator.url}/_simulator{path}", data=body, method=method, headers=headers or {}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _offset(simulator: SimulatorServer) -> float:
    return float(SimulatorControl(simulator.url).clock()["now"])


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"Host": "evil.example"}, "Host 'evil.example' is not"),
        ({"Host": "attacker.example:4510"}, "is not this simulator's loopback address"),
        ({"Origin": "http://evil.example"}, "Origin 'http://evil.example' is not"),
        ({"Origin": "null"}, "Origin 'null' is not"),
    ],
)
def test_a_request_from_another_site_is_refused_with_403(
    simulator: SimulatorServer, headers: dict[str, str], reason: str
) -> None:
    # Given a page elsewhere (its Origin) or a rebound DNS name (its Host) posting to the clock
    # When it asks to move the clock
    status, answer = _call(simulator, "/clock", b'{"advance": 60}', headers={**JSON, **headers})
    # Then it is refused and the clock did not move
    assert status == 403 and reason in answer["error"]
    assert _offset(simulator) == 0


def test_reading_state_from_another_host_is_refused_too(simulator: SimulatorServer) -> None:
    status, _ = _call(simulator, "/state", method="GET", headers={"Host": "evil.example"})
    assert status == 403


def test_the_loopback_names_and_origin_of_the_served_port_are_accepted(
    simulator: SimulatorServer,
) -> None:
    port = simulator.url.rsplit(":", 1)[1]
    for host in ("127.0.0.1", "localhost", "[::1]"):
        headers = {**JSON, "Host": f"{host}:{port}", "Origin": f"http://{host}:{port}"}
        status, _ = _call(simulator, "/clock", b'{"advance": 1}', headers=headers)
        assert status == 200, host
    assert _offset(simulator) == 3


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_a_body_that_is_not_declared_json_is_refused_with_415(
    simulator: SimulatorServer, content_type: str | None
) -> None:
    # Given the kinds of post a page can send without a preflight (urllib sends a form type
    # when none is given)
    headers = {} if content_type is None else {"Content-Type": content_type}
    # When one asks to move the clock, Then it is refused and the clock did not move
    status, answer = _call(simulator, "/clock", b'{"advance": 60}', headers=headers)
    assert status == 415 and "Content-Type must be application/json" in answer["error"]
    assert _offset(simulator) == 0


@pytest.mark.parametrize(
    ("path", "body", "reason"),
    [
        ("/clock", b'{"advance": NaN}', "NaN is not a number"),
        ("/clock", b'{"advance": Infinity}', "Infinity is not a number"),
        ("/clock", b'{"set": -Infinity}', "-Infinity is not a number"),
        ("/clock", b'{"advance": 1e400}', "1e400 is too large"),
        ("/clock", b'{"advance": 1e12}', "beyond the largest number accepted"),
        ("/clock", b'{"set": 99999999999}', "beyond the largest number accepted"),
        ("/clock", b'{"speed": 1e9}', "speed: must be 0 to 1e+06"),
        ("/faults", b'{"*": {"latency_ms": 1e9}}', "latency_ms"),
        ("/faults", b'{"*": {"rate_per_second": 1e-300}}', "rate_per_second"),
        (
            "/scenario",
            b'{"projects": [{"name": "p", "jobs": [{"name": "j", '
            b'"timeline": [{"at": 1e300, "status": "RUNNING"}]}]}]}',
            "beyond the largest number accepted",
        ),
        ("/clock", b"[" * 10_000 + b"]" * 10_000, "nested too deeply"),
    ],
)
def test_nan_infinities_and_absurd_values_are_refused_with_400(
    simulator: SimulatorServer, path: str, body: bytes, reason: str
) -> None:
    status, answer = _call(simulator, path, body, headers=JSON)
    assert status == 400 and reason in answer["error"]
    assert _offset(simulator) == 0


def test_advancing_step_by_step_cannot_pass_the_bound_either(simulator: SimulatorServer) -> None:
    control = SimulatorControl(simulator.url)
    control.advance(9e9)
    status, answer = _call(simulator, "/clock", b'{"advance": 2e9}', headers=JSON)
    assert status == 400 and "may not pass 1e+10 s" in answer["error"]


def test_the_control_client_sends_what_the_guard_wants(simulator: SimulatorServer) -> None:
    # Given the project's own client of the control API
    control = SimulatorControl(simulator.url)
    # When it drives the simulator, Then every call is accepted
    control.load_scenario({"projects": [{"name": "p"}]})
    control.set_faults({"*": {"latency_ms": 0}})
    assert control.advance(60)["now"] == 60
    assert control.state()["projects"]
    assert control.reset_counters() == {"reset": True}
