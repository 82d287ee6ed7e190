"""``lfv-monitor doctor``: preflight and health checks for an account and a deployed stack."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lfv_monitor.commands.preflight.checks import Finding
    from lfv_monitor.commands.preflight.probes import Probes

MARKS = {"ok": "✔", "problem": "✘", "skipped": "-"}
EXAMPLES = """\
examples:
  lfv-monitor doctor --region eu-west-1                      # before the first deploy
  lfv-monitor doctor --region eu-west-1 --access-logging     # ... with API access logs on
  lfv-monitor doctor --profile prod --stack lfv-monitor      # a deployed stack's health
  lfv-monitor doctor --stack lfv-monitor --json | jq .ok
"""


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "doctor",
        help="check an account (and a deployed stack) for what the monitor needs",
        description=(
            "Check, one line each with the fix: Lookout for Vision is reachable and listable; a "
            "CloudTrail trail records management write events (else new jobs wait for the "
            "rotation); Lambda has concurrency headroom for the reserved units; API Gateway has "
            "its CloudWatch Logs role (with --access-logging). With --stack, also: the email "
            "subscriptions are confirmed, the schedule is enabled and a healthy cycle ran "
            "recently (metric CycleSucceeded). Exits 0 when all is well, 1 when a check found a "
            "problem, 2 for bad arguments."
        ),
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--stack", metavar="NAME", help="a deployed lfv-monitor stack to check")
    parser.add_argument(
        "--reserved-concurrency",
        type=int,
        metavar="N",
        help="units the stack will reserve (default: 13, what the template reserves when "
        "reservations are on; 0 with --stack, whose reservations are already counted)",
    )
    parser.add_argument(
        "--access-logging",
        action="store_true",
        help="the stack logs API access (needs API Gateway's account-wide CloudWatch Logs role)",
    )
    parser.add_argument("--json", action="store_true", help="print the findings as JSON")
    from lfv_monitor.commands.aws_options import add_aws_options

    add_aws_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lfv_monitor.commands.aws_options import apply_aws_options
    from lfv_monitor.commands.preflight import checks
    from lfv_monitor.commands.streams import logs_to_stderr

    if args.reserved_concurrency is not None and args.reserved_concurrency < 0:
        print("lfv-monitor doctor: --reserved-concurrency must be >= 0", file=sys.stderr)
        return 2
    apply_aws_options(args)
    logs_to_stderr(verbose=False)
    probes = _probes()
    if isinstance(probes, str):
        print(f"lfv-monitor doctor: {probes}", file=sys.stderr)
        return 2
    findings = diagnose(probes, args)
    if args.json:
        body = {
            "ok": checks.exit_code(findings) == 0,
            "region": probes.region,
            "stack": args.stack,
            "findings": [f.as_dict() for f in findings],
        }
        print(json.dumps(body, indent=2, ensure_ascii=False))
    else:
        for finding in findings:
            print(render(finding))
    return checks.exit_code(findings)


def _probes() -> Probes | str:
    """The probes on the SDK's configuration, or what is wrong with that configuration."""
    import boto3
    from botocore.exceptions import BotoCoreError

    from lfv_monitor.commands.preflight.probes import Probes

    try:
        session = boto3.Session()
    except BotoCoreError as exc:  # an unknown profile
        return str(exc)
    if not session.region_name:
        return "no region: pass --region or set AWS_REGION"
    return Probes(session)


def diagnose(probes: Probes, args: argparse.Namespace) -> list[Finding]:
    from lfv_monitor.commands.preflight import checks

    findings = [probes.lookout_for_vision()]
    stack = probes.stack(args.stack) if args.stack else None
    if isinstance(stack, checks.Finding):
        findings.append(stack)
        stack = None
    reserve = args.reserved_concurrency
    if reserve is None:
        reserve = 0 if stack else checks.TEMPLATE_RESERVED_UNITS
    findings += [
        probes.cloudtrail(stack),
        probes.concurrency(reserve),
        probes.api_gateway_role(args.access_logging),
    ]
    if stack is None:
        names = ("email-subscription", "schedule", "last-healthy-cycle")
        return [*findings, *(checks.needs_stack(name) for name in names)]
    return [
        *findings,
        probes.email_subscriptions(stack),
        probes.schedule(stack),
        probes.last_healthy_cycle(stack),
    ]


def render(finding: Finding) -> str:
    line = f"{MARKS[finding.status]} {finding.check}: {finding.detail}"
    return f"{line} (fix: {finding.fix})" if finding.fix else line
