"""A seeded fault soak: many jobs, faults at the wire, crashes, overlaps, then clean cycles.

``python -m lfv_workbench.testing.soak --seed 7 --cycles 500`` (``make soak``) runs the monitor
against the simulator (Lookout for Vision) and moto server (DynamoDB, EventBridge, SNS, SQS)
behind :class:`~lfv_workbench.testing.faultproxy.FaultProxy`, all on 127.0.0.1, and keeps a
ledger from three sides:

* the simulator's ground truth (``GET /_simulator/state`` job histories) sampled at every cycle
  time: the distinct states the monitor could observe;
* the store: every job's history items;
* the deliveries captured on SQS from an EventBridge rule on the bus and an SNS subscription.

Faults are injected at the wire only (nothing in the monitor is patched): the simulator's fault
API for Lookout for Vision; the proxy for throttling, 5xx, delays past the client timeout,
connection resets and partial batch failures; SIGKILL of a cycle run in a subprocess at a
chosen request or response (between the store write and the publish among them); two cycles
at once on the same store.  See docs/reliability.md.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from lfv_workbench.local.emulated import create_monitor_table, patched_environ

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
BUS = "lfv-soak-bus"
NON_ASCII = "Kompilierung läuft, 步骤 {n}/3 ✓"
KINDS = ("clean", "wire", "lfv", "crash", "overlap")
WEIGHTS = (35, 25, 15, 15, 10)
CHANNELS = ("events", "sns")
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


# -- scenario -------------------------------------------------------------------------------
def make_scenario(rng: random.Random, cycles: int, interval: int, jobs: int) -> dict[str, Any]:
    """Projects and job timelines whose states each last at least ``MIN_STATE_CYCLES`` cycles
    (flash jobs aside: they start and end between two cycles)."""
    horizon = cycles * interval
    n_projects = max(3, jobs // 8)
    projects: list[dict[str, Any]] = []
    for p in range(n_projects):
        project: dict[str, Any] = {"name": f"soak-p{p}", "jobs": []}
        if p == n_projects - 1:
            project["appears_at"] = round(rng.uniform(0.2, 0.5) * horizon)
        projects.append(project)
    doomed = projects[1]  # deleted while some of its jobs still run
    doomed["deleted_at"] = round(0.6 * horizon) + 7
    for j in range(jobs):
        project = projects[j % n_projects]
        earliest = project.get("appears_at", -10 * interval)
        start = rng.uniform(earliest, 0.75 * horizon)
        deleted = project.get("deleted_at")
        if deleted is not None:
            start = min(start, deleted - (MIN_STATE_CYCLES + 1) * interval)
        job = _job(rng, f"job-{j:03d}", start, interval)
        if deleted is not None:  # every state seen for MIN_STATE_CYCLES before the project goes
            last = deleted - MIN_STATE_CYCLES * interval
            job["timeline"] = [s for s in job["timeline"] if s["at"] <= last]
        project["jobs"].append(job)
    return {"seed": rng.randrange(2**31), "projects": projects, "faults": _lfv_faults(None)}


def _job(rng: random.Random, name: str, start: float, interval: int) -> dict[str, Any]:
    kind = rng.random()
    if kind < 0.1:  # flash: starts and ends between two cycle times
        base = (int(start) // interval) * interval + 10
        end = rng.choice(["SUCCEEDED", "FAILED"])
        flash: list[tuple[float, str, str | None]] = [
            (base, "CREATED", None),
            (base + 30, end, "done fast" if end[0] == "S" else "bad"),
        ]
        return _timeline(name, flash)
    steps: list[tuple[float, str, str | None]] = []
    t = start

    def dwell() -> float:
        return rng.randint(MIN_STATE_CYCLES, MIN_STATE_CYCLES + 4) * interval + rng.uniform(1, 9)

    steps.append((t, "CREATED", None))
    t += dwell()
    steps.append((t, "RUNNING", "Packaging the model."))
    for n in range(rng.randint(0, 2)):  # message-only changes, some in non-ASCII text
        t += dwell()
        steps.append((t, "RUNNING", NON_ASCII.format(n=n + 1) if n else f"Step {n + 1} of 3"))
    if rng.random() < 0.1:
        t += dwell()
        steps.append((t, "PAUSED", "An unknown status, served as is."))
    extra: dict[str, Any] = {}
    t += dwell()
    if rng.random() < 0.06:  # deleted while still running, before its last step
        extra["deleted_at"] = t
        t += dwell()
    if rng.random() < 0.3:
        message = "Compilation failed: out of memory."
        if rng.random() < 0.3:
            message += " " + "x" * 20_000  # longer than any event may carry
        steps.append((t, "FAILED", message))
    else:
        steps.append((t, "SUCCEEDED", None))
    return _timeline(name, steps, **extra)


def _timeline(
    name: str, steps: list[tuple[float, str, str | None]], **extra: Any
) -> dict[str, Any]:
    return {
        "name": name,
        "timeline": [
            {"at": round(at, 3), "status": status, **({"message": m} if m else {})}
            for at, status, m in steps
        ],
        **extra,
    }


def _lfv_faults(rng: random.Random | None) -> dict[str, Any]:
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


# -- ledger ---------------------------------------------------------------------------------
@dataclass
class CycleRecord:
    index: int
    kind: str
    at: float  # virtual offset
    started: float  # wall (epoch seconds)
    ended: float = 0.0
    killed: bool = False
    kill_point: str | None = None
    lost_response: bool = False  # a publish's response was lost after the service acted
    unhandled: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return self.kind == "clean"


@dataclass
class SoakResult:
    seed: int
    cycles: int
    faults: Counter[str]
    changes: int  # distinct states at cycle times (expected history items)
    recorded: int
    announced: int
    delivered: dict[str, int]  # unique event ids per channel
    deliveries: dict[str, int]  # copies per channel
    lost: list[str]
    extra: list[str]
    undelivered: list[str]
    duplicates: list[dict[str, Any]]
    id_conflicts: list[str]
    max_lag: int
    max_clean_lag: int
    late: list[str]
    unhandled: list[str]
    wall_seconds: float
    #: Kept for the command line's ``--strict``; overlap duplicates always fail now that the
    #: outbox is leased (docs/reliability.md, "Overlapping invocations").
    strict: bool = True

    def problems(self) -> list[str]:
        out = []
        if self.lost:
            out.append(f"{len(self.lost)} changes lost: {self.lost[:5]}")
        if self.extra:
            out.append(f"{len(self.extra)} history items that were never a state: {self.extra[:5]}")
        if self.undelivered:
            out.append(f"{len(self.undelivered)} never delivered: {self.undelivered[:5]}")
        if self.id_conflicts:
            out.append(f"duplicates with different event ids: {self.id_conflicts[:5]}")
        allowed = {"crash", "lost_response"}
        bad = [d for d in self.duplicates if d["cause"] not in allowed]
        if bad:
            out.append(f"{len(bad)} duplicates not after an injected crash: {bad[:3]}")
        if self.late:
            out.append(f"delivered after more than 2 clean cycles: {self.late[:5]}")
        if self.unhandled:
            out.append(f"unhandled exceptions: {self.unhandled[:3]}")
        return out

    @property
    def ok(self) -> bool:
        return not self.problems()

    def render(self) -> str:
        faults = ", ".join(f"{k} {v}" for k, v in sorted(self.faults.items())) or "none"
        dup_causes = Counter(d["cause"] for d in self.duplicates)
        lines = [
            f"soak: seed {self.seed}, {self.cycles} cycles in {self.wall_seconds:.0f}s",
            f"faults injected: {faults}",
            f"changes (distinct states at cycle times): {self.changes}",
            f"recorded (history items): {self.recorded}; announced: {self.announced}",
            "delivered: "
            + ", ".join(f"{c} {self.delivered[c]} ({self.deliveries[c]} copies)" for c in CHANNELS),
            f"lost: {len(self.lost)}; never a state: {len(self.extra)}; "
            f"undelivered: {len(self.undelivered)}",
            f"duplicates: {len(self.duplicates)} "
            f"({', '.join(f'{k} {v}' for k, v in dup_causes.items()) or 'none'}); "
            f"same change under different ids: {len(self.id_conflicts)}",
            f"longest delivery lag: {self.max_lag} cycles ({self.max_clean_lag} clean cycles)",
            f"unhandled exceptions: {len(self.unhandled)}",
        ]
        lines += [
            "RESULT: " + ("OK" if self.ok else "FAILED: " + "; ".join(self.problems())),
        ]
        return "\n".join(lines)


# -- the stack ------------------------------------------------------------------------------
class _Stack:
    def __init__(self, moto_url: str) -> None:
        import boto3

        self.ddb = boto3.client("dynamodb", endpoint_url=moto_url)
        self.sqs = boto3.client("sqs", endpoint_url=moto_url)
        events = boto3.client("events", endpoint_url=moto_url)
        sns = boto3.client("sns", endpoint_url=moto_url)
        self.table = "lfv-soak"
        create_monitor_table(self.ddb, self.table)
        events.create_event_bus(Name=BUS)
        self.topic_arn: str = sns.create_topic(Name="lfv-soak-topic")["TopicArn"]
        self.queues = {"events": self._queue("soak-rule"), "sns": self._queue("soak-sns")}
        events.put_rule(
            Name="all", EventBusName=BUS, EventPattern=json.dumps({"source": ["lfv-monitor"]})
        )
        events.put_targets(
            Rule="all", EventBusName=BUS, Targets=[{"Id": "q", "Arn": self._arn("events")}]
        )
        sns.subscribe(TopicArn=self.topic_arn, Protocol="sqs", Endpoint=self._arn("sns"))

    def _queue(self, name: str) -> str:
        url: str = self.sqs.create_queue(QueueName=name)["QueueUrl"]
        return url

    def _arn(self, channel: str) -> str:
        attrs = self.sqs.get_queue_attributes(
            QueueUrl=self.queues[channel], AttributeNames=["QueueArn"]
        )
        arn: str = attrs["Attributes"]["QueueArn"]
        return arn

    def drain(self, channel: str) -> list[dict[str, Any]]:
        details: list[dict[str, Any]] = []
        url = self.queues[channel]
        while True:
            got = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            if not got:
                return details
            for message in got:
                body = json.loads(message["Body"])
                if channel == "sns":
                    body = json.loads(body["Message"])
                details.append(body.get("detail", body) if channel == "events" else body)
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


# -- the soak -------------------------------------------------------------------------------
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


def run_soak(config: SoakConfig) -> SoakResult:
    """Run the soak; every server is on 127.0.0.1 and stopped before returning."""
    from moto.server import ThreadedMotoServer

    from lfv_workbench.simulator import ScenarioWarning, SimulatorControl, SimulatorServer
    from lfv_workbench.testing.faultproxy import FaultProxy

    wall_start = time.monotonic()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto server's request lines
    warnings.filterwarnings("ignore", category=ScenarioWarning)  # PAUSED is on purpose
    rng = random.Random(config.seed)
    jobs = config.jobs if config.jobs is not None else 30 + config.cycles // 10
    scenario = make_scenario(rng, config.cycles, config.interval, jobs)
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    simulator = SimulatorServer(host="127.0.0.1", port=0, speed=0).start()
    log_dir = config.log_dir or Path(tempfile.mkdtemp(prefix="lfv-soak-"))
    log_dir.mkdir(parents=True, exist_ok=True)
    try:
        moto_url = f"http://127.0.0.1:{moto._server.server_port}"  # type: ignore[union-attr]
        proxy = FaultProxy(
            moto_url, seed=rng.randrange(2**31), max_consecutive=MAX_CONSECUTIVE_FAULTS
        )
        proxy.start()
        try:
            control = SimulatorControl(simulator.url)
            control.load_scenario(scenario)
            env = {
                "AWS_ACCESS_KEY_ID": "soak-fake-key-id",
                "AWS_SECRET_ACCESS_KEY": "soak-fake-secret",
                "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_REGION": "us-east-1",
                "AWS_CONFIG_FILE": "/dev/null",
                "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
                "AWS_ENDPOINT_URL": proxy.url,
                "AWS_ENDPOINT_URL_LOOKOUTVISION": simulator.url,
                "EVENT_BUS_NAME": BUS,
                "LFV_RATE_PER_SECOND": "100",
                # The watch between ticks sleeps on the wall clock; the soak's ticks are virtual.
                "ACTIVE_POLL_INTERVAL": "0",
                "POWERTOOLS_METRICS_DISABLED": "true",
                "POWERTOOLS_LOG_LEVEL": "WARNING",
            }
            with patched_environ(env):
                stack = _Stack(moto_url)
                env.update(TABLE_NAME=stack.table, TOPIC_ARN=stack.topic_arn)
                with patched_environ(env):
                    return _run(
                        config, scenario, rng, control, proxy, stack, env, log_dir, wall_start
                    )
        finally:
            proxy.stop()
    finally:
        simulator.stop()
        moto.stop()


def _plan(rng: random.Random, config: SoakConfig) -> list[str]:
    kinds = ["clean"]
    degraded_run = 0
    for _ in range(1, config.cycles):
        kind = rng.choices(KINDS, WEIGHTS)[0]
        if kind in ("lfv", "crash") and degraded_run >= MAX_DEGRADED_RUN:
            kind = "wire"
        degraded_run = degraded_run + 1 if kind in ("lfv", "crash") else 0
        kinds.append(kind)
    return kinds + ["clean"] * config.clean_tail


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


def _coverage_rule(kind: str, service: str, phase: str) -> Any:
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


def _wire_faults(rng: random.Random, timeouts_left: int) -> tuple[list[Any], bool]:
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


def _run(  # noqa: PLR0917
    config: SoakConfig,
    scenario: dict[str, Any],
    rng: random.Random,
    control: Any,
    proxy: Any,
    stack: _Stack,
    env: dict[str, str],
    log_dir: Path,
    wall_start: float,
) -> SoakResult:
    from lfv_monitor.bootstrap import build_monitor
    from lfv_monitor.handlers.poll import lambda_handler
    from lfv_monitor.lambda_context import LocalContext, scheduled_event

    kinds = _plan(rng, config)
    timeouts_left = (
        config.timeout_faults if config.timeout_faults is not None else max(1, config.cycles // 100)
    )
    # Every invocation runs on the simulator's virtual time: a cycle every ``interval`` virtual
    # seconds, so outbox leases (one period) expire as they would between real ticks.
    virtual_now: list[datetime] = [datetime.now(UTC)]
    monitor = build_monitor(clock=lambda: virtual_now[0])  # the warm container
    records: list[CycleRecord] = []
    deliveries: dict[str, list[tuple[int, dict[str, Any]]]] = {c: [] for c in CHANNELS}
    faults: Counter[str] = Counter()
    current: list[CycleRecord] = []
    coverage = list(COVERAGE)
    cover: Any = None  # the coverage rule waiting to fire

    def on_fault(kind: str, service: str, operation: str) -> None:
        if current and kind in ("reset_after", "delay_after") and service in ("events", "sns"):
            current[0].lost_response = True

    proxy.on_fault = on_fault
    for index, kind in enumerate(kinds):
        control.advance(config.interval)
        at = (index + 1) * config.interval
        virtual_now[0] = datetime.fromisoformat(control.clock()["time"].replace("Z", "+00:00"))
        env = {**env, "LFV_MONITOR_NOW": virtual_now[0].isoformat()}
        record = CycleRecord(index, kind, at, time.time())
        current[:] = [record]
        proxy.clear()
        lfv = _lfv_faults(rng if kind == "lfv" else None)
        control.set_faults(lfv)
        if kind in ("wire", "lfv", "crash") and index > 0:
            rules, used = _wire_faults(rng, timeouts_left)
            timeouts_left -= int(used)
            if kind != "crash" and cover is None and coverage:
                cover = _coverage_rule(*coverage.pop(0))
                timeouts_left -= int(cover.kind == "delay")
            if kind != "crash" and cover is not None:
                rules.insert(0, cover)
            proxy.set_faults(rules)
        if kind in ("clean", "wire", "lfv"):
            try:
                lambda_handler(scheduled_event(), LocalContext(), service=monitor)
            except Exception as exc:
                record.unhandled.append(f"cycle {index}: {type(exc).__name__}: {exc}")
        elif kind == "crash":
            operation, phase = rng.choice(KILL_POINTS)
            nth = rng.randint(1, 2)
            proc = _spawn(env, log_dir, index, "a")
            proxy.arm_kill(proc[0].pid, operation, nth, phase)
            _wait(proc, record)
            record.killed = proxy.disarm()
            if record.killed:
                record.kill_point = f"{operation}#{nth}:{phase}"
                faults["crash (SIGKILL)"] += 1
                faults[f"crash at {operation} {phase}"] += 1
        else:  # overlap: two invocations at once on the same store
            procs = [_spawn(env, log_dir, index, tag) for tag in ("a", "b")]
            for proc in procs:
                _wait(proc, record)
            faults["overlapping invocations"] += 1
        record.ended = time.time()
        records.append(record)
        if cover is not None and cover.used:
            cover = None
        for channel in CHANNELS:
            deliveries[channel] += [(index, d) for d in stack.drain(channel)]
    for key, value in proxy.injected.items():
        if ":" not in key:
            faults[f"wire {key}"] += value
    state = control.state()
    for key, value in state.get("faults_injected", {}).items():
        faults[f"lookoutvision {key}"] += value
    return _ledger(config, scenario, state, records, deliveries, faults, monitor, wall_start)


def _spawn(env: dict[str, str], log_dir: Path, index: int, tag: str) -> tuple[Any, Path, Path]:
    report = log_dir / f"cycle-{index:04d}{tag}.json"
    log = log_dir / f"cycle-{index:04d}{tag}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "lfv_workbench.testing.cycle_process", str(report)],
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return proc, report, log


def _wait(proc: tuple[Any, Path, Path], record: CycleRecord) -> None:
    process, _, log = proc
    code = process.wait(timeout=600)
    if code not in (0, -9):
        tail = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-3:]
        record.unhandled.append(f"cycle {record.index} (subprocess exit {code}): {tail}")


def _expected(job: dict[str, Any], times: list[float]) -> list[tuple[str, str | None]]:
    """Distinct states of ``job`` at the cycle times, and REMOVED once if it disappeared while
    the monitor still held it in progress."""
    history = job["history"]
    states: list[tuple[str, str | None]] = []
    gone_at = None
    for t in times:
        reached = [h for h in history if h["at"] <= t]
        if not reached:
            continue
        if gone_at is not None or not _exists(job, t):
            gone_at = gone_at or t
            continue
        state = (reached[-1]["status"], reached[-1]["message"])
        if not states or states[-1] != state:
            states.append(state)
    if gone_at is not None and states and states[-1][0] not in ("SUCCEEDED", "FAILED"):
        states.append(("REMOVED", None))
    return states


def _exists(job: dict[str, Any], t: float) -> bool:
    deleted = job.get("_deleted_at")
    return deleted is None or t < deleted


def _ledger(  # noqa: PLR0917
    config: SoakConfig,
    scenario: dict[str, Any],
    state: dict[str, Any],
    records: list[CycleRecord],
    deliveries: dict[str, list[tuple[int, dict[str, Any]]]],
    faults: Counter[str],
    monitor: Any,
    wall_start: float,
) -> SoakResult:
    from lfv_monitor.domain.models import JobKey

    scenario_deleted = _deletions(scenario)
    times = sorted({r.at for r in records})
    store = monitor.cycle.store
    lost: list[str] = []
    extra: list[str] = []
    changes = recorded = 0
    announced: dict[str, tuple[str, int]] = {}  # event id -> (job, cycle recorded)
    for job in state["jobs"]:
        job["_deleted_at"] = scenario_deleted.get((job["project"], job["job"]))
        expected = _expected(job, times)
        history = store.history(JobKey(job["project"], job["job"]))
        got = [(c.status, None if c.status == "REMOVED" else c.status_message) for c in history]
        name = f"{job['project']}/{job['job']}"
        changes += len(expected)
        recorded += len(history)
        for item in expected:
            if item not in got:
                lost.append(
                    f"{name} {item[0]} {str(item[1])[:40]!r} (history: "
                    + ", ".join(
                        f"v{c.version} {c.status} {str(c.status_message)[:20]!r}" for c in history
                    )
                    + ")"
                )
        for item in got:
            if item not in expected:
                extra.append(f"{name} {item[0]} {str(item[1])[:40]!r}")
        for change in history:
            if change.announce:
                announced[change.event_id] = (name, _cycle_of(change.observed_at, records))
    unhandled = [u for r in records for u in r.unhandled]
    delivered: dict[str, int] = {}
    copies: dict[str, int] = {}
    duplicates: list[dict[str, Any]] = []
    id_conflicts: set[str] = set()
    undelivered: list[str] = []
    late: list[str] = []
    max_lag = max_clean_lag = 0
    for channel in CHANNELS:
        first: dict[str, int] = {}
        by_change: dict[tuple[Any, ...], set[str]] = {}
        for index, detail in deliveries[channel]:
            event_id = detail.get("eventId")
            key = (
                detail.get("projectName"),
                detail.get("jobName"),
                detail.get("status"),
                detail.get("statusMessage"),
                detail.get("previousStatus"),
            )
            by_change.setdefault(key, set()).add(str(event_id))
            if event_id in first:
                duplicates.append(
                    {
                        "channel": channel,
                        "event_id": str(event_id)[:12],
                        "cycles": (first[event_id], index),
                        "cause": _cause(records, first[event_id], index),
                    }
                )
            else:
                first[str(event_id)] = index
        id_conflicts |= {f"{channel} {k[:3]}" for k, ids in by_change.items() if len(ids) > 1}
        delivered[channel] = len(first)
        copies[channel] = len(deliveries[channel])
        for event_id, (name, cycle) in announced.items():
            if event_id not in first:
                undelivered.append(f"{channel} {name} {event_id[:12]}")
                continue
            lag = first[event_id] - cycle
            clean = sum(1 for r in records[cycle + 1 : first[event_id] + 1] if r.clean)
            max_lag, max_clean_lag = max(max_lag, lag), max(max_clean_lag, clean)
            if clean > 2:
                late.append(f"{channel} {name} after {clean} clean cycles")
        unknown = set(first) - set(announced)
        details = {str(d.get("eventId")): (i, d) for i, d in deliveries[channel]}
        for u in sorted(unknown):
            i, d = details[u]
            undelivered.append(
                f"{channel} delivered in cycle {i} but not in the store: {u[:12]} "
                f"{d.get('jobName')} v{d.get('version')} {d.get('previousStatus')}->"
                f"{d.get('status')} {str(d.get('statusMessage'))[:30]!r}"
            )
    return SoakResult(
        seed=config.seed,
        cycles=len(records),
        faults=faults,
        changes=changes,
        recorded=recorded,
        announced=len(announced),
        delivered=delivered,
        deliveries=copies,
        lost=lost,
        extra=extra,
        undelivered=undelivered,
        duplicates=duplicates,
        id_conflicts=sorted(id_conflicts),
        max_lag=max_lag,
        max_clean_lag=max_clean_lag,
        late=late,
        unhandled=unhandled,
        wall_seconds=time.monotonic() - wall_start,
    )


def _deletions(scenario: dict[str, Any]) -> dict[tuple[str, str], float]:
    """When each job stops existing (its own deletion or its project's), from the scenario."""
    out: dict[tuple[str, str], float] = {}
    for project in scenario["projects"]:
        for job in project["jobs"]:
            ends = [t for t in (job.get("deleted_at"), project.get("deleted_at")) if t is not None]
            if ends:
                out[(project["name"], job["name"])] = min(ends)
    return out


def _cycle_of(observed: datetime, records: list[CycleRecord]) -> int:
    ts = observed.astimezone(UTC).timestamp()
    for record in records:
        if record.started - 0.5 <= ts <= record.ended + 0.5:
            return record.index
    return len(records) - 1


def _cause(records: list[CycleRecord], first: int, again: int) -> str:
    window = records[first : again + 1]
    if any(r.killed for r in window):
        return "crash"
    if any(r.lost_response for r in window):
        return "lost_response"
    if any(r.kind == "overlap" for r in window):
        return "overlap"
    return "none"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lfv_workbench.testing.soak",
        description="Seeded fault soak of the monitor on the local emulators (127.0.0.1).",
    )
    parser.add_argument("--seed", type=int, default=1, help="RNG seed (default 1)")
    parser.add_argument("--cycles", type=int, default=500, help="faulty cycles (default 500)")
    parser.add_argument("--clean-tail", type=int, default=3, help="clean cycles at the end (3)")
    parser.add_argument("--jobs", type=int, default=None, help="jobs (default 30 + cycles/10)")
    parser.add_argument("--log-dir", type=Path, default=None, help="keep subprocess logs here")
    parser.add_argument(
        "--strict",
        action="store_true",
        help="fail on duplicates after overlapping invocations too (the known gap)",
    )
    args = parser.parse_args(argv)
    if args.cycles < 1 or args.clean_tail < 1:
        parser.error("--cycles and --clean-tail must be at least 1")
    if args.jobs is not None and args.jobs < 1:
        parser.error("--jobs must be at least 1")
    result = run_soak(
        SoakConfig(
            seed=args.seed,
            cycles=args.cycles,
            clean_tail=args.clean_tail,
            jobs=args.jobs,
            log_dir=args.log_dir,
        )
    )
    result.strict = args.strict
    print(result.render())
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
