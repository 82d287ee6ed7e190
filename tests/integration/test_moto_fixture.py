from __future__ import annotations

import boto3


def test_moto_server_serves_dynamodb_on_loopback(aws_endpoint: str) -> None:
    assert aws_endpoint.startswith("http://127.0.0.1:")
    ddb = boto3.client("dynamodb", endpoint_url=aws_endpoint)
    assert ddb.list_tables()["TableNames"] == []
