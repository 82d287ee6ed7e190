"""The stack's resources created in moto through the API, with SQS queues capturing deliveries."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from tests.support.table import create_monitor_table

BUS = "lfv-test-bus"


class Stack:
    """The emulated stack's resources and capture queues."""

    def __init__(self, endpoint: str) -> None:
        self.ddb = boto3.client("dynamodb", endpoint_url=endpoint)
        self.events = boto3.client("events", endpoint_url=endpoint)
        self.sns = boto3.client("sns", endpoint_url=endpoint)
        self.sqs = boto3.client("sqs", endpoint_url=endpoint)
        self.table = create_monitor_table(self.ddb)
        self.events.create_event_bus(Name=BUS)
        self.topic_arn = self.sns.create_topic(Name="lfv-test-topic")["TopicArn"]
        self.rule_queue = self._queue("rule-all")
        self.failed_queue = self._queue("sns-failed")
        self.all_queue = self._queue("sns-all")
        self.events.put_rule(
            Name="all-job-changes",
            EventBusName=BUS,
            EventPattern=json.dumps({"source": ["lfv-monitor"]}),
        )
        self.events.put_targets(
            Rule="all-job-changes",
            EventBusName=BUS,
            Targets=[{"Id": "q", "Arn": self._arn(self.rule_queue)}],
        )
        self.sns.subscribe(
            TopicArn=self.topic_arn,
            Protocol="sqs",
            Endpoint=self._arn(self.failed_queue),
            Attributes={"FilterPolicy": json.dumps({"status": ["FAILED"]})},
        )
        self.sns.subscribe(
            TopicArn=self.topic_arn, Protocol="sqs", Endpoint=self._arn(self.all_queue)
        )

    def _queue(self, name: str) -> str:
        url: str = self.sqs.create_queue(QueueName=name)["QueueUrl"]
        return url

    def _arn(self, url: str) -> str:
        arn: str = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        return arn

    def drain(self, url: str) -> list[dict[str, Any]]:
        bodies: list[dict[str, Any]] = []
        while True:
            messages = self.sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0
            ).get("Messages", [])
            if not messages:
                return bodies
            for m in messages:
                bodies.append(json.loads(m["Body"]))
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


def monitored_stack(aws_endpoint: str, lfv_url: str, monkeypatch: pytest.MonkeyPatch) -> Stack:
    """The stack's resources in moto, and the environment a monitor built by ``build_monitor()``
    reads: the emulators' endpoints, the resource names, a fast client rate, no EMF output."""
    stack = Stack(aws_endpoint)
    for name, value in {
        "AWS_ENDPOINT_URL": aws_endpoint,
        "AWS_ENDPOINT_URL_LOOKOUTVISION": lfv_url,
        "TABLE_NAME": stack.table,
        "EVENT_BUS_NAME": BUS,
        "TOPIC_ARN": stack.topic_arn,
        "LFV_RATE_PER_SECOND": "50",
        "POWERTOOLS_METRICS_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    return stack
