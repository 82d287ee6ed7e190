"""``lfv-monitor demo`` (what ``make demo`` runs): the whole product, live, in about 20 seconds.

It starts the local stack (``lfv_workbench.local.up.LocalStack``: moto + the simulator +
template.yaml's resources) with the simulator's clock frozen, plays a scenario one virtual minute
per poll cycle through the Lambda handler (``lfv_workbench.demo.engine.play``), and shows each
change as the bus rule's queue receives it, and what an email reader and a Slack channel would
receive: only the statuses template.yaml's filters pass (``NotifyStatuses``, ``ChatStatuses``).
On a terminal the view is live (rich); otherwise (a pipe, CI) it prints plain lines; ``--json``
prints only the summary (the views: ``lfv_workbench.demo.views`` and ``.live``).  Exits 1 when
the simulator, the audit trail and the deliveries disagree.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from typing import TYPE_CHECKING, Any

from lfv_monitor.commands.safe_output import json_text

if TYPE_CHECKING:
    from lfv_workbench.demo.views import View

#: Wall seconds between cycles on a terminal, so a person can follow (0 elsewhere).
INTERACTIVE_PACE = 0.6


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "demo",
        help="watch the product work on the embedded local stack (no AWS account needed)",
        description=(
            "Start the embedded local stack (moto + the Lookout for Vision simulator + "
            "template.yaml's resources), play a scenario on the simulator's virtual clock and run "
            "the real poll cycle, through the Lambda handler, every virtual minute. Shows the "
            "jobs, each event the bus rule delivers, each notification an email reader and a "
            "Slack channel would receive (only the statuses template.yaml's NotifyStatuses and "
            "ChatStatuses pass), then one job's audit history and a summary: the changes the "
            "simulator made, the ones recorded in DynamoDB and the ones delivered, which must "
            "match (exit 1 if not)."
        ),
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--scenario",
        metavar="FILE",
        help="scenario to play (default: the packaged demo: "
        "src/lfv_workbench/simulator/scenarios/demo.json; format in docs/simulator.md)",
    )
    which.add_argument(
        "--org",
        action="store_true",
        help="play the packaged organization instead (two member accounts in two regions, one "
        "without its member role) in multi-target mode: the dispatcher's handler fills the "
        "target queue and the poller's handler takes each message; per-target lines and "
        "verdicts (plain output)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print only the summary, as JSON (for scripts)"
    )
    parser.add_argument(
        "--plain",
        action="store_true",
        help="plain lines even on a terminal (the default without a terminal or under CI)",
    )
    parser.add_argument(
        "--pace",
        type=float,
        metavar="SECONDS",
        help=f"wall seconds between cycles (default {INTERACTIVE_PACE} on a terminal, else 0)",
    )
    parser.set_defaults(func=run)


def _interactive(args: argparse.Namespace) -> bool:
    return (
        sys.stdout.isatty()
        and not args.json
        and not args.plain
        and not os.environ.get("CI")
        and os.environ.get("TERM") != "dumb"
    )


def _quiet_logs() -> None:
    """The function's JSON logs would drown the view; what they say is shown instead."""
    from lfv_monitor.observability import logger

    logger.setLevel("CRITICAL")
    logging.getLogger("lfv_monitor").setLevel(logging.CRITICAL)


def run(args: argparse.Namespace) -> int:
    from lfv_workbench.demo.engine import play
    from lfv_workbench.demo.lanes import stack_lanes
    from lfv_workbench.local.stack import StackDeployError
    from lfv_workbench.local.up import LocalStack, LocalStackError
    from lfv_workbench.simulator import ScenarioError, demo_scenario_path, load_scenario_file

    if args.pace is not None and args.pace < 0:
        print(f"lfv-monitor demo: --pace must be >= 0, got {args.pace}", file=sys.stderr)
        return 2
    if args.org:
        return run_org(args)
    path = args.scenario or str(demo_scenario_path())
    try:
        scenario = load_scenario_file(path)
    except ScenarioError as exc:
        print(f"lfv-monitor demo: scenario {path} refused: {exc}", file=sys.stderr)
        return 2
    # Before the handler's module is imported: Powertools reads it when it builds ``metrics``.
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    interactive = _interactive(args)
    pace = args.pace if args.pace is not None else (INTERACTIVE_PACE if interactive else 0.0)
    _quiet_logs()
    view = _view(args, interactive)
    jobs = sum(len(p.jobs) for p in scenario.projects)
    view.starting(os.path.basename(path), len(scenario.projects), jobs)
    started = time.monotonic()
    try:
        with LocalStack(speed=0, scenario=scenario) as stack:
            view.started(stack.info, time.monotonic() - started)
            lanes = stack_lanes(stack)
            view.filters(lanes)
            try:
                result = play(
                    stack,
                    scenario,
                    on_cycle=view.cycle,
                    pace=pace,
                    scenario_name=path,
                    lanes=lanes,
                )
            finally:
                view.stop()
    except (LocalStackError, StackDeployError) as exc:
        view.stop()
        print(f"lfv-monitor demo: the local stack did not start: {exc}", file=sys.stderr)
        return 1
    result.wall_seconds = time.monotonic() - started
    if args.json:
        print(json_text(result.summary()))
    else:
        view.finish(result)
    return 0 if result.match else 1


def run_org(args: argparse.Namespace) -> int:
    """``demo --org``: the organization, through the dispatcher and the poller per target."""
    from lfv_monitor.commands.safe_output import printable
    from lfv_workbench.demo.org_play import cycle_lines, play_org, summary_lines
    from lfv_workbench.local.stack import StackDeployError
    from lfv_workbench.local.up import LocalStack, LocalStackError
    from lfv_workbench.simulator import load_scenario_file, org_scenario_path

    scenario = load_scenario_file(org_scenario_path())
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    _quiet_logs()

    def show(lines: list[str]) -> None:
        if not args.json:
            print("\n".join(printable(line) for line in lines), flush=True)

    try:
        with LocalStack(speed=0, scenario=scenario) as stack:
            assert stack.outputs is not None
            if "DispatcherFunction" not in stack.outputs.template.get("Resources", {}):
                print(
                    "lfv-monitor demo --org: this template has no multi-target mode "
                    "(DispatcherFunction)",
                    file=sys.stderr,
                )
                return 2
            show([f"targets: {', '.join(stack.info.targets)}"])
            show([f"member roles: {', '.join(stack.info.member_roles) or 'none'}"])
            result = play_org(
                stack,
                scenario,
                on_cycle=lambda cycle: show(cycle_lines(cycle)),
                pace=args.pace or 0.0,
            )
    except (LocalStackError, StackDeployError) as exc:
        print(f"lfv-monitor demo: the local stack did not start: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json_text(result.summary()))
    else:
        show(summary_lines(result))
    return 0 if result.match else 1


def _view(args: argparse.Namespace, interactive: bool) -> View:
    from lfv_workbench.demo.views import PlainView, QuietView

    if args.json:
        return QuietView()
    if interactive:
        from lfv_workbench.demo.live import LiveView

        return LiveView()
    return PlainView(sys.stdout)
