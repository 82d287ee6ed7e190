"""Bad inputs over real HTTP: malformed Lookout for Vision answers, odd text, names at limits.

Each case is listed in docs/reliability.md with what the user sees.  Malformed answers come from
a canned endpoint on 127.0.0.1 (what a broken proxy or service could send); whole cycles run
through the Lambda handler against it (or the simulator) and moto server.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from botocore.config import Config

from lfv_monitor.adapters.lookoutvision import LookoutVisionJobSource
from lfv_monitor.bootstrap import build_monitor
from lfv_monitor.cli import main
from lfv_monitor.clients import lookoutvision_client
from lfv_monitor.domain.errors import AccessDeniedError, SourceError
from lfv_monitor.domain.models import JobKey
from tests.integration.test_monitor_cycle import poll
from tests.support.emulated import Stack, monitored_stack

BASE = "/2020-11-20/projects"
ARN = "arn:aws:lookoutvision:us-east-1:123456789012:project/p"
T0 = 1_790_000_000.0
Answer = tuple[int, dict[str, str], bytes]


def ok(body: Any) -> Answer:
    return 200, {"Content-Type": "application/json"}, json.dumps(body).encode()


def description(job: str, status: Any = "RUNNING", message: Any = "working", **extra: Any) -> Any:
    return {
        "ModelPackagingDescription": {
            "JobName": job,
            "ProjectName": "p",
            "ModelVersion": "1",
            "Status": status,
            "StatusMessage": message,
            "CreationTimestamp": T0,
            "LastUpdatedTimestamp": T0 + 60,
            **extra,
        }
    }


class CannedLookoutVision:
    """Answers ``routes[path]``; a job's describe defaults to ``jobs[name]`` (valid)."""

    def __init__(self) -> None:
        self.jobs: dict[str, tuple[str, str]] = {}
        self.routes: dict[str, Answer] = {}
        canned = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return None

            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                status, headers, body = canned.answer(path)
                self.send_response(status)
                for name, value in {**headers, "Content-Length": str(len(body))}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def answer(self, path: str) -> Answer:
        if path in self.routes:
            return self.routes[path]
        if path == BASE:
            return ok({"Projects": [{"ProjectName": "p", "ProjectArn": ARN}]})
        if path == f"{BASE}/p/modelpackagingjobs":
            return ok(
                {
                    "ModelPackagingJobs": [
                        {"JobName": j, "ProjectName": "p", "Status": s, "StatusMessage": m}
                        for j, (s, m) in sorted(self.jobs.items())
                    ]
                }
            )
        job = path.rsplit("/", 1)[1]
        if job in self.jobs:
            return ok(description(job, *self.jobs[job]))
        return (
            404,
            {"x-amzn-ErrorType": "ResourceNotFoundException"},
            json.dumps({"message": f"{job} not found"}).encode(),
        )

    def describe_path(self, job: str) -> str:
        return f"{BASE}/p/modelpackagingjobs/{job}"


@pytest.fixture
def canned() -> Iterator[CannedLookoutVision]:
    server = CannedLookoutVision()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()


@pytest.fixture
def source(canned: CannedLookoutVision) -> LookoutVisionJobSource:
    client = lookoutvision_client(
        endpoint_url=canned.url, config=Config(retries={"total_max_attempts": 1})
    )
    return LookoutVisionJobSource(client, rate_per_second=None)


HTML = b"<html><body><h1>502 Bad Gateway</h1><p>nginx</p></body></html>"
MALFORMED: dict[str, tuple[Answer, str]] = {
    "no description": (ok({}), "has no ModelPackagingDescription"),
    "missing Status": (ok(description("bad", status=None)), "has no Status"),
    "Status is a number": (ok(description("bad", status=12345)), "has no Status"),
    "StatusMessage is a list": (ok(description("bad", message=["a"])), "StatusMessage is not text"),
    "timestamp is text": (
        ok(description("bad", LastUpdatedTimestamp="yesterday")),
        "malformed response",
    ),
    "not JSON": (
        (200, {"Content-Type": "application/json"}, b"this is not JSON {"),
        "has no ModelPackagingDescription",
    ),
    "empty body": ((200, {}, b""), "has no ModelPackagingDescription"),
    "200 carrying an error": (
        ok({"__type": "InternalServerException", "message": "oops"}),
        "has no ModelPackagingDescription",
    ),
    "HTML error page from a proxy": ((502, {"Content-Type": "text/html"}, HTML), "502"),
    "unknown error code": (
        (400, {"x-amzn-ErrorType": "WeirdException"}, b'{"message": "odd"}'),
        "WeirdException: odd",
    ),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_a_malformed_describe_is_a_clear_source_error(
    case: str, canned: CannedLookoutVision, source: LookoutVisionJobSource
) -> None:
    answer, message = MALFORMED[case]
    canned.routes[canned.describe_path("bad")] = answer
    with pytest.raises(SourceError) as caught:
        source.describe_job(JobKey("p", "bad"))
    assert message in str(caught.value)
    assert "p/bad" in str(caught.value)  # names the job


def test_access_denied_is_its_own_error(
    canned: CannedLookoutVision, source: LookoutVisionJobSource
) -> None:
    canned.routes[canned.describe_path("bad")] = (
        403,
        {"x-amzn-ErrorType": "AccessDeniedException"},
        b'{"message": "not allowed"}',
    )
    with pytest.raises(AccessDeniedError, match="not allowed"):
        source.describe_job(JobKey("p", "bad"))


def test_list_items_without_a_name_are_skipped(
    canned: CannedLookoutVision, source: LookoutVisionJobSource
) -> None:
    canned.routes[f"{BASE}/p/modelpackagingjobs"] = ok(
        {"ModelPackagingJobs": [{"Status": "RUNNING"}, {"JobName": ""}, {"JobName": "fine"}]}
    )
    assert [s.key.job for s in source.list_jobs("p")] == ["fine"]


def test_a_list_item_that_is_not_an_object_is_a_clear_source_error(
    canned: CannedLookoutVision, source: LookoutVisionJobSource
) -> None:
    canned.routes[f"{BASE}/p/modelpackagingjobs"] = ok({"ModelPackagingJobs": ["junk"]})
    with pytest.raises(SourceError, match="list_model_packaging_jobs p: malformed response"):
        source.list_jobs("p")


def test_a_next_token_that_repeats_ends_the_listing(
    canned: CannedLookoutVision, source: LookoutVisionJobSource
) -> None:
    # A listing that cannot end is an error, not a complete (truncated) listing (issue 12.6;
    # tokens cycling over several pages: tests/integration/test_bounded_paging.py)
    canned.routes[BASE] = ok({"Projects": [{"ProjectName": "p"}], "NextToken": "abc"})
    with pytest.raises(SourceError, match="page 2 repeats the page token 'abc'"):
        source.list_projects()


def test_an_unknown_status_and_a_one_megabyte_message_are_read_as_they_are(
    canned: CannedLookoutVision, source: LookoutVisionJobSource
) -> None:
    huge = "x" * (1024 * 1024)
    canned.routes[canned.describe_path("odd")] = ok(description("odd", "PAUSED", huge))
    got = source.describe_job(JobKey("p", "odd"))
    assert got.status == "PAUSED" and got.status_message == huge


# -- whole cycles ------------------------------------------------------------------------------
@pytest.fixture
def stack(aws_endpoint: str, canned: CannedLookoutVision, monkeypatch: pytest.MonkeyPatch) -> Stack:
    return monitored_stack(aws_endpoint, canned.url, monkeypatch)


CYCLE_CASES = sorted(set(MALFORMED) - {"HTML error page from a proxy"})  # 5xx: retried, slow


@pytest.mark.parametrize("case", CYCLE_CASES)
def test_a_bad_job_never_stops_the_others_and_nothing_recorded_is_rewritten(
    case: str, canned: CannedLookoutVision, stack: Stack
) -> None:
    # Given three running jobs recorded by a baseline cycle
    canned.jobs = {j: ("RUNNING", "working") for j in ("a", "bad", "c")}
    monitor = build_monitor()
    assert poll(monitor)["baseline"]
    # When all three finish but Lookout for Vision answers nonsense about one of them
    canned.jobs = {j: ("SUCCEEDED", "done") for j in ("a", "bad", "c")}
    canned.routes[canned.describe_path("bad")] = MALFORMED[case][0]
    report = poll(monitor)
    # Then the others are recorded and announced, the bad one counted as an error
    assert report["changesRecorded"] == 2 and sum(report["errors"].values()) == 1
    history = monitor.cycle.store.history  # type: ignore[attr-defined]
    assert [c.status for c in history(JobKey("p", "a"))] == ["RUNNING", "SUCCEEDED"]
    # and the bad job's history is exactly what it was
    assert [(c.status, c.status_message) for c in history(JobKey("p", "bad"))] == [
        ("RUNNING", "working")
    ]
    # and once the answer is sane again, its change is recorded on the next cycle
    del canned.routes[canned.describe_path("bad")]
    assert poll(monitor)["changesRecorded"] == 1
    assert [c.status for c in history(JobKey("p", "bad"))] == ["RUNNING", "SUCCEEDED"]
    statuses = sorted(e["detail"]["jobName"] for e in stack.drain(stack.rule_queue))
    assert statuses == ["a", "bad", "c"]


def test_unknown_status_huge_and_non_ascii_messages_are_recorded_and_announced(
    canned: CannedLookoutVision, stack: Stack
) -> None:
    canned.jobs = {"odd": ("RUNNING", "working"), "huge": ("RUNNING", "working")}
    monitor = build_monitor()
    poll(monitor)
    huge = "Überlauf 溢出 ✗ " + "x" * (1024 * 1024)
    canned.jobs = {"odd": ("PAUSED", "angehalten: 暂停 ⏸"), "huge": ("FAILED", huge)}
    report = poll(monitor)
    assert report["changesRecorded"] == 2 and not report["errors"]
    events = {e["detail"]["jobName"]: e["detail"] for e in stack.drain(stack.rule_queue)}
    assert events["odd"]["status"] == "PAUSED" and events["odd"]["isTerminal"] is False
    assert events["odd"]["statusMessage"] == "angehalten: 暂停 ⏸"
    assert events["huge"]["statusMessage"].startswith("Überlauf 溢出 ✗ xxx")
    assert "truncated" in events["huge"]["statusMessage"]
    history = monitor.cycle.store.history(JobKey("p", "huge"))  # type: ignore[attr-defined]
    assert history[-1].status_message == huge  # the full text stays in the history
    # an unknown status is not terminal: the job is still watched
    canned.jobs["odd"] = ("SUCCEEDED", "done")
    assert poll(monitor)["changesRecorded"] == 1


def test_names_at_their_length_limits_go_through_the_whole_cycle(
    stack: Stack, simulator: Any, simulator_control: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the longest project name (255) and job name (64) the API allows
    monkeypatch.setenv("AWS_ENDPOINT_URL_LOOKOUTVISION", simulator.url)
    project, job = "p" * 255, "j" * 64
    steps = [{"at": 0, "status": "RUNNING"}, {"at": 90, "status": "FAILED", "message": "ö"}]
    simulator_control.load_scenario(
        {"projects": [{"name": project, "jobs": [{"name": job, "timeline": steps}]}]}
    )
    monitor = build_monitor()
    simulator_control.advance(30)
    poll(monitor)
    simulator_control.advance(90)
    # When the job fails
    report = poll(monitor)
    # Then it is recorded and announced on both channels, the subject under 100 characters
    assert report["changesRecorded"] == 1 and not report["errors"]
    [event] = stack.drain(stack.rule_queue)
    assert (event["detail"]["projectName"], event["detail"]["jobName"]) == (project, job)
    [message] = stack.drain(stack.all_queue)
    assert 0 < len(message["Subject"]) < 100


# -- lfv-monitor poll ---------------------------------------------------------------------------
@pytest.fixture
def no_config(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TABLE_NAME", "EVENT_BUS_NAME", "TOPIC_ARN"):
        monkeypatch.delenv(name, raising=False)


def test_poll_without_configuration_prints_the_variables_and_exits_2(
    no_config: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["poll"]) == 2
    err = capsys.readouterr().err
    assert "TABLE_NAME is required" in err and "TOPIC_ARN is required" in err
    assert "--table" in err  # and says how to fix it


def test_poll_with_a_bad_flag_value_names_the_variable_and_exits_2(
    no_config: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["poll", "--table", "t1", "--event-bus", "b", "--topic-arn", "not-an-arn"])
    assert code == 2
    assert "TOPIC_ARN" in capsys.readouterr().err
