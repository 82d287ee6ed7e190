"""The four audit questions against a history written by real poll cycles (simulator + moto)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from lfv_monitor.audit import (
    AuditQueries,
    ChangePage,
    InvalidPageTokenError,
    InvalidQueryError,
    InvalidTimeError,
    NoHistoryError,
)
from tests.support.audit_history import AuditedStack


@pytest.fixture
def operations() -> Counter[str]:
    return Counter()


@pytest.fixture
def queries(audited_history: AuditedStack, operations: Counter[str]) -> Iterator[AuditQueries]:
    """The queries over the audited table, counting every DynamoDB operation they call."""
    client = audited_history.client()
    client.meta.events.register(
        "before-call.dynamodb.*", lambda model, **_: operations.update([model.name])
    )
    yield AuditQueries(audited_history.table, client=client)


def every(fetch: Any, limit: int) -> list[ChangePage]:
    pages = [fetch(limit=limit, next_token=None)]
    while pages[-1].next_token:
        pages.append(fetch(limit=limit, next_token=pages[-1].next_token))
    return pages


def test_a_jobs_history_is_every_transition_oldest_first(queries: AuditQueries) -> None:
    # When an auditor asks for one job's history
    page = queries.job_history("widgets", "msg-1")
    # Then every recorded change is there, oldest first, with time, status, message and observer
    assert [(c.version, c.change_type, c.status, c.status_message) for c in page.items] == [
        (1, "BASELINE", "RUNNING", "step 1/3"),
        (2, "STATUS_MESSAGE", "RUNNING", "step 2/3"),
        (3, "STATUS_MESSAGE", "RUNNING", "step 3/3"),
    ]
    times = [c.observed_at for c in page.items]
    assert times == sorted(times) and all(t.utcoffset() == timedelta(0) for t in times)
    assert all(c.observer.startswith("cli@") for c in page.items)
    assert page.items[1].previous_status_message == "step 1/3"
    assert page.next_token is None


def test_a_job_with_no_history_is_a_clear_error(queries: AuditQueries) -> None:
    with pytest.raises(NoHistoryError, match=r"no history for job widgets/nope"):
        queries.job_history("widgets", "nope")
    with pytest.raises(InvalidQueryError, match="not a valid job name"):
        queries.job_history("widgets", "a#b")


def test_a_projects_changes_in_a_time_range(queries: AuditQueries) -> None:
    # Given every change in the project, in observation order
    everything = queries.project_changes("widgets").items
    assert {c.project for c in everything} == {"widgets"}
    assert sorted((c.job, c.status) for c in everything if c.change_type == "STATUS") == [
        ("fail-1", "FAILED"),
        ("fail-1", "RUNNING"),
        ("ok-1", "RUNNING"),
        ("ok-1", "SUCCEEDED"),
    ]
    keys = [(c.observed_at, c.job, c.version) for c in everything]
    assert keys == sorted(keys) and len(everything) == 3 + 2 + 2 + 2
    # When the range starts at the first non-baseline change and ends at the last one
    changed = [c for c in everything if c.change_type != "BASELINE"]
    since, until = changed[0].observed_at, changed[-1].observed_at
    in_range = queries.project_changes("widgets", since=since, until=until).items
    # Then exactly the changes observed in it are returned, both ends included
    assert in_range == [c for c in everything if since <= c.observed_at <= until]
    assert in_range[0] == changed[0] and in_range[-1] == changed[-1]
    # and a range before the first cycle is empty, not an error
    early = everything[0].observed_at - timedelta(days=1)
    assert queries.project_changes("widgets", until=early).items == []
    # and one project's status filter keeps only that status
    failed = queries.project_changes("widgets", status="failed").items
    assert [(c.job, c.status) for c in failed] == [("fail-1", "FAILED")]


def test_an_unknown_project_or_a_bad_range_is_a_clear_error(queries: AuditQueries) -> None:
    with pytest.raises(NoHistoryError, match="no history for project nowhere"):
        queries.project_changes("nowhere")
    some = queries.project_changes("widgets").items[0].observed_at
    with pytest.raises(InvalidTimeError, match=r"since .* is after until"):
        queries.project_changes("widgets", since=some, until=some - timedelta(seconds=1))


def test_changes_to_a_status_across_projects(queries: AuditQueries) -> None:
    failed = queries.status_changes("FAILED").items
    assert [(c.project, c.job, c.previous_status) for c in failed] == [
        ("widgets", "fail-1", "RUNNING"),
        ("gadgets", "g-1", "RUNNING"),
    ]
    # and within a range that ends before the second failure, only the first
    only_first = queries.status_changes("FAILED", until=failed[0].observed_at).items
    assert only_first == failed[:1]
    assert queries.status_changes("FAILED", since=failed[1].observed_at).items == failed[1:]
    assert queries.status_changes("NEVER_SEEN").items == []


def test_current_state_of_the_jobs_with_a_status(queries: AuditQueries) -> None:
    running = queries.jobs("RUNNING").items
    assert [(s.project, s.job, s.status_message) for s in running] == [
        ("gadgets", "g-2", "compiling"),
        ("widgets", "msg-1", "step 3/3"),
    ]
    assert running[1].version == 3
    assert [(s.project, s.job) for s in queries.jobs("failed").items] == [
        ("gadgets", "g-1"),
        ("widgets", "fail-1"),
    ]
    assert [s.job for s in queries.jobs("RUNNING", project="widgets").items] == ["msg-1"]
    assert queries.jobs("CREATED").items == []
    with pytest.raises(NoHistoryError, match="no history for project nowhere"):
        queries.jobs("RUNNING", project="nowhere")


@pytest.mark.parametrize(
    "question",
    [
        lambda q: lambda **kw: q.job_history("widgets", "ok-1", **kw),
        lambda q: lambda **kw: q.project_changes("widgets", **kw),
        lambda q: lambda **kw: q.status_changes("RUNNING", **kw),
        lambda q: lambda **kw: q.jobs("RUNNING", **kw),
    ],
    ids=["history", "project-changes", "status-changes", "jobs"],
)
@pytest.mark.parametrize("limit", [1, 2])
def test_pages_follow_each_other_in_a_stable_order(
    queries: AuditQueries, question: Any, limit: int
) -> None:
    fetch = question(queries)
    whole = fetch(limit=500, next_token=None)
    # When the same question is read page by page
    pages = every(fetch, limit)
    # Then the pages hold exactly the whole answer, in the same order, none larger than the limit
    assert [i for p in pages for i in p.items] == whole.items
    assert all(len(p.items) == limit for p in pages[:-1]) and 1 <= len(pages[-1].items) <= limit
    assert pages[-1].next_token is None
    # and reading a page again gives the same records and the same token
    if len(pages) > 1:
        again = fetch(limit=limit, next_token=pages[0].next_token)
        assert again == pages[1]


def test_no_question_ever_scans(queries: AuditQueries, operations: Counter[str]) -> None:
    queries.job_history("widgets", "ok-1", limit=1)
    queries.project_changes("widgets", limit=2)
    queries.project_changes("widgets", status="FAILED", limit=1)
    queries.status_changes("RUNNING")
    queries.jobs("RUNNING", project="widgets")
    with pytest.raises(NoHistoryError):
        queries.project_changes("nowhere")
    assert operations["Query"] >= 6
    assert set(operations) == {"Query"}


def test_a_page_token_from_elsewhere_is_rejected(queries: AuditQueries) -> None:
    token = queries.project_changes("widgets", limit=1).next_token
    assert token
    for bad in ("not a token", token[:-3] + "AAA", "e30", token + "=="):
        with pytest.raises(InvalidPageTokenError, match="next token"):
            queries.project_changes("widgets", limit=1, next_token=bad)
    # a token of one project is not a position in another project's changes
    with pytest.raises(InvalidPageTokenError, match="does not belong to this query"):
        queries.project_changes("gadgets", limit=1, next_token=token)
    # nor in a range that excludes it
    first = queries.project_changes("widgets").items
    with pytest.raises(InvalidPageTokenError, match="does not belong to this query"):
        queries.project_changes("widgets", since=first[-1].observed_at, next_token=token)
