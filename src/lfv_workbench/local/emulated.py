"""Helpers shared by everything that runs the monitor against the emulators (the demo, the soak,
the benchmarks, the tests): the table as template.yaml declares it, and a scoped environment."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

#: The table's global secondary indexes (docs/architecture.md, "Table design").
INDEXES: Mapping[str, tuple[str, str]] = {
    "ByProject": ("gsi1pk", "gsi1sk"),
    "ByStatus": ("gsi2pk", "gsi2sk"),
    "Active": ("active_pk", "active_sk"),
}


def create_monitor_table(client: Any, name: str = "lfv-monitor-test") -> str:
    """Create the monitor's table through the API, with the keys and indexes of template.yaml."""
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


@contextmanager
def patched_environ(values: Mapping[str, str]) -> Iterator[None]:
    """``os.environ`` with ``values`` set, restored afterwards (the SDK reads endpoints there)."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
