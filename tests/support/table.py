"""Creates the monitor's table through the API, exactly as template.yaml declares it."""

from __future__ import annotations

from typing import Any

INDEXES = {
    "ByProject": ("gsi1pk", "gsi1sk"),
    "ByStatus": ("gsi2pk", "gsi2sk"),
    "Active": ("active_pk", "active_sk"),
}


def create_monitor_table(client: Any, name: str = "lfv-monitor-test") -> str:
    attributes = {"pk", "sk"} | {a for pair in INDEXES.values() for a in pair}
    client.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": a, "AttributeType": "S"} for a in sorted(attributes)
        ],
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": index,
                "KeySchema": [
                    {"AttributeName": h, "KeyType": "HASH"},
                    {"AttributeName": r, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
            for index, (h, r) in INDEXES.items()
        ],
    )
    return name
