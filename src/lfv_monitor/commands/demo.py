"""``lfv-monitor demo`` (interim): play the example scenario and print what a client sees.

It starts the simulator on 127.0.0.1 with the example scenario and the clock frozen, then every
60 virtual seconds lists every project's jobs through boto3, as the monitor will, and prints each
change of a job's Status or StatusMessage, each job that disappears, and each throttled cycle.
"""

from __future__ import annotations

import argparse
from typing import Any

CYCLE_SECONDS = 60
END_SECONDS = 720


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "demo",
        help="play the example scenario on the simulator and print each job's transitions",
        description=(
            "Interim demo: run the simulator with the example scenario, poll it every 60 "
            "virtual seconds through boto3 and print every job transition a client sees."
        ),
    )
    parser.add_argument(
        "--scenario",
        metavar="FILE",
        help="scenario file to play instead of the packaged example",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError

    from lfv_monitor.clients import lookoutvision_client
    from lfv_monitor.simulator import (
        SimulatorControl,
        SimulatorServer,
        example_scenario_path,
        load_scenario_file,
    )

    scenario = load_scenario_file(args.scenario or example_scenario_path())
    # The demo's clock is frozen and moved by hand, so the wall-clock rate quota is lifted.
    faults = {key: dict(value) for key, value in scenario.faults.items()}
    faults.setdefault("*", {})["rate_per_second"] = None
    with SimulatorServer(scenario=scenario, speed=0) as server:
        control = SimulatorControl(server.url)
        control.set_faults(faults)
        session = boto3.Session(
            aws_access_key_id="demo", aws_secret_access_key="demo", region_name=scenario.region
        )
        client = lookoutvision_client(
            session,
            endpoint_url=server.url,
            config=Config(retries={"mode": "standard", "max_attempts": 1}),
        )
        print(f"Simulator at {server.url}; example scenario from {scenario.start_time:%Y-%m-%d}")
        seen: dict[tuple[str, str], tuple[str | None, str | None]] = {}
        for at in range(0, END_SECONDS + 1, CYCLE_SECONDS):
            now = control.set_time(at) if at else control.clock()
            stamp = f"[t+{at:>4}s {now['time']}]"
            try:
                current = _snapshot(client)
            except ClientError as exc:
                print(f"{stamp} cycle skipped: {exc.response['Error']['Code']}")
                continue
            for key, value in sorted(current.items()):
                if seen.get(key) != value:
                    before = seen.get(key)
                    was = f"{before[0]}" if before else "new"
                    print(f"{stamp} {key[0]}/{key[1]}: {was} -> {value[0]}: {value[1]}")
            for key in sorted(set(seen) - set(current)):
                print(f"{stamp} {key[0]}/{key[1]}: gone (no longer listed)")
            seen = current
        print(f"Done. Calls served: {control.state()['calls']}")
    return 0


def _snapshot(client: Any) -> dict[tuple[str, str], tuple[str | None, str | None]]:
    out: dict[tuple[str, str], tuple[str | None, str | None]] = {}
    for page in client.get_paginator("list_projects").paginate():
        for project in page["Projects"]:
            jobs = client.get_paginator("list_model_packaging_jobs").paginate(
                ProjectName=project["ProjectName"]
            )
            for jobs_page in jobs:
                for job in jobs_page["ModelPackagingJobs"]:
                    key = (job["ProjectName"], job["JobName"])
                    out[key] = (job.get("Status"), job.get("StatusMessage"))
    return out
