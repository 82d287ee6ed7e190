"""Counts what one monitor sends, from the client side, with botocore event hooks.

Attached to the clients the composition root built (``monitor.source.client``,
``monitor.cycle.store.client`` and each publisher's ``client``), so it sees exactly what the
cycle sends and nothing the benchmark itself does with its own clients.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from benchmarks import capacity


@dataclass
class Snapshot:
    """What the meter saw since its last reset."""

    lfv_attempts: Counter[str] = field(default_factory=Counter)
    listed_projects: Counter[str] = field(default_factory=Counter)
    #: (project, job) of every DescribeModelPackagingJob sent.
    described: list[tuple[str, str]] = field(default_factory=list)
    aws_calls: Counter[str] = field(default_factory=Counter)
    read_units: float = 0.0
    write_units: float = 0.0
    #: Entries per PutEvents / PublishBatch call, in order.
    put_events_entries: list[int] = field(default_factory=list)
    sns_batch_entries: list[int] = field(default_factory=list)
    #: Every event detail sent to EventBridge.
    details: list[dict[str, Any]] = field(default_factory=list)


def _event_id(client: Any) -> str:
    """The name botocore uses for the client's events (``eventbridge`` for ``events``)."""
    return str(client.meta.service_model.service_id.hyphenize())


class Meter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.seen = Snapshot()

    def reset(self) -> Snapshot:
        with self._lock:
            seen, self.seen = self.seen, Snapshot()
        return seen

    # -- attaching -----------------------------------------------------------------------
    def attach(self, monitor: Any) -> Meter:
        source_client = monitor.source.client
        source_client.meta.events.register("before-send.lookoutvision", self._lfv_attempt)
        source_client.meta.events.register(
            "before-parameter-build.lookoutvision.ListModelPackagingJobs", self._lfv_listed
        )
        source_client.meta.events.register(
            "before-parameter-build.lookoutvision.DescribeModelPackagingJob", self._lfv_described
        )
        ddb = monitor.cycle.store.client
        self._count_calls(ddb)
        ddb.meta.events.register("before-parameter-build.dynamodb", self._keep_params)
        ddb.meta.events.register("after-call.dynamodb", self._capacity)
        for publisher in monitor.cycle.publishers:
            client = publisher.client
            self._count_calls(client)
            service = _event_id(client)
            client.meta.events.register(f"before-parameter-build.{service}.PutEvents", self._events)
            client.meta.events.register(f"before-parameter-build.{service}.PublishBatch", self._sns)
        return self

    def _count_calls(self, client: Any) -> None:
        name = client.meta.service_model.service_name

        def before_call(model: Any = None, **_: Any) -> None:
            with self._lock:
                self.seen.aws_calls[f"{name}:{model.name}"] += 1

        client.meta.events.register(f"before-call.{_event_id(client)}", before_call)

    # -- hooks ---------------------------------------------------------------------------
    def _lfv_attempt(self, event_name: str = "", **_: Any) -> None:
        # botocore emits ``before-send.<service>.<Operation>`` with the request only.
        with self._lock:
            self.seen.lfv_attempts[event_name.rsplit(".", 1)[-1] or "unknown"] += 1

    def _lfv_listed(self, params: Any = None, **_: Any) -> None:
        if isinstance(params, dict) and "ProjectName" in params:
            with self._lock:
                self.seen.listed_projects[str(params["ProjectName"])] += 1

    def _lfv_described(self, params: Any = None, **_: Any) -> None:
        if isinstance(params, dict) and "ProjectName" in params and "JobName" in params:
            with self._lock:
                self.seen.described.append((str(params["ProjectName"]), str(params["JobName"])))

    @staticmethod
    def _keep_params(params: Any = None, context: Any = None, **_: Any) -> None:
        if isinstance(context, dict) and isinstance(params, dict):
            context["bench_params"] = dict(params)

    def _capacity(
        self, model: Any = None, parsed: Any = None, context: Any = None, **_: Any
    ) -> None:
        params = context.get("bench_params", {}) if isinstance(context, dict) else {}
        if model is None or not isinstance(parsed, dict) or "Error" in parsed:
            return
        units = capacity.consumed(model.name, params, parsed)
        with self._lock:
            self.seen.read_units += units["read"]
            self.seen.write_units += units["write"]

    def _events(self, params: Any = None, **_: Any) -> None:
        entries = params.get("Entries", []) if isinstance(params, dict) else []
        details = []
        for entry in entries:
            try:
                details.append(json.loads(entry.get("Detail", "{}")))
            except ValueError:
                continue
        with self._lock:
            self.seen.put_events_entries.append(len(entries))
            self.seen.details.extend(details)

    def _sns(self, params: Any = None, **_: Any) -> None:
        entries = params.get("PublishBatchRequestEntries", []) if isinstance(params, dict) else []
        with self._lock:
            self.seen.sns_batch_entries.append(len(entries))
