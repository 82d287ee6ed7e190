"""The soak's plan: what kind each cycle is, and which faults it gets.

Cycle kinds (``KINDS``, drawn with ``WEIGHTS``): ``clean``; ``wire`` (faults at the proxy in
front of moto); ``lfv`` (Lookout for Vision faults from the simulator, plus wire faults);
``crash`` (a cycle in a subprocess SIGKILLed at a chosen request or response); ``overlap`` (two
invocations at once); ``denied`` (one project's requests answered AccessDeniedException, for a
cycle or two in a row); ``unreachable`` (Lookout for Vision closes every connection);
``store`` (the table refuses every write: an access error the SDK does not retry). The first
cycle and a tail are clean; at most ``MAX_DEGRADED_RUN`` cycles in a row may lose observations.
Each of ``COVERAGE`` is injected once first, and each of ``FORCED_KINDS`` placed once early, so
that even a short run covers every kind of fault. Before some cycles a malformed item is
written into the table (``POISON_KINDS``, each once first).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from lfv_workbench.testing.faultproxy import FaultRule

#: Every state of a scenario job lasts at least this many cycles, and at most
#: ``MAX_DEGRADED_RUN`` cycles in a row may lose observations (Lookout for Vision faults past
#: the retries, crashes), so every state is observable at some clean cycle time.
MIN_STATE_CYCLES = 4
MAX_DEGRADED_RUN = 2
#: Faults on one operation never outlast botocore's 5 attempts in a row (except partial batch
#: failures and crashes, which the outbox handles); see docs/reliability.md.
MAX_CONSECUTIVE_FAULTS = 3
#: The monitor's clients time out reads after 15 s (clients.DEFAULT_CONFIG).
PAST_TIMEOUT_S = 16.0
KINDS = ("clean", "wire", "lfv", "crash", "overlap", "denied", "unreachable", "store")
WEIGHTS = (32, 22, 12, 13, 9, 6, 3, 3)
#: Kinds that may lose observations (at most ``MAX_DEGRADED_RUN`` in a row).
DEGRADED = frozenset({"lfv", "crash", "denied", "unreachable", "store"})
#: Kinds a run places once early if the draw did not (``plan_kinds``).
FORCED_KINDS = ("denied", "unreachable", "store")
#: Kinds run in this process, whose report the ledger reads for its health verdict.
IN_PROCESS = frozenset({"clean", "wire", "lfv", "denied", "unreachable", "store"})
#: Malformed stored items (issue 12, point 3): a job's state with a text version (rebuilt from
#: its history), an outbox entry with a text lease, a history item with an unknown change type
#: (read through its outbox entries), the baseline marker of the wrong type.
POISON_KINDS = ("state", "outbox", "history", "meta")
#: Cycles before which a malformed item is written (after each kind once).
POISON_RATE = 0.08
DDB_OPS = (
    "Query",
    "GetItem",
    "BatchGetItem",
    "TransactWriteItems",
    "BatchWriteItem",
    "PutItem",
    "UpdateItem",
)
KILL_POINTS = (
    ("Query", "request"),
    ("GetItem", "response"),
    ("BatchGetItem", "response"),
    ("TransactWriteItems", "response"),  # written, not yet announced
    ("TransactWriteItems", "response"),
    ("PutEvents", "response"),  # announced on the bus, not yet on SNS nor marked delivered
    ("PublishBatch", "response"),
    ("BatchWriteItem", "request"),
)


@dataclass
class SoakConfig:
    seed: int = 1
    cycles: int = 500
    clean_tail: int = 3
    jobs: int | None = None  # default: 30 + cycles // 10
    interval: int = 60
    #: Delays past the client's 15 s read timeout cost 15 s of wall time each.
    timeout_faults: int | None = None  # default: one per 100 cycles, at least one
    log_dir: Path | None = None


def plan_kinds(rng: random.Random, config: SoakConfig) -> list[str]:
    kinds = ["clean"]
    degraded_run = 0
    for _ in range(1, config.cycles):
        kind = rng.choices(KINDS, WEIGHTS)[0]
        if kind in DEGRADED and degraded_run >= MAX_DEGRADED_RUN:
            kind = "wire"
        degraded_run = degraded_run + 1 if kind in DEGRADED else 0
        kinds.append(kind)
    _force(kinds, FORCED_KINDS)
    return kinds + ["clean"] * config.clean_tail


def _force(kinds: list[str], required: tuple[str, ...]) -> None:
    """Place each ``required`` kind the draw missed, early: on an ``lfv`` or ``crash`` cycle
    (one degraded kind for another), else on a cycle whose neighbours lose no observations
    (so no run of degraded cycles grows)."""
    for kind in required:
        if kind in kinds:
            continue
        inner = range(2, len(kinds) - 1)
        swaps = [i for i in inner if kinds[i] in ("lfv", "crash")]
        spots = [
            i
            for i in inner
            if kinds[i] in ("wire", "overlap", "clean")
            and not {kinds[i - 1], kinds[i + 1]} & DEGRADED
        ]
        where = (swaps or spots)[:1]
        for i in where:
            kinds[i] = kind


def denial(rng: random.Random, projects: list[str], previous: str | None) -> dict[str, Any]:
    """A ``denied`` cycle's Lookout for Vision faults: one project denied (the one denied in
    the cycle before, if any: a denial lasting two cycles), for every operation or only its
    listing or its describes."""
    project = previous or rng.choice(projects)
    scope = rng.choice(["*", "*", "ListModelPackagingJobs", "DescribeModelPackagingJob"])
    faults = lfv_faults(None)
    faults.setdefault(scope, {})["denied_projects"] = [project]
    return faults


#: Faulty cycles inject each of these once first (kept until it fires), so that even a short
#: run covers every kind of fault.
COVERAGE: tuple[tuple[str, str, str], ...] = (
    ("throttle", "dynamodb", "before"),
    ("throttle", "events", "before"),
    ("throttle", "sns", "before"),
    ("error5xx", "dynamodb", "before"),
    ("partial", "events", "before"),
    ("partial", "sns", "before"),
    ("reset", "dynamodb", "after"),
    ("reset", "events", "before"),
    ("delay", "dynamodb", "after"),
)


def coverage_rule(kind: str, service: str, phase: str) -> Any:
    from lfv_workbench.testing.faultproxy import FaultRule

    operation = {"events": "PutEvents", "sns": "PublishBatch"}.get(service, "*")
    return FaultRule(
        kind,  # type: ignore[arg-type]
        service,
        operation,
        count=1,
        phase=phase,  # type: ignore[arg-type]
        delay_s=PAST_TIMEOUT_S,
        entry_rate=0.5,
    )


def wire_faults(rng: random.Random, timeouts_left: int) -> tuple[list[Any], bool]:
    from lfv_workbench.testing.faultproxy import FaultRule

    rules: list[FaultRule] = []
    used_timeout = False
    for _ in range(rng.randint(1, 3)):
        service = rng.choice(["dynamodb", "events", "sns"])
        pick = rng.random()
        op = "*"
        if service == "dynamodb":
            op = rng.choice((*DDB_OPS, "*"))
        elif service == "events":
            op = "PutEvents"
        else:
            op = "PublishBatch"
        if pick < 0.3:
            code = None
            if service == "dynamodb":
                code = rng.choice(["ProvisionedThroughputExceededException", "ThrottlingException"])
            rules.append(FaultRule("throttle", service, op, rate=0.5, error_code=code))
        elif pick < 0.5:
            rules.append(
                FaultRule("error5xx", service, op, rate=0.4, status=rng.choice([500, 503]))
            )
        elif pick < 0.7 and service != "dynamodb":
            rules.append(FaultRule("partial", service, op, rate=0.7, entry_rate=0.4))
        elif pick < 0.9:
            phase: Literal["before", "after"] = rng.choice(["before", "after"])
            rules.append(FaultRule("reset", service, op, rate=0.3, count=2, phase=phase))
        elif timeouts_left > 0 and not used_timeout:
            phase = rng.choice(["before", "after"])
            rules.append(
                FaultRule("delay", service, op, count=1, phase=phase, delay_s=PAST_TIMEOUT_S)
            )
            used_timeout = True
        else:
            rules.append(FaultRule("throttle", service, op, rate=0.3))
    return rules, used_timeout


def lfv_faults(rng: random.Random | None) -> dict[str, Any]:
    """Lookout for Vision faults for one cycle (None: none; no quota: the soak is about faults,
    the client-side rate is covered elsewhere)."""
    faults: dict[str, Any] = {"*": {"rate_per_second": None}}
    if rng is None:
        return faults
    op = rng.choice(["*", "DescribeModelPackagingJob", "ListModelPackagingJobs"])
    pick = rng.random()
    if pick < 0.4:
        code = rng.choice(["InternalServerException", "ThrottlingException"])
        faults[op] = {"error_rate": rng.choice([0.1, 0.2, 0.3]), "error_code": code}
    elif pick < 0.8:
        kind = rng.choice(
            ["html", "empty", "not_json", "error_200", "missing_fields", "wrong_types"]
        )
        faults["DescribeModelPackagingJob"] = {
            "body_fault": {"kind": kind, "rate": 0.3, "count": 3}
        }
    else:
        faults[op] = {"latency_ms": 30, "error_rate": 0.1}
    return faults


class FaultPlanner:
    """Draws each cycle's faults from the soak's RNG, in the order the soak always has (the
    seed decides everything): Lookout for Vision faults, wire faults (a coverage rule first,
    kept until it fires), the kill point of a crash, the poison written before a cycle."""

    def __init__(self, rng: random.Random, config: SoakConfig, projects: list[str]) -> None:
        self.rng = rng
        self.projects = projects
        self.timeouts_left = (
            config.timeout_faults
            if config.timeout_faults is not None
            else max(1, config.cycles // 100)
        )
        self.coverage = list(COVERAGE)
        self.cover: Any = None  # the coverage rule waiting to fire
        self.poisons = list(POISON_KINDS)
        self.denied: str | None = None  # the project denied in the last cycle
        self.denials = 0

    def lfv(self, kind: str) -> dict[str, Any]:
        previous, self.denied = self.denied, None
        if kind == "unreachable":
            return {**lfv_faults(None), "unreachable": True}
        if kind != "denied":
            return lfv_faults(self.rng if kind == "lfv" else None)
        self.denials += 1
        if self.denials == 1:  # the first one surely fires: a project that is always there
            faults: dict[str, Any] = {
                "*": {"rate_per_second": None, "denied_projects": [self.projects[0]]}
            }
        else:
            faults = denial(self.rng, self.projects, previous)
        self.denied = next(
            name for layer in faults.values() for name in layer.get("denied_projects", [])
        )
        return faults

    def wire(self, kind: str, index: int) -> list[FaultRule] | None:
        """The proxy's rules for this cycle (None: leave the proxy without faults)."""
        from lfv_workbench.testing.faultproxy import FaultRule

        if kind == "store":  # every write refused, past the SDK's retries
            return [FaultRule("deny", "dynamodb", "TransactWriteItems")]
        if kind not in ("wire", "lfv", "crash", "denied") or index == 0:
            return None
        rules, used = wire_faults(self.rng, self.timeouts_left)
        self.timeouts_left -= int(used)
        if kind == "crash":
            return rules
        if self.cover is None and self.coverage:
            self.cover = coverage_rule(*self.coverage.pop(0))
            self.timeouts_left -= int(self.cover.kind == "delay")
        if self.cover is not None:
            rules.insert(0, self.cover)
        return rules

    def poison(self, kind: str, index: int) -> str | None:
        """The malformed item to write before this cycle (None: none): only before a cycle
        whose report the ledger reads and that reads the table (not an outage)."""
        if index < 2 or kind not in ("clean", "wire", "lfv", "denied"):
            return None
        if self.poisons:
            return self.poisons.pop(0)
        return self.rng.choice(POISON_KINDS) if self.rng.random() < POISON_RATE else None

    def kill_point(self) -> tuple[str, str, int]:
        """Where a crash cycle is killed: (operation, "request"|"response", n-th call)."""
        operation, phase = self.rng.choice(KILL_POINTS)
        return operation, phase, self.rng.randint(1, 2)

    def cycle_done(self) -> None:
        if self.cover is not None and self.cover.used:
            self.cover = None
