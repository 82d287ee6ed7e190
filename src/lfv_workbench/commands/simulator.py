"""``lfv-monitor simulator``: serve Lookout for Vision on the wire, with a virtual clock."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from types import FrameType
from typing import Any

DEFAULT_PORT = 4510


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "simulator",
        help="run the Amazon Lookout for Vision simulator",
        description=(
            "Serve the seven Lookout for Vision operations over the real rest-json protocol, so "
            "boto3 and the AWS CLI work against it with --endpoint-url. Jobs follow the "
            "scenario's timelines on a virtual clock; a control API under /_simulator/ advances "
            "the clock, loads scenarios, sets faults and shows the state (docs/simulator.md). "
            "Prints one JSON line with the URL when ready; stops on Ctrl-C or SIGTERM."
        ),
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind (default 127.0.0.1; any other address is reachable from the "
        "network and prints a warning: the simulator has no authentication)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"TCP port (default {DEFAULT_PORT}; 0 picks a free one)",
    )
    parser.add_argument(
        "--scenario",
        metavar="FILE",
        help="scenario file (JSON) with projects, job timelines and faults "
        "(default: an empty account; the packaged example is at "
        "src/lfv_workbench/simulator/scenarios/example.json)",
    )
    parser.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help="how many virtual seconds pass per wall-clock second (default 1; 0 freezes time "
        "until POST /_simulator/clock advances it)",
    )
    parser.set_defaults(func=run)


def _refusal(args: argparse.Namespace) -> str | None:
    """What is wrong with the arguments, or None."""
    if not 0 <= args.port <= 65535:
        return f"--port must be between 0 and 65535, got {args.port}"
    if args.speed < 0:
        return f"--speed must be >= 0, got {args.speed}"
    return None


def _scenario(args: argparse.Namespace) -> Any:
    """The scenario file, loaded and checked (its warnings on stderr); None without one."""
    from lfv_workbench.simulator import load_scenario_file

    if not args.scenario:
        return None
    scenario = load_scenario_file(args.scenario)
    for warning in scenario.warnings():
        print(f"WARNING: {args.scenario}: {warning}", file=sys.stderr)
    return scenario


def _serve_until_stopped(server: Any) -> None:
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.stop()


def run(args: argparse.Namespace) -> int:
    from lfv_workbench.serving import warn_unless_loopback
    from lfv_workbench.simulator import ScenarioError, SimulatorServer

    refusal = _refusal(args)
    if refusal:
        print(f"lfv-monitor simulator: {refusal}", file=sys.stderr)
        return 2
    warn_unless_loopback(
        args.host, "the simulator", "can read and change its state (it has no authentication)"
    )
    try:
        scenario = _scenario(args)
    except ScenarioError as exc:
        print(f"lfv-monitor simulator: scenario refused: {exc}", file=sys.stderr)
        return 2
    server = SimulatorServer(host=args.host, port=args.port, scenario=scenario, speed=args.speed)
    try:
        server.start()
    except OSError as exc:
        print(
            f"lfv-monitor simulator: cannot listen on {args.host}:{args.port}: {exc.strerror}",
            file=sys.stderr,
        )
        return 1
    ready = {
        "simulator_url": server.url,
        "control_url": f"{server.url}/_simulator",
        "scenario": args.scenario,
        "speed": args.speed,
        "start_time": server.clock.iso(0),
    }
    print(json.dumps(ready), flush=True)
    _serve_until_stopped(server)
    return 0
