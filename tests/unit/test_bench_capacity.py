"""The benchmark's capacity accounting (benchmarks/capacity.py): what DynamoDB would bill."""

from __future__ import annotations

from typing import Any

from benchmarks.capacity import consumed


def state_item(i: int) -> dict[str, Any]:
    return {
        "pk": {"S": f"JOB#proj#job-{i:03d}"},
        "sk": {"S": "STATE"},
        "status": {"S": "SUCCEEDED"},
        "version": {"N": "3"},
    }


def batch_get(keys: int, *, consistent: bool, found: int) -> dict[str, float]:
    params = {
        "RequestItems": {
            "t": {
                "Keys": [{"pk": {"S": f"JOB#proj#job-{i:03d}"}} for i in range(keys)],
                "ConsistentRead": consistent,
            }
        }
    }
    response = {"Responses": {"t": [state_item(i) for i in range(found)]}}
    return consumed("BatchGetItem", params, response)


def test_eventually_consistent_batch_reads_cost_half_a_unit_per_key() -> None:
    # Given the poller's state read of 100 small items, eventually consistent
    # When its capacity is computed
    units = batch_get(100, consistent=False, found=100)
    # Then each key costs half a read unit
    assert units == {"read": 50.0, "write": 0.0}


def test_strongly_consistent_batch_reads_cost_a_unit_per_key_found_or_not() -> None:
    # Given a consistent read of 10 keys of which 4 exist
    units = batch_get(10, consistent=True, found=4)
    # Then every key is billed one unit
    assert units["read"] == 10.0


def test_a_query_on_an_index_is_eventually_consistent() -> None:
    # Given a Query on the Active index returning items of about 100 bytes
    items = [state_item(i) for i in range(3)]
    params = {"IndexName": "Active", "ConsistentRead": False}
    # Then the total rounds up to one 4 KB unit, at half price
    assert consumed("Query", params, {"Items": items})["read"] == 0.5
