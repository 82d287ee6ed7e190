"""The embedded local stack: moto server + the simulator + template.yaml's resources, on loopback.

``LocalStack`` is what ``lfv-monitor local up``, ``lfv-monitor demo`` and the tests start::

    with LocalStack(speed=0, scenario="demo.json") as stack:
        info = stack.info          # endpoints, resource names, capture queues
        os.environ.update(info.env())
        ...

Everything runs in this process (moto's server and ``SimulatorServer`` are threads), so
stopping it leaves nothing behind.

A scenario with ``accounts`` is an organization: moto plays STS and IAM for every account, the
member role (``lfv-monitor-reader``) is created in each member account whose entries say
``member_role`` (``local/accounts.py``), and the simulator tells the accounts apart by moto's
own mapping of access keys (an assumed role's keys are the member's).
"""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import boto3

from lfv_workbench.local.accounts import (
    MONITOR_ACCOUNT,
    LocalAwsServer,
    create_member_roles,
    resolve_account,
)
from lfv_workbench.local.audit_api import LocalAuditApi, serve_audit_api
from lfv_workbench.simulator import (
    Scenario,
    SimulatorControl,
    SimulatorServer,
    load_scenario_file,
    parse_scenario,
)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_AWS_PORT = 4511
DEFAULT_SIMULATOR_PORT = 4510
DEFAULT_API_PORT = 4512
DEFAULT_REGION = "us-east-1"
DEFAULT_STACK_NAME = "lfv-monitor"
#: Fixed local credentials (moto accepts any): nothing here may sign with a developer's own.
LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
EVENTS_QUEUE = "lfv-local-events"
NOTIFICATIONS_QUEUE = "lfv-local-notifications"
CAPTURE_RULE = "lfv-local-capture-all"
#: Matches every event on the bus (every event has an account).
CATCH_ALL_PATTERN = {"account": [{"exists": True}]}


if TYPE_CHECKING:  # the deployment needs the `local` extra (PyYAML, aws-sam-translator)
    from lfv_workbench.local.stack import StackOutputs


class LocalStackError(Exception):
    """The local stack could not start (a port in use, no template, a failed deployment)."""


def default_template_path() -> Path:
    """The template.yaml shipped in the wheel (setup.py copies it), else the source checkout's:
    the same file whatever the current directory."""
    here = Path(__file__).resolve()
    candidates = [here.parent / "packaged" / "template.yaml", here.parents[3] / "template.yaml"]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise LocalStackError(
        "template.yaml not found (looked in "
        + ", ".join(str(c) for c in candidates)
        + "); reinstall lfv-monitor or pass the template's path"
    )


@dataclass(frozen=True)
class LocalStackInfo:
    """Where everything is: what ``local up`` prints as its JSON line."""

    simulator_url: str
    control_url: str
    aws_endpoint_url: str
    region: str
    stack_name: str
    table_name: str
    event_bus_name: str
    topic_arn: str
    events_queue_url: str
    notifications_queue_url: str
    capture_rule_name: str
    speed: float
    start_time: str
    #: The audit API (SigV4 with the local credentials, service execute-api), stage included.
    api_url: str = ""
    #: Every account and region the simulator serves, as ``account:region`` (the monitoring
    #: account's first); one entry for a single-account scenario.
    targets: tuple[str, ...] = ()
    #: The member roles created (ARNs); a member account without one has none here.
    member_roles: tuple[str, ...] = ()

    def env(self) -> dict[str, str]:
        """The variables that point ``lfv-monitor poll``, boto3 and the AWS CLI at the stack."""
        return {
            "AWS_ENDPOINT_URL": self.aws_endpoint_url,
            "AWS_ENDPOINT_URL_LOOKOUTVISION": self.simulator_url,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            **LOCAL_CREDENTIALS,
            "TABLE_NAME": self.table_name,
            "EVENT_BUS_NAME": self.event_bus_name,
            "TOPIC_ARN": self.topic_arn,
        }

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "env": self.env()}


def _check_port_free(host: str, port: int, what: str) -> None:
    """Fail early with a clear message (moto's server thread would otherwise hang on start)."""
    if port == 0:
        return
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise LocalStackError(
                f"cannot listen on {host}:{port} for the {what}: {exc.strerror} "
                f"(pass another port, or 0 for any free one)"
            ) from exc


class LocalStack:
    """moto server and the simulator on ``host``, with template.yaml's resources deployed and
    two capture queues: ``events_queue_url`` (a catch-all rule on the bus) and
    ``notifications_queue_url`` (subscribed to the topic, SNS envelope kept)."""

    def __init__(
        self,
        *,
        host: str = DEFAULT_HOST,
        aws_port: int = 0,
        simulator_port: int = 0,
        api_port: int = 0,
        speed: float = 1.0,
        scenario: Scenario | dict[str, Any] | str | Path | None = None,
        template: Path | None = None,
        parameters: dict[str, str] | None = None,
        region: str = DEFAULT_REGION,
        stack_name: str = DEFAULT_STACK_NAME,
    ) -> None:
        if speed < 0:
            raise LocalStackError(f"speed must be >= 0, got {speed}")
        self.host = host
        self.aws_port = aws_port
        self.simulator_port = simulator_port
        self.api_port = api_port
        self.speed = speed
        self.scenario = _as_scenario(scenario)
        self.template = template
        self.parameters = dict(parameters or {})
        self.region = region
        self.stack_name = stack_name
        self._moto: LocalAwsServer | None = None
        self._simulator: SimulatorServer | None = None
        self._api: LocalAuditApi | None = None
        self._info: LocalStackInfo | None = None
        self.outputs: StackOutputs | None = None

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> LocalStackInfo:
        from lfv_workbench.local.stack import deploy_stack
        from lfv_workbench.local.template import load_template

        _check_organization(self.scenario)
        template = self.template or default_template_path()
        parameters = organization_parameters(
            self.scenario, load_template(template).get("Parameters") or {}, self.parameters
        )
        _check_port_free(self.host, self.aws_port, "AWS emulator (moto)")
        _check_port_free(self.host, self.simulator_port, "simulator")
        _check_port_free(self.host, self.api_port, "audit API")
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        try:
            self._moto = LocalAwsServer(self.host, self.aws_port)
            self._moto.start()
            _, aws_port = self._moto.get_host_and_port()
            endpoint = f"http://{_url_host(self.host)}:{aws_port}"
            self._simulator = SimulatorServer(
                host=self.host,
                port=self.simulator_port,
                scenario=self.scenario,
                speed=self.speed,
                resolve_account=resolve_account,
            )
            self._simulator.start()
            self.outputs = deploy_stack(
                endpoint, template, parameters, self.stack_name, self.region
            )
            member_roles = create_member_roles(
                endpoint, self._member_role_accounts(), credentials=LOCAL_CREDENTIALS
            )
            events_queue, notifications_queue = self._capture(endpoint, self.outputs)
            self._api = serve_audit_api(
                self.outputs.table_name,
                self.client("dynamodb", endpoint),
                credentials=LOCAL_CREDENTIALS,
                region=self.region,
                host=self.host,
                port=self.api_port,
            )
        except BaseException:
            self.stop()
            raise
        self._info = LocalStackInfo(
            simulator_url=self._simulator.url,
            control_url=f"{self._simulator.url}/_simulator",
            aws_endpoint_url=endpoint,
            region=self.region,
            stack_name=self.stack_name,
            table_name=self.outputs.table_name,
            event_bus_name=self.outputs.event_bus_name,
            topic_arn=self.outputs.topic_arn,
            events_queue_url=events_queue,
            notifications_queue_url=notifications_queue,
            capture_rule_name=CAPTURE_RULE,
            speed=self.speed,
            start_time=self._simulator.clock.iso(0),
            api_url=self._api.url,
            targets=tuple(org_targets(self.scenario)),
            member_roles=tuple(member_roles),
        )
        return self._info

    def _member_role_accounts(self) -> list[str]:
        if self.scenario is None:
            return []
        return [a for a in self.scenario.member_role_accounts() if a != MONITOR_ACCOUNT]

    def stop(self) -> None:
        """Stop the servers (idempotent)."""
        if self._api is not None:
            self._api.stop()
            self._api = None
        if self._simulator is not None:
            self._simulator.stop()
            self._simulator = None
        if self._moto is not None:
            self._moto.stop()
            self._moto = None

    def __enter__(self) -> LocalStack:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- access --------------------------------------------------------------------------
    @property
    def info(self) -> LocalStackInfo:
        if self._info is None:
            raise LocalStackError("the local stack is not started")
        return self._info

    @property
    def control(self) -> SimulatorControl:
        """The simulator's control API (clock, scenario, faults, state)."""
        return SimulatorControl(self.info.simulator_url)

    def client(self, service: str, endpoint: str | None = None) -> Any:
        """A boto3 client for ``service`` on the AWS emulator, with the local credentials."""
        session = boto3.session.Session(
            aws_access_key_id=LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            region_name=self.region,
        )
        make: Any = session.client
        return make(service, endpoint_url=endpoint or self.info.aws_endpoint_url)

    # -- capture queues ------------------------------------------------------------------
    def _capture(self, endpoint: str, outputs: StackOutputs) -> tuple[str, str]:
        session = boto3.session.Session(
            aws_access_key_id=LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            region_name=self.region,
        )
        make: Any = session.client
        sqs = make("sqs", endpoint_url=endpoint)
        events = make("events", endpoint_url=endpoint)
        sns = make("sns", endpoint_url=endpoint)

        def queue(name: str) -> tuple[str, str]:
            url: str = sqs.create_queue(QueueName=name)["QueueUrl"]
            arn: str = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
                "Attributes"
            ]["QueueArn"]
            return url, arn

        events_url, events_arn = queue(EVENTS_QUEUE)
        notifications_url, notifications_arn = queue(NOTIFICATIONS_QUEUE)
        events.put_rule(
            Name=CAPTURE_RULE,
            EventBusName=outputs.event_bus_name,
            EventPattern=json.dumps(CATCH_ALL_PATTERN),
            Description="lfv-monitor local: every event on the bus, into the capture queue",
        )
        events.put_targets(
            Rule=CAPTURE_RULE,
            EventBusName=outputs.event_bus_name,
            Targets=[{"Id": "capture", "Arn": events_arn}],
        )
        # Raw delivery off: the queue gets SNS's envelope (Subject, MessageAttributes, Message).
        sns.subscribe(
            TopicArn=outputs.topic_arn,
            Protocol="sqs",
            Endpoint=notifications_arn,
            Attributes={"RawMessageDelivery": "false"},
        )
        return events_url, notifications_url


def _as_scenario(value: Scenario | dict[str, Any] | str | Path | None) -> Scenario | None:
    if value is None or isinstance(value, Scenario):
        return value
    if isinstance(value, dict):
        return parse_scenario(value)
    return load_scenario_file(value)


def _check_organization(scenario: Scenario | None) -> None:
    """An organization's top level is the monitoring account: moto's default account (the local
    credentials' account, where the stack is deployed)."""
    if scenario is not None and scenario.accounts and scenario.account_id != MONITOR_ACCOUNT:
        raise LocalStackError(
            f"scenario: account_id: an organization scenario's top level is the monitoring "
            f"account, which the local stack runs in: {MONITOR_ACCOUNT}, got "
            f"{scenario.account_id}"
        )


def organization_parameters(
    scenario: Scenario | None, declared: Mapping[str, Any], given: Mapping[str, str]
) -> dict[str, str]:
    """The template parameters to deploy with: ``given``, plus, for an organization scenario
    and a template that declares ``Targets`` (multi-target mode), every account and region the
    scenario serves as the targets (unless ``given`` sets them)."""
    parameters = dict(given)
    if scenario is not None and scenario.accounts and "Targets" in declared:
        parameters.setdefault("Targets", ",".join(org_targets(scenario)))
    return parameters


def org_targets(scenario: Scenario | None) -> list[str]:
    """Every account and region ``scenario`` serves, as ``account:region`` (the top level
    first); ``[]`` without a scenario."""
    if scenario is None:
        return []
    return [f"{world.account_id}:{world.region}" for world in scenario.worlds()]


def _url_host(host: str) -> str:
    """The host to put in URLs: a wildcard bind is reached through loopback."""
    if host in ("0.0.0.0", "::", ""):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def drain(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    """Receive and delete every message in ``queue_url``; return the JSON bodies."""
    bodies: list[dict[str, Any]] = []
    while True:
        messages = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
        ).get("Messages", [])
        if not messages:
            return bodies
        for message in messages:
            bodies.append(json.loads(message["Body"]))
        sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)
            ],
        )
