"""The client-side rate is per operation, as the service's quota is."""

from __future__ import annotations

from lfv_monitor.adapters.lookoutvision import RateLimiter
from lfv_monitor.clients import lookoutvision_client, new_session


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.now += seconds


def test_each_operation_is_paced_on_its_own() -> None:
    # Given a client paced at 4 requests per second per operation
    time = FakeTime()
    client = lookoutvision_client(
        new_session(region_name="us-east-1"), endpoint_url="http://127.0.0.1:9"
    )
    RateLimiter(4.0, clock=time.clock, sleep=time.sleep).install(client)
    emit = client.meta.events.emit
    # When it sends two list calls and then a describe, as botocore announces them
    emit("before-send.lookoutvision.ListModelPackagingJobs", request=None)
    emit("before-send.lookoutvision.ListModelPackagingJobs", request=None)
    emit("before-send.lookoutvision.DescribeModelPackagingJob", request=None)
    # Then only the second list call waits (a quarter second); the describe does not wait
    # for the list calls, since each operation has its own quota
    assert time.slept == [0.25]
