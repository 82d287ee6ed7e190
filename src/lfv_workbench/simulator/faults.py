"""Fault injection: latency, rate quotas, throttling windows, random errors, bad bodies.

The configuration (``POST /_simulator/faults`` or a scenario's ``faults``) maps an operation
name, or ``"*"`` for every operation, to :class:`OperationFaults`; the fields set for an
operation override those set for ``"*"``, which override the defaults (the service's quota of
5 requests per second per operation, nothing else).  ``"unreachable": true`` at the top level
makes the simulator close every AWS connection without answering; ``denied_projects`` answers
``AccessDeniedException`` for the requests on the named projects.

Rate quotas are token buckets on the wall clock (the quota is a server capacity; clients pace
themselves by the wall clock too).  Throttle windows are in virtual seconds.  Random faults draw
from an RNG seeded by the scenario's ``seed``, so runs are reproducible.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from lfv_monitor.clients import OPERATIONS
from lfv_workbench.simulator.model import service_model, shape, validate

DEFAULT_RATE_PER_SECOND = 5.0
BODY_FAULT_KINDS = ("html", "empty", "not_json", "error_200", "missing_fields", "wrong_types")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ThrottleWindow(_Strict):
    start: float = Field(alias="from", description="virtual second the window opens")
    end: float = Field(alias="to", description="virtual second it closes (exclusive)")

    @model_validator(mode="after")
    def _ordered(self) -> ThrottleWindow:
        if self.end <= self.start:
            raise ValueError(f"'to' ({self.end}) must be after 'from' ({self.start})")
        return self


class BodyFault(_Strict):
    kind: Literal["html", "empty", "not_json", "error_200", "missing_fields", "wrong_types"]
    rate: float = Field(1.0, ge=0.0, le=1.0)
    count: int | None = Field(None, ge=0, description="inject at most this many (null: no limit)")


class OperationFaults(_Strict):
    latency_ms: float = Field(0, ge=0, le=60_000)  # more would hold a server thread for long
    rate_per_second: float | None = Field(DEFAULT_RATE_PER_SECOND, ge=0.001, le=1_000_000)
    error_rate: float = Field(0.0, ge=0.0, le=1.0)
    error_code: str = "InternalServerException"
    throttle_windows: list[ThrottleWindow] = Field(default_factory=list)
    body_fault: BodyFault | None = None
    #: Projects whose requests (of this operation) are answered AccessDeniedException, as an
    #: IAM or SCP deny on those projects' resources would.
    denied_projects: list[str] = Field(default_factory=list, max_length=1000)

    @model_validator(mode="after")
    def _known_error(self) -> OperationFaults:
        known = {shape.name for shape in service_model().error_shapes}
        if self.error_code not in known:
            raise ValueError(
                f"error_code {self.error_code!r} is not a modelled error; use one of "
                f"{', '.join(sorted(known))}"
            )
        return self

    @field_validator("denied_projects")
    @classmethod
    def _project_names(cls, names: list[str]) -> list[str]:
        for i, name in enumerate(names):
            errors = validate(shape("ProjectName"), name, f"denied_projects[{i}]")
            if errors:
                raise ValueError("; ".join(errors))
        return names


class FaultsError(ValueError):
    """A faults configuration is invalid; the message names the field and the reason."""


def format_validation_error(exc: ValidationError, prefix: str = "") -> str:
    lines = []
    for err in exc.errors():
        loc = prefix
        for part in err["loc"]:
            loc += f"[{part}]" if isinstance(part, int) else (f".{part}" if loc else str(part))
        message = str(err["msg"]).removeprefix("Value error, ")
        lines.append(f"{loc or '(top level)'}: {message}")
    return "; ".join(lines)


@dataclass(frozen=True, slots=True)
class FaultConfig:
    """A validated faults configuration."""

    unreachable: bool
    per_operation: dict[str, OperationFaults]
    raw: dict[str, Any]

    def for_operation(self, operation: str) -> OperationFaults:
        return self.per_operation[operation]


def parse_faults(data: Any, prefix: str = "faults") -> FaultConfig:
    """Validate a faults document; raise :class:`FaultsError` naming the bad field."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise FaultsError(f"{prefix}: must be an object, got {type(data).__name__}")
    unreachable = data.get("unreachable", False)
    if not isinstance(unreachable, bool):
        raise FaultsError(f"{prefix}.unreachable: must be true or false")
    parsed = {
        key: _operation_faults(key, value, prefix)
        for key, value in data.items()
        if key != "unreachable"
    }
    per_operation = {op: _merged(parsed.get("*"), parsed.get(op)) for op in OPERATIONS}
    return FaultConfig(unreachable=unreachable, per_operation=per_operation, raw=dict(data))


def _operation_faults(key: str, value: Any, prefix: str) -> OperationFaults:
    if key != "*" and key not in OPERATIONS:
        raise FaultsError(
            f"{prefix}.{key}: unknown operation; use '*' or one of {', '.join(OPERATIONS)}"
        )
    try:
        return OperationFaults.model_validate(value)
    except ValidationError as exc:
        raise FaultsError(format_validation_error(exc, f"{prefix}.{key}")) from exc


def _merged(*layers: OperationFaults | None) -> OperationFaults:
    """The fields set in each layer, later layers winning (``*`` first, then the operation)."""
    merged: dict[str, Any] = {}
    for layer in layers:
        if layer is not None:
            merged.update({f: getattr(layer, f) for f in layer.model_fields_set})
    return OperationFaults.model_construct(**merged)


@dataclass(frozen=True, slots=True)
class Decision:
    """What to do with one request before (or instead of) serving it."""

    unreachable: bool = False
    latency_s: float = 0.0
    throttle_retry_after: int | None = None
    error_code: str | None = None
    body_fault: str | None = None
    denied: bool = False


class FaultInjector:
    """Decides, per request, which fault (if any) applies.  Thread-safe."""

    def __init__(
        self,
        config: FaultConfig | None = None,
        *,
        seed: int = 1,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lock = threading.Lock()
        self._monotonic = monotonic
        self._config = config or parse_faults({})
        self._rng = random.Random(seed)
        self._buckets: dict[str, tuple[float, float]] = {}  # op -> (tokens, wall time)
        self._body_faults_used: dict[str, int] = {}

    @property
    def config(self) -> FaultConfig:
        return self._config

    def configure(self, config: FaultConfig, *, seed: int | None = None) -> None:
        with self._lock:
            self._config = config
            self._buckets.clear()
            self._body_faults_used.clear()
            if seed is not None:
                self._rng = random.Random(seed)

    def decide(self, operation: str, now: float, project: str | None = None) -> Decision:
        """The fault for one request of ``operation`` at virtual time ``now`` on ``project``
        (the request's ProjectName, None for ListProjects)."""
        with self._lock:
            if self._config.unreachable:
                return Decision(unreachable=True)
            faults = self._config.for_operation(operation)
            latency = faults.latency_ms / 1000.0
            if project is not None and project in faults.denied_projects:
                return Decision(latency_s=latency, denied=True)
            for window in faults.throttle_windows:
                if window.start <= now < window.end:
                    wait = max(1, math.ceil(window.end - now))
                    return Decision(latency_s=latency, throttle_retry_after=wait)
            if faults.rate_per_second is not None:
                wait_s = self._take_token(operation, faults.rate_per_second)
                if wait_s > 0:
                    return Decision(
                        latency_s=latency, throttle_retry_after=max(1, math.ceil(wait_s))
                    )
            if faults.error_rate > 0 and self._rng.random() < faults.error_rate:
                return Decision(latency_s=latency, error_code=faults.error_code)
            body = faults.body_fault
            if body is not None:
                used = self._body_faults_used.get(operation, 0)
                if (body.count is None or used < body.count) and self._rng.random() < body.rate:
                    self._body_faults_used[operation] = used + 1
                    return Decision(latency_s=latency, body_fault=body.kind)
            return Decision(latency_s=latency)

    def _take_token(self, operation: str, rate: float) -> float:
        """Take a token from the operation's bucket; the seconds to wait when it is empty."""
        wall = self._monotonic()
        capacity = max(rate, 1.0)
        tokens, last = self._buckets.get(operation, (capacity, wall))
        tokens = min(capacity, tokens + (wall - last) * rate)
        if tokens >= 1.0:
            self._buckets[operation] = (tokens - 1.0, wall)
            return 0.0
        self._buckets[operation] = (tokens, wall)
        return (1.0 - tokens) / rate
