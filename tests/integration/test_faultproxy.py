"""The fault proxy in front of moto server: each fault looks to boto3 as the real service's."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError, ReadTimeoutError

from lfv_workbench.testing.faultproxy import FaultProxy, FaultProxyError, FaultRule
from tests.support.table import create_monitor_table

NO_RETRY = Config(retries={"mode": "standard", "total_max_attempts": 1}, read_timeout=1)


@pytest.fixture
def proxy(aws_endpoint: str) -> Iterator[FaultProxy]:
    with FaultProxy(aws_endpoint, seed=7) as the_proxy:
        yield the_proxy


def client(service: str, proxy: FaultProxy, config: Config = NO_RETRY) -> Any:
    return boto3.client(service, endpoint_url=proxy.url, config=config)


def test_requests_pass_through_unchanged_without_faults(proxy: FaultProxy) -> None:
    ddb = client("dynamodb", proxy)
    create_monitor_table(ddb, "t")
    assert ddb.list_tables()["TableNames"] == ["t"]
    assert proxy.requests["dynamodb:ListTables"] == 1


@pytest.mark.parametrize(
    ("service", "call", "code"),
    [
        ("dynamodb", lambda c: c.list_tables(), "ProvisionedThroughputExceededException"),
        ("events", lambda c: c.list_event_buses(), "ThrottlingException"),
        ("sns", lambda c: c.list_topics(), "Throttling"),
    ],
)
def test_throttling_has_each_services_real_error_shape(
    proxy: FaultProxy, service: str, call: Any, code: str
) -> None:
    proxy.set_faults([FaultRule("throttle", service)])
    with pytest.raises(ClientError) as caught:
        call(client(service, proxy))
    assert caught.value.response["Error"]["Code"] == code
    assert proxy.injected["throttle"] == 1


def test_dynamodb_throttling_exception_variant(proxy: FaultProxy) -> None:
    proxy.set_faults([FaultRule("throttle", "dynamodb", error_code="ThrottlingException")])
    with pytest.raises(ClientError) as caught:
        client("dynamodb", proxy).list_tables()
    assert caught.value.response["Error"]["Code"] == "ThrottlingException"


def test_server_errors_are_retried_by_the_sdk_within_max_consecutive(aws_endpoint: str) -> None:
    # Given a proxy that fails every DynamoDB call, but never more than 3 times in a row
    with FaultProxy(aws_endpoint, seed=1, max_consecutive=3) as proxy:
        proxy.set_faults([FaultRule("error5xx", "dynamodb", status=503)])
        ddb = client("dynamodb", proxy, Config(retries={"mode": "standard", "max_attempts": 5}))
        # When the SDK retries, Then the 4th attempt gets through
        assert ddb.list_tables()["TableNames"] == []
        assert proxy.injected["error5xx"] == 3


@pytest.mark.parametrize(
    ("service", "call", "code"),
    [
        ("dynamodb", lambda c: c.list_tables(), "AccessDeniedException"),
        ("events", lambda c: c.list_event_buses(), "AccessDeniedException"),
        ("sns", lambda c: c.list_topics(), "AuthorizationError"),
    ],
)
def test_a_deny_is_the_services_access_error_and_outlasts_the_retries(
    aws_endpoint: str, service: str, call: Any, code: str
) -> None:
    # Given a proxy that caps transient faults at 3 in a row, denying one service
    with FaultProxy(aws_endpoint, seed=1, max_consecutive=3) as proxy:
        proxy.set_faults([FaultRule("deny", service)])
        retrying = Config(retries={"mode": "standard", "max_attempts": 5})
        # When a client calls it four times, retries on
        for _ in range(4):
            with pytest.raises(ClientError) as caught:
                call(client(service, proxy, retrying))
            # Then each call fails at once with the service's own access error (not retried)
            assert caught.value.response["Error"]["Code"] == code
        assert proxy.injected["deny"] == 4


def test_reset_before_forwarding_is_a_connection_error(proxy: FaultProxy) -> None:
    proxy.set_faults([FaultRule("reset", "sns", phase="before")])
    with pytest.raises(ConnectionClosedError):
        client("sns", proxy).list_topics()


def test_reset_after_forwarding_loses_the_answer_but_the_service_acted(
    proxy: FaultProxy, aws_endpoint: str
) -> None:
    proxy.set_faults([FaultRule("reset", "sns", "CreateTopic", phase="after")])
    with pytest.raises(ConnectionClosedError):
        client("sns", proxy).create_topic(Name="acted")
    topics = boto3.client("sns", endpoint_url=aws_endpoint).list_topics()["Topics"]
    assert [t["TopicArn"].rsplit(":", 1)[1] for t in topics] == ["acted"]


def test_delay_past_the_client_timeout(proxy: FaultProxy) -> None:
    proxy.set_faults([FaultRule("delay", "dynamodb", delay_s=1.5, phase="before")])
    with pytest.raises(ReadTimeoutError):
        client("dynamodb", proxy).list_tables()


def _queue(sqs: Any, name: str) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    return url, arn["QueueArn"]


def _received(sqs: Any, url: str) -> list[dict[str, Any]]:
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in got]


def test_partial_put_events_delivers_only_the_entries_it_reports_successful(
    proxy: FaultProxy, aws_endpoint: str
) -> None:
    # Given a bus with a rule to a queue, and a proxy failing about half of every PutEvents
    events = boto3.client("events", endpoint_url=aws_endpoint)
    sqs = boto3.client("sqs", endpoint_url=aws_endpoint)
    url, arn = _queue(sqs, "captured")
    events.put_rule(Name="r", EventPattern=json.dumps({"source": ["t"]}))
    events.put_targets(Rule="r", Targets=[{"Id": "q", "Arn": arn}])
    proxy.set_faults([FaultRule("partial", "events", "PutEvents", entry_rate=0.5)])
    entries = [{"Source": "t", "DetailType": "d", "Detail": json.dumps({"n": n})} for n in range(6)]
    # When a batch is put through the proxy
    response = client("events", proxy).put_events(Entries=entries)
    # Then the failed entries are named and only the others reached the rule
    failed = [i for i, e in enumerate(response["Entries"]) if e.get("ErrorCode")]
    assert response["FailedEntryCount"] == len(failed) >= 1
    delivered = sorted(e["detail"]["n"] for e in _received(sqs, url))
    assert delivered == [n for n in range(6) if n not in failed]


def test_partial_publish_batch_delivers_only_the_successful_ids(
    proxy: FaultProxy, aws_endpoint: str
) -> None:
    sns = boto3.client("sns", endpoint_url=aws_endpoint)
    sqs = boto3.client("sqs", endpoint_url=aws_endpoint)
    url, arn = _queue(sqs, "sns-captured")
    topic = sns.create_topic(Name="t")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    proxy.set_faults([FaultRule("partial", "sns", "PublishBatch", entry_rate=0.5)])
    entries = [{"Id": f"m{n}", "Message": f"message {n}"} for n in range(5)]
    response = client("sns", proxy).publish_batch(
        TopicArn=topic, PublishBatchRequestEntries=entries
    )
    failed = {f["Id"] for f in response["Failed"]}
    ok = {s["Id"] for s in response["Successful"]}
    assert failed and ok | failed == {e["Id"] for e in entries} and not ok & failed
    delivered = {m["Message"] for m in _received(sqs, url)}
    assert delivered == {f"message {i[1:]}" for i in ok}


def test_arm_kill_sigkills_the_process_at_the_chosen_response(proxy: FaultProxy) -> None:
    victim = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        proxy.arm_kill(victim.pid, "ListTables", nth=2, phase="response")
        ddb = client("dynamodb", proxy)
        ddb.list_tables()  # first: passes
        with pytest.raises(ConnectionClosedError):
            ddb.list_tables()  # second: the service answered, the caller is killed
        assert victim.wait(timeout=10) == -9
        assert proxy.disarm() is True
    finally:
        victim.kill()


def test_bad_rules_are_refused_with_the_field_named() -> None:
    with pytest.raises(FaultProxyError, match="kind"):
        FaultRule("explode")  # type: ignore[arg-type]
    with pytest.raises(FaultProxyError, match="rate"):
        FaultRule("throttle", rate=2)
    with pytest.raises(FaultProxyError, match="partial"):
        FaultRule("partial", "dynamodb", "PutItem")
    with pytest.raises(FaultProxyError, match="status"):
        FaultRule("error5xx", status=404)
