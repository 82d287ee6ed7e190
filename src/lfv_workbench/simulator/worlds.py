"""Several accounts and regions in one simulator: which *world* (account, region) a request is for.

A world is one simulated Lookout for Vision account in one region: its own projects, jobs,
call counters and faults (the service's quota is per account and region, so its rate buckets
are too). All worlds share the virtual clock.

A request's world is told from the wire, as AWS tells it:

- the **region** from the SigV4 credential scope (``Authorization: AWS4-HMAC-SHA256
  Credential=<key>/<date>/<region>/lookoutvision/aws4_request``, or a presigned URL's
  ``X-Amz-Credential``); an unsigned request is for the default world's region;
- the **account** from the access key id, through a resolver: by default a key that *is* a
  12-digit account id stands for that account (``AWS_ACCESS_KEY_ID=111111111111``), any other
  key for the default account. The local stack plugs in moto's own mapping instead, so the
  temporary keys moto's STS hands out for an assumed role resolve to the role's account.

Then: the world listed for exactly (account, region); else, for the default account, the
default world (whatever the region: a single-account scenario serves every region as before);
else, for an account the scenario lists in other regions only, an empty world (that account has
no projects in this region); else (an account the scenario does not know) the default world.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from lfv_workbench.simulator.clock import VirtualClock
from lfv_workbench.simulator.engine import Engine
from lfv_workbench.simulator.faults import FaultInjector
from lfv_workbench.simulator.scenario import Scenario

#: Access key id -> account id (None: not known to the resolver, the default account).
AccountResolver = Callable[[str], "str | None"]

_CREDENTIAL = re.compile(
    r"Credential=(?P<key>[^/,\s]+)/(?P<date>\d{8})/(?P<region>[^/,\s]+)/(?P<service>[^/,\s]+)/"
)
_ACCOUNT = re.compile(r"^[0-9]{12}$")


@dataclass(frozen=True, slots=True)
class Caller:
    """Who a request says it is: its access key id and region (None when unsigned)."""

    access_key: str | None
    region: str | None


def caller_from(headers: Mapping[str, str], query: Mapping[str, list[str]]) -> Caller:
    """The access key id and region of a SigV4 request (header or presigned query)."""
    scope = headers.get("Authorization") or headers.get("authorization") or ""
    match = _CREDENTIAL.search(scope)
    if match is None and query.get("X-Amz-Credential"):
        match = _CREDENTIAL.search("Credential=" + query["X-Amz-Credential"][0])
    if match is None:
        return Caller(None, None)
    return Caller(match.group("key"), match.group("region"))


def account_id_key(access_key: str) -> str | None:
    """The default resolver: a key that is a 12-digit account id stands for that account."""
    return access_key if _ACCOUNT.match(access_key) else None


@dataclass(slots=True)
class World:
    """One account in one region: its service state (``engine``) and its faults."""

    account: str
    region: str
    engine: Engine
    faults: FaultInjector

    @property
    def key(self) -> tuple[str, str]:
        return (self.account, self.region)

    @classmethod
    def of(cls, scenario: Scenario, clock: VirtualClock) -> World:
        engine = Engine(clock)
        engine.load(scenario)
        faults = FaultInjector()
        faults.configure(scenario.fault_config(), seed=scenario.seed)
        return cls(scenario.account_id, scenario.region, engine, faults)

    def summary(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "region": self.region,
            "projects": len(self.engine.projects),
            "jobs": sum(len(p.job_names) for p in self.engine.projects.values()),
            "calls": dict(self.engine.calls),
        }


class Worlds:
    """The worlds of one scenario, and the rule that picks one for a request. Thread-safe."""

    def __init__(self, scenario: Scenario, clock: VirtualClock) -> None:
        self._clock = clock
        self._scenario = scenario
        self._lock = threading.Lock()
        built = [World.of(world, clock) for world in scenario.worlds()]
        self.default = built[0]
        self._by_key = {world.key: world for world in built}
        self._listed_accounts = {entry.account for entry in scenario.accounts}

    def all(self) -> list[World]:
        with self._lock:
            return list(self._by_key.values())

    def get(self, account: str, region: str) -> World | None:
        with self._lock:
            return self._by_key.get((account, region))

    def for_caller(self, caller: Caller, resolve: AccountResolver) -> World:
        account = (resolve(caller.access_key) if caller.access_key else None) or (
            self.default.account
        )
        region = caller.region or self.default.region
        with self._lock:
            found = self._by_key.get((account, region))
            if found is not None:
                return found
            if account == self.default.account or account not in self._listed_accounts:
                return self.default
            # A listed account in a region the scenario gives it nothing in: an empty world.
            empty = self._scenario.worlds()[0].model_copy(
                update={"account_id": account, "region": region, "projects": [], "faults": {}}
            )
            world = World.of(empty, self._clock)
            self._by_key[world.key] = world
            return world
