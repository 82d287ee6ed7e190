"""Flags shared by the commands that talk to AWS (or to the local emulators)."""

from __future__ import annotations

import argparse
import os


def add_aws_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "AWS", "Defaults come from the SDK's standard configuration (AWS_PROFILE, AWS_REGION, ...)"
    )
    group.add_argument("--profile", help="named profile from ~/.aws/config")
    group.add_argument("--region", help="AWS Region (default: AWS_REGION / the profile's)")
    group.add_argument(
        "--endpoint-url",
        metavar="URL",
        help="endpoint for DynamoDB, EventBridge and SNS (e.g. the local stack's moto server); "
        "sets AWS_ENDPOINT_URL",
    )
    group.add_argument(
        "--lfv-endpoint-url",
        metavar="URL",
        help="endpoint for Lookout for Vision (e.g. the simulator); "
        "sets AWS_ENDPOINT_URL_LOOKOUTVISION",
    )


def apply_aws_options(args: argparse.Namespace) -> None:
    """Turn the flags into the SDK's own environment variables, so one mechanism applies."""
    for flag, variable in (
        ("profile", "AWS_PROFILE"),
        ("region", "AWS_REGION"),
        ("endpoint_url", "AWS_ENDPOINT_URL"),
        ("lfv_endpoint_url", "AWS_ENDPOINT_URL_LOOKOUTVISION"),
    ):
        value = getattr(args, flag, None)
        if value:
            os.environ[variable] = value
    if getattr(args, "region", None):
        os.environ["AWS_DEFAULT_REGION"] = args.region
