"""The soak's runner: the servers on 127.0.0.1, the warm monitor, the cycles and the crashes.

Each cycle advances the simulator's clock by one period, sets the cycle's faults (``plan``),
may write a malformed item into the table (``poison``), then runs the Lambda handler in-process
(clean, wire, lfv, denied, unreachable and store cycles), in a subprocess the fault proxy
SIGKILLs at the planned request or response (crash), or in two subprocesses at once (overlap);
each invocation's report (its health verdict) is kept, the faults that fired are counted, and
what reached each channel's queue is drained after every cycle for the ledger.
"""

from __future__ import annotations

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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lfv_workbench.local.emulated import create_monitor_table, patched_environ
from lfv_workbench.soak.ledger import CHANNELS, CycleRecord, SoakResult, ledger, loses_response
from lfv_workbench.soak.plan import (
    IN_PROCESS,
    MAX_CONSECUTIVE_FAULTS,
    FaultPlanner,
    SoakConfig,
    plan_kinds,
)
from lfv_workbench.soak.poison import Poisoner
from lfv_workbench.soak.scenario import make_scenario

BUS = "lfv-soak-bus"


class SoakStack:
    """The soak's AWS side on moto: the table, the bus with a rule to a queue, the topic with
    a queue subscribed; ``drain(channel)`` empties a queue."""

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
                stack = SoakStack(moto_url)
                env.update(TABLE_NAME=stack.table, TOPIC_ARN=stack.topic_arn)
                with patched_environ(env):
                    soak = _Soak(
                        config=config,
                        planner=FaultPlanner(
                            rng, config, [p["name"] for p in scenario["projects"]]
                        ),
                        control=control,
                        proxy=proxy,
                        stack=stack,
                        env=env,
                        log_dir=log_dir,
                    )
                    soak.run(plan_kinds(rng, config))
                    state = control.state()
                    return ledger(
                        seed=config.seed,
                        state=state,
                        records=soak.records,
                        deliveries=soak.deliveries,
                        faults=soak.faults + soak.injected(state),
                        store=soak.monitor.cycle.store,
                        wall_start=wall_start,
                    )
        finally:
            proxy.stop()
    finally:
        simulator.stop()
        moto.stop()


class _Soak:
    """The running soak: the warm monitor on the simulator's virtual time, the cycles so far."""

    def __init__(
        self,
        *,
        config: SoakConfig,
        planner: FaultPlanner,
        control: Any,
        proxy: Any,
        stack: SoakStack,
        env: dict[str, str],
        log_dir: Path,
    ) -> None:
        from lfv_monitor.bootstrap import build_monitor

        self.config = config
        self.control = control
        self.proxy = proxy
        self.stack = stack
        self.env = env
        self.log_dir = log_dir
        self.planner = planner
        self.poisoner = Poisoner(stack.ddb, stack.table)
        self.counts: Counter[str] = Counter()  # faults fired so far (simulator and proxy)
        self.jobs: list[tuple[str, str]] = []  # the service's jobs after the last cycle
        # Every invocation runs on the simulator's virtual time: a cycle every ``interval``
        # virtual seconds, so outbox leases (one period) expire as they would between ticks.
        self.virtual_now = datetime.now(UTC)
        self.monitor = build_monitor(clock=lambda: self.virtual_now)  # the warm container
        self.records: list[CycleRecord] = []
        self.deliveries: dict[str, list[tuple[int, dict[str, Any]]]] = {c: [] for c in CHANNELS}
        self.faults: Counter[str] = Counter()
        self.current: CycleRecord | None = None
        proxy.on_fault = self._on_fault

    def _on_fault(self, kind: str, service: str, operation: str) -> None:
        if self.current and loses_response(kind, service):
            self.current.lost_response = True

    def run(self, kinds: list[str]) -> None:
        for index, kind in enumerate(kinds):
            self.cycle(index, kind)

    def cycle(self, index: int, kind: str) -> None:
        self.control.advance(self.config.interval)
        at = (index + 1) * self.config.interval
        clock = self.control.clock()["time"].replace("Z", "+00:00")
        self.virtual_now = datetime.fromisoformat(clock)
        self.env = {**self.env, "LFV_MONITOR_NOW": self.virtual_now.isoformat()}
        record = self.current = CycleRecord(index, kind, at, time.time())
        self.proxy.clear()
        lfv = self.planner.lfv(kind)
        self.control.set_faults(lfv)
        rules = self.planner.wire(kind, index)
        if rules is not None:
            self.proxy.set_faults(rules)
        poison = self.planner.poison(kind, index)
        if poison is not None:
            record.poison = self.poisoner.write(poison, jobs=self.jobs, now=self.virtual_now)
            self.faults[f"poison {poison}"] += 1
        if kind in IN_PROCESS:
            self._in_process(record)
        elif kind == "crash":
            self._crash(record)
        else:  # overlap: two invocations at once on the same store
            self._overlap(record)
        record.ended = time.time()
        self._fired(record, lfv)
        self.records.append(record)
        self.planner.cycle_done()
        for channel in CHANNELS:
            self.deliveries[channel] += [(index, d) for d in self.stack.drain(channel)]

    def _in_process(self, record: CycleRecord) -> None:
        from lfv_monitor.handlers.poll import lambda_handler
        from lfv_monitor.lambda_context import LocalContext, scheduled_event

        try:
            record.reports.append(
                lambda_handler(scheduled_event(), LocalContext(), service=self.monitor)
            )
        except Exception as exc:
            record.unhandled.append(f"cycle {record.index}: {type(exc).__name__}: {exc}")

    def _crash(self, record: CycleRecord) -> None:
        operation, phase, nth = self.planner.kill_point()
        proc = _spawn(self.env, self.log_dir, record.index, "a")
        self.proxy.arm_kill(proc[0].pid, operation, nth, phase)
        _wait(proc, record)
        record.killed = self.proxy.disarm()
        if record.killed:
            record.kill_point = f"{operation}#{nth}:{phase}"
            self.faults["crash (SIGKILL)"] += 1
            self.faults[f"crash at {operation} {phase}"] += 1

    def _overlap(self, record: CycleRecord) -> None:
        procs = [_spawn(self.env, self.log_dir, record.index, tag) for tag in ("a", "b")]
        for proc in procs:
            _wait(proc, record)
        self.faults["overlapping invocations"] += 1

    def _fired(self, record: CycleRecord, lfv: dict[str, Any]) -> None:
        """What fired during the cycle that the monitor cannot get past, so its verdict must
        not be healthy; and the jobs the next cycle's poison may pick from."""
        state = self.control.state()
        self.jobs = [(j["project"], j["job"]) for j in state["jobs"] if j["exists"]]
        counts = Counter(
            {f"lfv {k}": v for k, v in state.get("faults_injected", {}).items()}
            | {f"wire {k}": v for k, v in self.proxy.injected.items()}
        )
        fired = counts - self.counts
        self.counts = counts
        if fired["lfv unreachable"]:
            record.outage, record.unseen = "Lookout for Vision unreachable", {"*"}
        elif fired["wire deny"]:
            record.outage, record.unseen = "the table refused writes", {"*"}
        elif fired["lfv denied"]:
            (project,) = {
                p
                for layer in lfv.values()
                if isinstance(layer, dict)
                for p in layer.get("denied_projects", [])
            }
            record.outage, record.unseen = f"project {project} denied", {project}

    def injected(self, state: dict[str, Any]) -> Counter[str]:
        """The faults the proxy and the simulator (its final ``state``) report injecting."""
        faults: Counter[str] = Counter()
        for key, value in self.proxy.injected.items():
            if ":" not in key:
                faults[f"wire {key}"] += value
        for key, value in state.get("faults_injected", {}).items():
            faults[f"lookoutvision {key}"] += value
        return faults


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
    process, report, log = proc
    code = process.wait(timeout=600)
    if code == 0 and report.exists():
        record.reports.append(json.loads(report.read_text(encoding="utf-8")))
    if code not in (0, -9):
        tail = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-3:]
        record.unhandled.append(f"cycle {record.index} (subprocess exit {code}): {tail}")
