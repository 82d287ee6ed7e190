"""The monitor reaches a member account by assuming its role (issue 15): moto server's STS over
HTTP on 127.0.0.1 plays STS and the member account."""

from __future__ import annotations

from typing import Any

import boto3

from lfv_monitor.clients import TargetClients, role_session_name

MEMBER_ROLE = "arn:aws:iam::111111111111:role/lfv-monitor-reader"
OTHER_ROLE = "arn:aws:iam::222222222222:role/lfv-monitor-reader"


class CountingCreator:
    """Counts the STS clients the credential fetcher makes (one per AssumeRole call)."""

    def __init__(self, endpoint: str) -> None:
        self.calls = 0
        self._endpoint = endpoint

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return boto3.Session(region_name="us-east-1").client(
            "sts",
            endpoint_url=self._endpoint,
            aws_access_key_id=kwargs["aws_access_key_id"],
            aws_secret_access_key=kwargs["aws_secret_access_key"],
            aws_session_token=kwargs["aws_session_token"],
        )


def _clients(aws_endpoint: str, creator: CountingCreator | None = None) -> TargetClients:
    return TargetClients(
        boto3.Session(region_name="us-east-1"),
        session_name=role_session_name("lfv-monitor-prod"),
        sts_endpoint_url=aws_endpoint,
        sts_client_creator=creator,
    )


def _identity(session: boto3.Session, aws_endpoint: str) -> dict[str, Any]:
    identity: dict[str, Any] = session.client(
        "sts", endpoint_url=aws_endpoint
    ).get_caller_identity()
    return identity


def test_a_member_target_is_read_as_the_member_role_with_a_session_naming_the_monitor(
    aws_endpoint: str,
) -> None:
    # Given the monitor's clients for targets
    clients = _clients(aws_endpoint)
    # When it reaches the member account's role
    session = clients.session(MEMBER_ROLE)
    # Then STS says it is that account's role, in a session named after the monitor's stack
    identity = _identity(session, aws_endpoint)
    assert identity["Account"] == "111111111111"
    assert identity["Arn"] == (
        "arn:aws:sts::111111111111:assumed-role/lfv-monitor-reader/lfv-monitor-lfv-monitor-prod"
    )


def test_the_lookout_for_vision_client_is_in_the_targets_region_and_cached_per_role_and_region(
    aws_endpoint: str,
) -> None:
    clients = _clients(aws_endpoint)
    # When the same target is asked for twice, and the same role in another region
    first = clients.lookoutvision(MEMBER_ROLE, "eu-west-1")
    again = clients.lookoutvision(MEMBER_ROLE, "eu-west-1")
    other_region = clients.lookoutvision(MEMBER_ROLE, "us-east-1")
    # Then one client per (role, region), each in its target's region
    assert first is again
    assert other_region is not first
    assert (first.meta.region_name, other_region.meta.region_name) == ("eu-west-1", "us-east-1")


def _signing_key(client: Any) -> str:
    key: str = client._request_signer._credentials.get_frozen_credentials().access_key
    return key


def test_the_monitors_own_account_is_read_with_its_own_credentials(aws_endpoint: str) -> None:
    clients = _clients(aws_endpoint)
    # When a target in the monitor's own account (no role) and a member target are read
    own = clients.lookoutvision(None, "eu-west-1")
    member = clients.lookoutvision(MEMBER_ROLE, "eu-west-1")
    # Then the own account signs with the function's credentials, the member with the role's
    assert own.meta.region_name == "eu-west-1"
    assert _signing_key(own) == "testing"
    assert _signing_key(member).startswith("ASIA")


def test_credentials_are_assumed_once_while_valid_and_per_role(aws_endpoint: str) -> None:
    # Given clients whose STS calls are counted
    creator = CountingCreator(aws_endpoint)
    clients = _clients(aws_endpoint, creator)
    # When two targets of one member role and one of another are read, several times
    for _ in range(3):
        _identity(clients.session(MEMBER_ROLE), aws_endpoint)
        _identity(clients.session(OTHER_ROLE), aws_endpoint)
    # Then STS was asked once per role: the credentials are cached for their lifetime
    assert creator.calls == 2


def test_the_session_name_is_trimmed_to_stss_limit_and_its_characters() -> None:
    assert role_session_name("prod") == "lfv-monitor-prod"
    long = role_session_name("x" * 100)
    assert len(long) == 64
    assert long.startswith("lfv-monitor-xxx")
    assert role_session_name("a b/c") == "lfv-monitor-a-b-c"
