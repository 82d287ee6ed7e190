"""``lfv-monitor local up``: the whole stack on 127.0.0.1, for experiments (no AWS account)."""

from __future__ import annotations

import argparse
import contextlib
import json
import shlex
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "local",
        help="run the embedded local stack (moto + the simulator + template.yaml's resources)",
        description="The embedded local stack: everything lfv-monitor needs, on this machine.",
    )
    sub = parser.add_subparsers(dest="local_command", metavar="COMMAND", required=True)
    from lfv_workbench.local.up import (
        DEFAULT_API_PORT,
        DEFAULT_AWS_PORT,
        DEFAULT_HOST,
        DEFAULT_REGION,
        DEFAULT_SIMULATOR_PORT,
    )

    up = sub.add_parser(
        "up",
        help="start moto server and the simulator, deploy template.yaml, print one JSON line",
        description=(
            "Start, in this process, moto in server mode (DynamoDB, EventBridge, SNS, SQS, "
            "CloudFormation, ...) and the Lookout for Vision simulator; create template.yaml's "
            "resources in moto (the Lambda function and its schedule excepted: run cycles with "
            "`lfv-monitor poll`); subscribe a capture SQS queue to the topic and a catch-all "
            "rule on the bus to another. When ready, print ONE JSON line with every endpoint and "
            "resource name and an `env` object to export, then stay up until Ctrl-C or SIGTERM."
        ),
    )
    up.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help=f"address to bind (default {DEFAULT_HOST}; any other address is reachable from the "
        "network and prints a warning: the emulators have no authentication)",
    )
    up.add_argument(
        "--aws-port",
        type=int,
        default=DEFAULT_AWS_PORT,
        help=f"port of the AWS emulator, moto (default {DEFAULT_AWS_PORT}; 0 picks a free one)",
    )
    up.add_argument(
        "--simulator-port",
        type=int,
        default=DEFAULT_SIMULATOR_PORT,
        help=f"port of the simulator (default {DEFAULT_SIMULATOR_PORT}; 0 picks a free one)",
    )
    up.add_argument(
        "--api-port",
        type=int,
        default=DEFAULT_API_PORT,
        help=f"port of the audit API (default {DEFAULT_API_PORT}; 0 picks a free one): the "
        "stack's API handler behind SigV4 checked against the local credentials",
    )
    up.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help="virtual seconds per wall second on the simulator's clock (default 1; 0 freezes it "
        "until POST /_simulator/clock moves it)",
    )
    scenario = up.add_mutually_exclusive_group()
    scenario.add_argument(
        "--scenario",
        metavar="FILE",
        help="scenario for the simulator (default: the packaged demo scenario; see "
        "docs/simulator.md for the format)",
    )
    scenario.add_argument(
        "--org",
        action="store_true",
        help="serve the packaged organization instead: the monitoring account and two member "
        "accounts in two regions, the member role created in one member and missing in the "
        "other (src/lfv_workbench/simulator/scenarios/org.json)",
    )
    up.add_argument(
        "--template",
        metavar="FILE",
        type=Path,
        help="the SAM template (default: the one installed with lfv-monitor, else the source "
        "checkout's)",
    )
    up.add_argument("--region", default=DEFAULT_REGION, help=f"region (default {DEFAULT_REGION})")
    up.set_defaults(func=run_up)


def run_up(args: argparse.Namespace) -> int:
    from lfv_monitor.commands.streams import logs_to_stderr
    from lfv_workbench.local.stack import StackDeployError
    from lfv_workbench.local.up import LocalStack, LocalStackError
    from lfv_workbench.serving import warn_unless_loopback
    from lfv_workbench.simulator import (
        ScenarioError,
        demo_scenario_path,
        load_scenario_file,
        org_scenario_path,
    )

    problem = _bad_flags(args)
    if problem:
        print(f"lfv-monitor local up: {problem}", file=sys.stderr)
        return 2
    warn_unless_loopback(
        args.host,
        "the local stack",
        "can read and change its data (the emulators have no authentication)",
    )
    scenario_path = args.scenario or str(org_scenario_path() if args.org else demo_scenario_path())
    try:
        scenario = load_scenario_file(scenario_path)
    except ScenarioError as exc:
        print(f"lfv-monitor local up: scenario {scenario_path} refused: {exc}", file=sys.stderr)
        return 2
    for warning in scenario.warnings():
        print(f"WARNING: {scenario_path}: {warning}", file=sys.stderr)

    stack = LocalStack(
        host=args.host,
        aws_port=args.aws_port,
        simulator_port=args.simulator_port,
        api_port=args.api_port,
        speed=args.speed,
        scenario=scenario,
        template=args.template,
        region=args.region,
    )
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, _stop)
    # stdout carries the JSON line only: whatever the emulators print goes to stderr.
    answer = sys.stdout
    try:
        try:
            with contextlib.redirect_stdout(sys.stderr):
                info = stack.start()
        except (LocalStackError, StackDeployError) as exc:
            print(f"lfv-monitor local up: {exc}", file=sys.stderr)
            return 1
        print(json.dumps({**info.as_dict(), "scenario": scenario_path}), file=answer, flush=True)
        sys.stdout = sys.stderr
        logs_to_stderr(verbose=False)  # the API handler's logger was built on the real stdout
        print(_hints(info), file=sys.stderr, flush=True)
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        try:
            stack.stop()
        finally:
            sys.stdout = answer
    return 0


def _bad_flags(args: argparse.Namespace) -> str | None:
    if args.speed < 0:
        return f"--speed must be >= 0, got {args.speed}"
    for flag in ("aws_port", "simulator_port", "api_port"):
        if not 0 <= getattr(args, flag) <= 65535:
            return "--" + flag.replace("_", "-") + " must be 0-65535"
    return None


def _hints(info: Any) -> str:
    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in info.env().items())
    return (
        "\nThe local stack is up (Ctrl-C stops it). In another shell:\n"
        f"  export {exports}\n"
        "  lfv-monitor poll                                   # one cycle, as the Lambda\n"
        "  curl -s -XPOST -H 'Content-Type: application/json' "
        f"{info.control_url}/clock -d '{{\"advance\": 60}}'\n"
        f"  aws dynamodb scan --table-name {info.table_name} --endpoint-url "
        f"{info.aws_endpoint_url}\n"
        f"  aws sqs receive-message --queue-url {info.events_queue_url} "
        f"--endpoint-url {info.aws_endpoint_url}\n"
        f"  audit API (SigV4, service execute-api, the credentials above): {info.api_url}"
        + _organization_hints(info)
    )


def _organization_hints(info: Any) -> str:
    """What an organization scenario adds: its targets, the member roles, a member's call."""
    if len(info.targets) < 2:
        return ""
    member = info.targets[1].split(":")
    return (
        f"\nOrganization: targets {', '.join(info.targets)}; member roles "
        f"{', '.join(info.member_roles) or 'none'} (AssumeRole of any other is AccessDenied).\n"
        f"  AWS_ACCESS_KEY_ID={member[0]} aws lookoutvision list-projects --region {member[1]} "
        f"--endpoint-url {info.simulator_url}   # as that member (or with an assumed role's keys)"
    )
