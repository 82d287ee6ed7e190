"""Paging and parsing are bounded (issue 12, point 6), over real HTTP.

The simulator never cycles its page tokens nor nests its answers 10,000 deep, so a small fake
service on 127.0.0.1 gives those answers; the real adapter (botocore, the carried model) reads
them.  Each case ends that one listing or describe with an error; the cycle goes on with the rest.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from lfv_monitor.adapters.lookoutvision import MAX_RESPONSE_BYTES, LookoutVisionJobSource
from lfv_monitor.bootstrap import Monitor
from lfv_monitor.clients import lookoutvision_client
from lfv_monitor.config import Settings
from lfv_monitor.domain.cycle import CyclePolicy, PollCycle
from lfv_monitor.domain.errors import DeadlineReachedError, SourceError
from lfv_monitor.domain.models import ChangeType, JobKey
from tests.fakes import FakeClock, InMemorySnapshotStore
from tests.support.fake_service import FakeService

PREFIX = "/2020-11-20/projects"
NOW = datetime(2026, 11, 1, tzinfo=UTC).timestamp()


@pytest.fixture
def service() -> Iterator[FakeService]:
    fake = FakeService().start()
    try:
        yield fake
    finally:
        fake.stop()


def _source(service: FakeService, **kwargs: Any) -> LookoutVisionJobSource:
    client = lookoutvision_client(endpoint_url=service.url, region_name="us-east-1")
    return LookoutVisionJobSource(client, rate_per_second=None, **kwargs)


def _cycling_tokens(path: str, query: dict[str, str]) -> tuple[int, Any]:
    """Pages A -> B -> A -> ... : never an immediate repeat, never an end."""
    token = {None: "A", "A": "B", "B": "A"}[query.get("nextToken")]
    if path == PREFIX:
        return 200, {"Projects": [{"ProjectName": f"p-{token}"}], "NextToken": token}
    return 200, {"ModelPackagingJobs": [{"JobName": f"j-{token}"}], "NextToken": token}


def _job(name: str, status: str = "SUCCEEDED") -> dict[str, Any]:
    return {"JobName": name, "Status": status, "LastUpdatedTimestamp": NOW}


def _description(project: str, name: str) -> dict[str, Any]:
    return {
        "ModelPackagingDescription": {
            "ProjectName": project,
            "JobName": name,
            "Status": "SUCCEEDED",
            "CreationTimestamp": NOW,
            "LastUpdatedTimestamp": NOW,
        }
    }


def _deep(levels: int) -> bytes:
    return b'{"ModelPackagingDescription": ' + b'{"a": ' * levels + b"1" + b"}" * (levels + 1)


def test_page_tokens_that_cycle_end_the_job_listing_with_an_error(service: FakeService) -> None:
    # Given a service whose job pages go A -> B -> A -> ...
    service.answer = _cycling_tokens
    # When the jobs of one project are listed
    with pytest.raises(SourceError, match="repeats the page token 'A'"):
        _source(service).list_jobs("widgets")
    # Then the listing stopped at the first repeated token: three requests, not forever
    assert len(service.requests) == 3


def test_page_tokens_that_cycle_end_the_project_listing_with_an_error(
    service: FakeService,
) -> None:
    # Given an account whose project pages cycle
    service.answer = _cycling_tokens
    # When the projects are listed, Then the listing ends with an error after three pages
    with pytest.raises(SourceError, match="list_projects: page 3 repeats"):
        _source(service).list_projects()
    assert len(service.requests) == 3


def test_a_listing_longer_than_the_quota_allows_ends_with_an_error(service: FakeService) -> None:
    # Given a service that always has one more page (each token new)
    def endless(path: str, query: dict[str, str]) -> tuple[int, Any]:
        page = int(query.get("nextToken", "0"))
        return 200, {"ModelPackagingJobs": [_job(f"j{page}")], "NextToken": str(page + 1)}

    service.answer = endless
    # When a source allowed 25 pages per listing lists a project
    with pytest.raises(SourceError, match="more than 25 pages"):
        _source(service, max_pages=25).list_jobs("widgets")
    # Then it asked for exactly 25 pages
    assert len(service.requests) == 25


def test_the_deadline_is_checked_between_pages(service: FakeService) -> None:
    # Given an endless listing and an invocation whose deadline comes after the second page
    service.answer = lambda path, query: (
        200,
        {"ModelPackagingJobs": [], "NextToken": f"t{len(service.requests)}"},
    )
    source = _source(service, out_of_time=lambda: len(service.requests) >= 2)
    # When one project is listed
    with pytest.raises(DeadlineReachedError, match="deadline came after page 2"):
        source.list_jobs("widgets")
    # Then no third page was asked for
    assert len(service.requests) == 2


def test_a_deeply_nested_description_is_an_error_of_that_job(service: FakeService) -> None:
    # Given a describe answer nested 10,000 levels deep (RecursionError in any JSON parser)
    service.answer = lambda path, query: (200, _deep(10_000))
    # When the job is described, Then it is a SourceError of that job, not a RecursionError
    with pytest.raises(SourceError, match="widgets/cam-7: the answer is nested too deeply"):
        _source(service).describe_job(JobKey("widgets", "cam-7"))


def test_an_oversized_answer_is_refused_before_it_is_parsed(service: FakeService) -> None:
    # Given a job listing of more than MAX_RESPONSE_BYTES (800,000 tiny summaries)
    body = b'{"ModelPackagingJobs": [' + b'{"JobName": "x"},' * 800_000 + b"{}]}"
    assert len(body) > MAX_RESPONSE_BYTES
    service.answer = lambda path, query: (200, body)
    # When one project is listed, Then the answer is refused with its size named
    with pytest.raises(SourceError, match=r"the answer is \d+ bytes, over the 8388608"):
        _source(service).list_jobs("widgets")


def test_the_cycle_isolates_a_cycling_project_and_a_nested_job(service: FakeService) -> None:
    # Given three projects: "loop" pages forever A -> B -> A, "deep" holds one job whose
    # description is nested 10,000 deep, and "good" holds one well-formed job
    def answer(path: str, query: dict[str, str]) -> tuple[int, Any]:
        if path == PREFIX:
            return 200, {"Projects": [{"ProjectName": n} for n in ("deep", "good", "loop")]}
        if path == f"{PREFIX}/loop/modelpackagingjobs":
            return _cycling_tokens(path, query)
        if path.endswith("/modelpackagingjobs"):
            return 200, {"ModelPackagingJobs": [_job("cam")]}
        if path == f"{PREFIX}/deep/modelpackagingjobs/cam":
            return 200, _deep(10_000)
        return 200, _description("good", "cam")

    service.answer = answer
    store = InMemorySnapshotStore()
    source = _source(service)
    cycle = PollCycle(source, store, [], clock=FakeClock())
    monitor = Monitor(cycle=cycle, settings=_settings(), source=source)
    # When one scheduled cycle runs with plenty of time left
    report = monitor.run(lambda: 600.0)
    # Then the good project's job is recorded, and the two bad ones are errors of their own
    assert [(c.key, c.change_type) for c in report.recorded] == [
        (JobKey("good", "cam"), ChangeType.BASELINE)
    ]
    assert report.errors["SourceError"] == 2
    assert not report.unreachable and not report.store_failed
    assert report.listing_complete is False
    # And the source no longer holds this invocation's deadline
    assert source.out_of_time is None


def test_the_monitor_passes_its_deadline_to_the_source(service: FakeService) -> None:
    # Given one project with an endless listing, and an invocation whose remaining time
    # drops by 10 s per request from 30 s (the margin is 5 s)
    def answer(path: str, query: dict[str, str]) -> tuple[int, Any]:
        if path == PREFIX:
            return 200, {"Projects": [{"ProjectName": "widgets"}]}
        return 200, {"ModelPackagingJobs": [], "NextToken": f"t{len(service.requests)}"}

    service.answer = answer
    source = _source(service)
    cycle = PollCycle(source, InMemorySnapshotStore(), [], clock=FakeClock(), policy=CyclePolicy())
    monitor = Monitor(cycle=cycle, settings=_settings(), source=source)
    # When the cycle runs
    report = monitor.run(lambda: 30.0 - 10 * len(service.requests))
    # Then the listing stopped once the deadline was within the margin: ListProjects and two
    # pages, and the project is not counted as listed
    assert len(service.requests) == 3
    assert report.projects_listed == 0
    assert report.errors["SourceError"] == 1


def _settings() -> Settings:
    return Settings(
        table_name="t",
        event_bus_name="b",
        topic_arn="arn:aws:sns:us-east-1:000000000000:t",
        deadline_margin_seconds=5.0,
    )
