"""The simulator's HTTP server: Lookout for Vision's rest-json wire protocol plus a control API.

AWS paths (``/2020-11-20/...``) are routed, parsed and validated from the carried model (see
``model.py``) and answered by the :class:`~lfv_workbench.simulator.engine.Engine`; faults apply
first.  The control API lives under ``/_simulator/``, outside every AWS path.

Several accounts and regions are served at once: each request goes to the *world* its SigV4
credential scope and access key name (``worlds.py``); the clock is shared.

The control API can reset, rewrite and fast-forward the whole service, so a web page must not be
able to drive it: it answers only requests whose ``Host`` (and ``Origin``, when sent) is this
machine's loopback address on the served port (403 otherwise, which also defeats DNS rebinding),
takes a body only as ``Content-Type: application/json`` (415 otherwise: a page's form or
``text/plain`` post cannot be one), and refuses NaN, infinities and numbers beyond any sensible
scenario (400).
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from lfv_workbench.serving import BackgroundServer
from lfv_workbench.simulator.clock import ClockError, VirtualClock
from lfv_workbench.simulator.engine import (
    Engine,
    ServiceError,
    access_denied,
    injected_error,
    throttling_error,
    validation_error,
)
from lfv_workbench.simulator.faults import FaultInjector, FaultsError, parse_faults
from lfv_workbench.simulator.model import (
    RequestParseError,
    error_status,
    match_route,
    parse_input,
    validate_input,
)
from lfv_workbench.simulator.scenario import (
    Scenario,
    ScenarioError,
    load_scenario_file,
    parse_scenario,
)
from lfv_workbench.simulator.worlds import (
    AccountResolver,
    World,
    Worlds,
    account_id_key,
    caller_from,
)

logger = logging.getLogger(__name__)
CONTROL_PREFIX = "/_simulator"
MAX_BODY_BYTES = 10 * 1024 * 1024
#: The names of this machine's loopback address a control request may use as its Host.
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
#: No number in a control request may exceed this (about 317 years in seconds: beyond any
#: scenario, well before date arithmetic overflows).
MAX_CONTROL_NUMBER = 1e10
#: The fastest the virtual clock may run (a virtual day in under 0.1 s of wall time).
MAX_SPEED = 1e6


class ControlRequestError(ValueError):
    """A control request refused before it reaches the simulator: ``status`` says why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is too large for a number")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def control_body(raw: bytes) -> Any:
    """The control request's JSON, or ``ControlRequestError(400)``: not JSON, NaN, an infinity,
    or a number beyond ``MAX_CONTROL_NUMBER``."""
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw, parse_constant=_no_constant, parse_float=_finite)
    except RecursionError:
        raise ControlRequestError(400, "the request body is nested too deeply") from None
    except ValueError as exc:
        raise ControlRequestError(400, f"the request body is not valid JSON: {exc}") from None
    pending = [data]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
        elif _number(value) and abs(value) > MAX_CONTROL_NUMBER:
            raise ControlRequestError(
                400, f"{value!r:.40} is beyond the largest number accepted ({MAX_CONTROL_NUMBER:g})"
            )
    return data


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave in one write, without Nagle: otherwise each keep-alive response
    # waits ~40 ms for a delayed ACK.
    disable_nagle_algorithm = True
    wbufsize = 64 * 1024
    server: _Server

    def version_string(self) -> str:
        return "lfv-simulator"

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s %s", self.address_string(), format % args)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    # --- plumbing ----------------------------------------------------------------------

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            raise validation_error(f"Request body larger than {MAX_BODY_BYTES} bytes")
        return self.rfile.read(length) if length > 0 else b""

    def _send(
        self,
        status: int,
        body: bytes,
        *,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _send_json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(data).encode(), headers=headers)

    def _send_error(self, error: ServiceError) -> None:
        headers = {"x-amzn-ErrorType": error.code}
        if error.retry_after is not None:
            headers["Retry-After"] = str(error.retry_after)
        self._send_json(error_status(error.code), error.body(), headers)

    def _dispatch(self, method: str) -> None:
        url = urllib.parse.urlsplit(self.path)
        try:
            body = self._read_body()
        except ServiceError as exc:
            self.close_connection = True
            self._send_error(exc)
            return
        if url.path == CONTROL_PREFIX or url.path.startswith(CONTROL_PREFIX + "/"):
            self._control(method, url.path[len(CONTROL_PREFIX) :], url.query, body)
        else:
            self._aws(method, url, body)

    # --- AWS ---------------------------------------------------------------------------

    def _aws(self, method: str, url: urllib.parse.SplitResult, raw: bytes) -> None:
        sim = self.server.simulator
        found = match_route(method, url.path)
        if found is None:
            self._send_json(
                404,
                {"message": f"No operation at {method} {url.path}"},
                {"x-amzn-ErrorType": "UnknownOperationException"},
            )
            return
        operation, uri_params = found
        name = operation.name
        world = sim.world_for(dict(self.headers.items()), url.query)
        world.engine.record_call(name)
        decision = world.faults.decide(name, sim.clock.now(), uri_params.get("projectName"))
        if decision.unreachable:
            world.engine.record_fault("unreachable")
            self.close_connection = True
            return
        if decision.latency_s > 0:
            time.sleep(decision.latency_s)
        try:
            if decision.throttle_retry_after is not None:
                world.engine.record_fault("throttled")
                raise throttling_error(decision.throttle_retry_after, name)
            if decision.denied:
                sim.engine.record_fault("denied")
                raise access_denied(name, sim.engine.arn(uri_params["projectName"]))
            if decision.error_code is not None:
                world.engine.record_fault(decision.error_code)
                raise injected_error(decision.error_code, name)
            result = self._serve(world, operation, uri_params, url.query, raw)
        except ServiceError as exc:
            self._send_error(exc)
            return
        if decision.body_fault is not None:
            world.engine.record_fault(decision.body_fault)
            self._send_body_fault(decision.body_fault, result)
            return
        self._send_json(200, result)

    def _serve(
        self, world: World, operation: Any, uri_params: dict[str, str], query: str, raw: bytes
    ) -> dict[str, Any]:
        body: Any = {}
        if raw.strip():
            try:
                body = json.loads(raw)
            except ValueError as exc:
                raise validation_error("The request body is not valid JSON") from exc
            if not isinstance(body, dict):
                raise validation_error("The request body must be a JSON object")
        try:
            params = parse_input(
                operation,
                uri_params,
                urllib.parse.parse_qs(query, keep_blank_values=True),
                dict(self.headers.items()),
                body,
            )
        except RequestParseError as exc:
            raise validation_error(f"1 validation error detected: {exc}") from exc
        errors = validate_input(operation, params)
        if errors:
            count = len(errors)
            noun = "error" if count == 1 else "errors"
            raise validation_error(f"{count} validation {noun} detected: " + "; ".join(errors))
        return world.engine.handle(operation.name, params)

    def _send_body_fault(self, kind: str, result: dict[str, Any]) -> None:
        if kind == "html":
            page = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
            self._send(502, page, content_type="text/html")
        elif kind == "empty":
            self._send(200, b"")
        elif kind == "not_json":
            self._send(200, b"this is not JSON {", content_type="application/json")
        elif kind == "error_200":
            self._send_json(200, {"__type": "InternalServerException", "message": "oops"})
        elif kind == "missing_fields":
            self._send_json(200, _mangle(result, drop=True))
        else:  # wrong_types
            self._send_json(200, _mangle(result, drop=False))

    # --- control API ---------------------------------------------------------------------

    def _control_refusal(self, method: str) -> ControlRequestError | None:
        """Why this control request may not drive the simulator (None: it may)."""
        port = self.server.server_address[1]
        allowed = {f"{name}:{port}" for name in LOOPBACK_NAMES}
        host = (self.headers.get("Host") or "").strip().lower()
        if host not in allowed:
            return ControlRequestError(
                403, f"Host {host[:100]!r} is not this simulator's loopback address"
            )
        origin = self.headers.get("Origin")
        if origin is not None and origin.strip().lower() not in {f"http://{h}" for h in allowed}:
            return ControlRequestError(
                403, f"Origin {origin[:100]!r} is not this simulator's loopback address"
            )
        media_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if method != "GET" and media_type != "application/json":
            return ControlRequestError(
                415, f"Content-Type must be application/json, got {media_type[:100]!r}"
            )
        return None

    def _control(self, method: str, path: str, query: str, raw: bytes) -> None:
        sim = self.server.simulator
        try:
            refusal = self._control_refusal(method)
            if refusal is not None:
                raise refusal
            data: Any = control_body(raw)
            world = sim.addressed_world(urllib.parse.parse_qs(query, keep_blank_values=True))
        except ControlRequestError as exc:
            self._send_json(exc.status, {"error": str(exc)})
            return
        try:
            self._send_json(200, self._control_answer(method, path, world, data))
        except ControlRequestError as exc:
            self._send_json(exc.status, {"error": str(exc)})
        except (ScenarioError, FaultsError, ClockError) as exc:
            self._send_json(400, {"error": str(exc)})

    def _control_answer(self, method: str, path: str, world: World, data: Any) -> Any:
        sim = self.server.simulator
        if method == "GET" and path in ("/state", "/state/"):
            return {**world.engine.state(), **sim.world_summaries()}
        if method == "POST" and path == "/state/reset-counters":
            world.engine.reset_counters()
            return {"reset": True}
        if path == "/clock" and method in ("GET", "POST"):
            return sim.clock_request(data if method == "POST" else {})
        if method == "POST" and path == "/scenario":
            return sim.load(parse_scenario(data, source="scenario"))
        if method == "POST" and path == "/faults":
            world.faults.configure(parse_faults(data))
        if path == "/faults" and method in ("GET", "POST"):
            return {"faults": world.faults.config.raw}
        if method == "GET" and path == "/worlds":
            return sim.world_summaries()
        raise ControlRequestError(404, f"no control endpoint {method} {path}")


def _mangle(value: Any, *, drop: bool) -> Any:
    """A response with its leaf fields dropped (``drop``) or given the wrong JSON types."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if isinstance(item, dict | list):
                out[key] = _mangle(item, drop=drop)
            elif drop and key not in ("JobName", "ProjectName", "NextToken"):
                continue
            elif drop:
                out[key] = item
            elif isinstance(item, str):
                out[key] = 12345 if key != "NextToken" else item
            else:
                out[key] = "not-a-number"
        return out
    if isinstance(value, list):
        return [_mangle(item, drop=drop) for item in value]
    return value


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    simulator: SimulatorServer


class SimulatorServer(BackgroundServer):
    """Lookout for Vision on ``http://host:port``, with a virtual clock and a control API.

    ``scenario``: a :class:`Scenario`, a dict, or a path to a scenario file (``None``: empty).
    ``port=0`` picks a free port; ``url`` tells which. ``resolve_account`` maps a request's
    access key id to its account (None: the default account); by default a key that is a
    12-digit account id stands for that account (``worlds.py``).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        scenario: Scenario | dict[str, Any] | str | Path | None = None,
        speed: float = 1.0,
        resolve_account: AccountResolver = account_id_key,
    ) -> None:
        self.host = host
        self.port = port
        self.clock = VirtualClock(speed=speed)
        self.resolve_account = resolve_account
        self.worlds = Worlds(Scenario(), self.clock)
        self._lock = threading.Lock()
        if scenario is not None:
            self.load(_as_scenario(scenario))

    # --- state ---------------------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        """The default world's service state (the top level of the scenario)."""
        return self.worlds.default.engine

    @property
    def faults(self) -> FaultInjector:
        """The default world's faults."""
        return self.worlds.default.faults

    def load(self, scenario: Scenario) -> dict[str, Any]:
        """Replace the whole state with ``scenario``; the clock restarts at offset 0."""
        with self._lock:
            self.worlds = Worlds(scenario, self.clock)
            self.clock.reset(scenario.start_time)
            return {
                "loaded": True,
                "projects": len(scenario.projects),
                "jobs": sum(len(p.jobs) for p in scenario.projects),
                "accounts": len(scenario.accounts),
                "warnings": scenario.warnings(),
                "now": self.clock.now(),
                "time": self.clock.iso(),
            }

    def set_faults(self, data: Any, account: str | None = None, region: str | None = None) -> None:
        """Replace the fault set of one world (the default world when none is named)."""
        world = self.worlds.default
        if account is not None and region is not None:
            world = self._world(account, region)
        world.faults.configure(parse_faults(data))

    def world_for(self, headers: dict[str, str], query: str) -> World:
        """The world an AWS request is for (its credential scope and access key)."""
        caller = caller_from(headers, urllib.parse.parse_qs(query))
        return self.worlds.for_caller(caller, self.resolve_account)

    def addressed_world(self, query: dict[str, list[str]]) -> World:
        """The world a control request names with ``?account=...&region=...`` (both or
        neither; neither: the default world)."""
        account = (query.get("account") or [""])[0] or None
        region = (query.get("region") or [""])[0] or None
        if account is None and region is None:
            return self.worlds.default
        if account is None or region is None:
            raise ControlRequestError(400, "name a world with both account and region, or neither")
        return self._world(account, region)

    def _world(self, account: str, region: str) -> World:
        world = self.worlds.get(account, region)
        if world is None:
            known = ", ".join(f"{w.account}/{w.region}" for w in self.worlds.all())
            raise ControlRequestError(
                404,
                f"no world for account {account[:20]!r} in region {region[:30]!r}; worlds: {known}",
            )
        return world

    def world_summaries(self) -> dict[str, Any]:
        """``{"worlds": [{"account", "region", "projects", "jobs", "calls"}, ...]}``."""
        return {"worlds": [world.summary() for world in self.worlds.all()]}

    def clock_request(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise ClockError("the clock request must be a JSON object")
        unknown = set(data) - {"advance", "set", "speed"}
        if unknown:
            raise ClockError(f"unknown clock field(s) {sorted(unknown)}; use advance, set or speed")
        for key in ("advance", "set", "speed"):
            value = data.get(key)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int | float)
            ):
                raise ClockError(f"{key}: must be a number of seconds, got {value!r}")
        if "advance" in data and "set" in data:
            raise ClockError("give either advance or set, not both")
        self._check_bounds(data)
        if data.get("speed") is not None:
            self.clock.set_speed(float(data["speed"]))
        if data.get("advance") is not None:
            self.clock.advance(float(data["advance"]))
        if data.get("set") is not None:
            self.clock.set(float(data["set"]))
        now = self.clock.now()
        return {"now": now, "time": self.clock.iso(now), "speed": self.clock.speed}

    def _check_bounds(self, data: dict[str, Any]) -> None:
        """Refuse a speed or a clock position no scenario needs (and dates cannot hold)."""
        if data.get("speed") is not None and not 0 <= data["speed"] <= MAX_SPEED:
            raise ClockError(f"speed: must be 0 to {MAX_SPEED:g}, got {data['speed']!r}")
        target = data.get("set")
        if data.get("advance") is not None:
            target = self.clock.now() + data["advance"]
        if target is not None and target > MAX_CONTROL_NUMBER:
            raise ClockError(
                f"the clock may not pass {MAX_CONTROL_NUMBER:g} s from the scenario's start, "
                f"got {target:g}"
            )

    # --- lifecycle -----------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("the simulator is not started")
        host = self.host if ":" not in self.host else f"[{self.host}]"
        return f"http://{host}:{self._httpd.server_address[1]}"

    def _build_server(self) -> _Server:
        httpd = _Server((self.host, self.port), _Handler)
        httpd.simulator = self
        return httpd


def _as_scenario(value: Scenario | dict[str, Any] | str | Path) -> Scenario:
    if isinstance(value, Scenario):
        return value
    if isinstance(value, dict):
        return parse_scenario(value)
    return load_scenario_file(value)
