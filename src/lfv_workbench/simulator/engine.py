"""The simulated service: projects and jobs in an index, their lifecycles on the virtual clock.

Every operation does work proportional to the page it returns (sorted name lists plus
``bisect``), never to the fleet, so fleets of thousands of jobs stay fast.  A job's state at
virtual time *t* is the last step of its timeline with ``at <= t``.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import json
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from lfv_workbench.simulator.clock import VirtualClock
from lfv_workbench.simulator.model import error_members
from lfv_workbench.simulator.scenario import Defaults, Scenario

DEFAULT_MESSAGES = {
    "CREATED": "Model packaging job created.",
    "RUNNING": "Model packaging job is running.",
    "SUCCEEDED": "Model packaging job completed successfully.",
    "FAILED": "Model packaging job failed.",
}
DEFAULT_BUCKET = "lfv-simulator-artifacts"
MAX_RESULTS = 100
SERVICE_CODE = "lookoutvision"
QUOTA_CODE = "L-7A1E5F2C"  # a stable, made-up quota code for "requests per second per API"


class ServiceError(Exception):
    """A modelled error the simulator answers with (code, message, members, Retry-After)."""

    def __init__(
        self, code: str, message: str, *, retry_after: int | None = None, **members: str
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retry_after = retry_after
        self.members = members

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"message": self.message}
        for name in error_members(self.code):
            if name in self.members:
                out[name] = self.members[name]
        return out


def validation_error(message: str) -> ServiceError:
    return ServiceError("ValidationException", message)


def throttling_error(retry_after: int, operation: str) -> ServiceError:
    return ServiceError(
        "ThrottlingException",
        f"Rate exceeded for {operation}",
        retry_after=retry_after,
        QuotaCode=QUOTA_CODE,
        ServiceCode=SERVICE_CODE,
    )


def injected_error(code: str, operation: str) -> ServiceError:
    """A fault-injected error with every member its shape requires."""
    retry_after = 1 if code in ("ThrottlingException", "InternalServerException") else None
    return ServiceError(
        code,
        f"Injected {code} for {operation}",
        retry_after=retry_after,
        ResourceId="simulator",
        ResourceType="PROJECT",
        QuotaCode=QUOTA_CODE,
        ServiceCode=SERVICE_CODE,
    )


def access_denied(operation: str, arn: str) -> ServiceError:
    """What an IAM or SCP deny on a project's resources answers (a fault, ``denied_projects``)."""
    return ServiceError(
        "AccessDeniedException",
        f"User is not authorized to perform: lookoutvision:{operation} on resource: {arn} "
        "with an explicit deny",
    )


@dataclass(slots=True)
class JobState:
    project: str
    name: str
    model_version: str
    description: str | None
    method: str
    greengrass: dict[str, Any]
    deleted_at: float | None
    steps: list[tuple[float, str, str | None]]
    ats: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.ats = [at for at, _, _ in self.steps]

    def exists(self, now: float) -> bool:
        return self.ats[0] <= now and (self.deleted_at is None or now < self.deleted_at)

    def reached(self, now: float) -> int:
        """Number of timeline steps reached at ``now``."""
        return bisect.bisect_right(self.ats, now)


@dataclass(slots=True)
class ProjectState:
    name: str
    appears_at: float
    deleted_at: float | None
    model_versions: list[str]
    #: Every incarnation of each job name, in creation order: a job deleted and created again
    #: under its name is a new incarnation (its own CreationTimestamp and history).
    jobs: dict[str, list[JobState]] = field(default_factory=dict)
    job_names: list[str] = field(default_factory=list)

    def exists(self, now: float) -> bool:
        return self.appears_at <= now and (self.deleted_at is None or now < self.deleted_at)

    def add_job(self, job: JobState) -> None:
        if job.name not in self.jobs:
            bisect.insort(self.job_names, job.name)
        incarnations = self.jobs.setdefault(job.name, [])
        incarnations.append(job)
        incarnations.sort(key=lambda j: j.ats[0])

    def job(self, name: str, now: float) -> JobState | None:
        """The incarnation of ``name`` that answers at ``now``: the latest one created by then
        (which may be deleted), else the first (not created yet); None for an unknown name."""
        incarnations = self.jobs.get(name)
        if not incarnations:
            return None
        created = [job for job in incarnations if job.ats[0] <= now]
        return created[-1] if created else incarnations[0]


def _token(kind: str, scope: str, after: str) -> str:
    raw = json.dumps([kind, scope, after], separators=(",", ":")).encode()
    return base64.b64encode(raw).decode("ascii")


def _untoken(token: str, kind: str, scope: str) -> str:
    try:
        got_kind, got_scope, after = json.loads(base64.b64decode(token, validate=True))
    except (binascii.Error, ValueError, TypeError) as exc:
        raise validation_error(
            "Invalid pagination token: it was not issued by the service"
        ) from exc
    if got_kind != kind or got_scope != scope or not isinstance(after, str):
        raise validation_error(
            "Invalid pagination token: it belongs to a different operation or project"
        )
    return after


class Engine:
    """The simulated Lookout for Vision account.  Thread-safe.

    It reads the clock it is given; whoever loads a scenario resets that clock (several engines
    may share one).
    """

    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        self._lock = threading.RLock()
        self.calls: Counter[str] = Counter()
        self.faults_injected: Counter[str] = Counter()
        self._client_tokens: dict[tuple[str, str], str] = {}
        self.load(Scenario())

    # --- scenario ------------------------------------------------------------------------

    def load(self, scenario: Scenario) -> None:
        with self._lock:
            self.scenario = scenario
            self.region = scenario.region
            self.account_id = scenario.account_id
            self.defaults: Defaults = scenario.defaults
            self.projects: dict[str, ProjectState] = {}
            self.project_names: list[str] = []
            self._client_tokens.clear()
            self._started = 0
            for p in scenario.projects:
                project = ProjectState(p.name, p.appears_at, p.deleted_at, list(p.model_versions))
                for j in p.jobs:
                    steps = [(s.at, s.status, s.message) for s in j.timeline]
                    project.add_job(
                        JobState(
                            project=p.name,
                            name=j.name,
                            model_version=j.model_version,
                            description=j.description,
                            method=j.method,
                            greengrass=self._greengrass(p.name, j.name, j.greengrass),
                            deleted_at=j.deleted_at,
                            steps=steps,
                        )
                    )
                self.projects[p.name] = project
            self.project_names = sorted(self.projects)
            self.reset_counters()

    def reset_counters(self) -> None:
        with self._lock:
            self.calls.clear()
            self.faults_injected.clear()

    def _greengrass(self, project: str, job: str, config: dict[str, Any] | None) -> dict[str, Any]:
        if config is not None:
            return dict(config)
        return {
            "TargetDevice": "jetson_xavier",
            "S3OutputLocation": {"Bucket": DEFAULT_BUCKET, "Prefix": f"{project}/{job}/"},
            "ComponentName": f"{project}-{job}"[:128],
        }

    # --- helpers -------------------------------------------------------------------------

    def arn(self, project: str) -> str:
        return f"arn:aws:lookoutvision:{self.region}:{self.account_id}:project/{project}"

    def _project(self, name: str, now: float) -> ProjectState:
        project = self.projects.get(name)
        if project is None or not project.exists(now):
            raise ServiceError(
                "ResourceNotFoundException",
                f"The project {name} does not exist.",
                ResourceId=name,
                ResourceType="PROJECT",
            )
        return project

    def _job(self, project: ProjectState, name: str, now: float) -> JobState:
        job = project.job(name, now)
        if job is None or not job.exists(now):
            raise ServiceError(
                "ResourceNotFoundException",
                f"The model packaging job {name} does not exist in project {project.name}.",
                ResourceId=name,
                ResourceType="MODEL_PACKAGE_JOB",
            )
        return job

    def _project_metadata(self, project: ProjectState) -> dict[str, Any]:
        return {
            "ProjectArn": self.arn(project.name),
            "ProjectName": project.name,
            "CreationTimestamp": self.clock.epoch(project.appears_at),
        }

    def _job_metadata(self, job: JobState, now: float) -> dict[str, Any]:
        reached = job.reached(now)
        _, status, message = job.steps[reached - 1]
        out: dict[str, Any] = {
            "JobName": job.name,
            "ProjectName": job.project,
            "ModelVersion": job.model_version,
        }
        if job.description is not None:
            out["ModelPackagingJobDescription"] = job.description
        out["ModelPackagingMethod"] = job.method
        out["Status"] = status
        message = message if message is not None else DEFAULT_MESSAGES.get(status)
        if message is not None:
            out["StatusMessage"] = message
        out["CreationTimestamp"] = self.clock.epoch(job.ats[0])
        out["LastUpdatedTimestamp"] = self.clock.epoch(job.ats[reached - 1])
        return out

    def _config(self, job: JobState) -> dict[str, Any]:
        config = dict(job.greengrass)
        config.setdefault("ComponentVersion", f"{job.model_version}.0.0")
        return config

    def _paginate(
        self, names: list[str], params: dict[str, Any], kind: str, scope: str, visible: Any
    ) -> tuple[list[Any], str | None]:
        limit: int = params.get("MaxResults") or MAX_RESULTS
        token = params.get("NextToken")
        index = bisect.bisect_right(names, _untoken(token, kind, scope)) if token else 0
        items: list[Any] = []
        last = None
        while index < len(names) and len(items) < limit:
            item = visible(names[index])
            if item is not None:
                items.append(item)
                last = names[index]
            index += 1
        # Another page if anything visible follows; the look-ahead is bounded by one page, past
        # which a token is returned anyway (a later page may then be empty, which clients allow).
        more = False
        for probe in range(index, len(names)):
            if probe - index >= limit or visible(names[probe]) is not None:
                more = True
                break
        return items, (_token(kind, scope, last) if more and last is not None else None)

    # --- operations ----------------------------------------------------------------------

    def handle(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        handler = getattr(self, f"_op_{operation}")
        with self._lock:
            result: dict[str, Any] = handler(params, self.clock.now())
            return result

    def _op_ListProjects(self, params: dict[str, Any], now: float) -> dict[str, Any]:
        def visible(name: str) -> dict[str, Any] | None:
            project = self.projects[name]
            return self._project_metadata(project) if project.exists(now) else None

        items, token = self._paginate(self.project_names, params, "projects", "", visible)
        out: dict[str, Any] = {"Projects": items}
        if token:
            out["NextToken"] = token
        return out

    def _op_CreateProject(self, params: dict[str, Any], now: float) -> dict[str, Any]:
        name = params["ProjectName"]
        existing = self.projects.get(name)
        if existing is not None and (existing.deleted_at is None or now < existing.deleted_at):
            raise ServiceError(
                "ConflictException",
                f"A project named {name} already exists.",
                ResourceId=name,
                ResourceType="PROJECT",
            )
        project = ProjectState(name, now, None, ["1"])
        if existing is None:
            bisect.insort(self.project_names, name)
        self.projects[name] = project
        return {"ProjectMetadata": self._project_metadata(project)}

    def _op_DescribeProject(self, params: dict[str, Any], now: float) -> dict[str, Any]:
        project = self._project(params["ProjectName"], now)
        return {"ProjectDescription": {**self._project_metadata(project), "Datasets": []}}

    def _op_DeleteProject(self, params: dict[str, Any], now: float) -> dict[str, Any]:
        project = self._project(params["ProjectName"], now)
        project.deleted_at = now
        return {"ProjectArn": self.arn(project.name)}

    def _op_StartModelPackagingJob(self, params: dict[str, Any], now: float) -> dict[str, Any]:
        project = self._project(params["ProjectName"], now)
        token = params.get("ClientToken")
        if token and (project.name, token) in self._client_tokens:
            return {"JobName": self._client_tokens[(project.name, token)]}
        greengrass = params["Configuration"].get("Greengrass") or {}
        if ("TargetDevice" in greengrass) == ("TargetPlatform" in greengrass):
            raise validation_error(
                "Specify exactly one of TargetDevice and TargetPlatform in "
                "Configuration.Greengrass."
            )
        version = params["ModelVersion"]
        if version == "latest":
            version = max(project.model_versions, key=int)
        if version not in project.model_versions:
            raise ServiceError(
                "ResourceNotFoundException",
                f"Model version {version} does not exist in project {project.name}.",
                ResourceId=version,
                ResourceType="MODEL",
            )
        self._started += 1
        name = params.get("JobName") or f"{project.name[:40]}-{version}-{self._started}"
        name = "".join(c if c.isalnum() or c == "-" else "-" for c in name)[:64]
        existing = project.job(name, now)
        if existing is not None and (existing.deleted_at is None or now < existing.deleted_at):
            raise ServiceError(
                "ConflictException",
                f"A model packaging job named {name} already exists in project {project.name}.",
                ResourceId=name,
                ResourceType="MODEL_PACKAGE_JOB",
            )
        running = now + self.defaults.created_s
        done = running + self.defaults.running_s
        steps: list[tuple[float, str, str | None]] = [
            (now, "CREATED", "Model packaging job created."),
            (running, "RUNNING", f"Packaging model version {version}."),
            (running + self.defaults.running_s / 2, "RUNNING", "Compiling the model."),
            (done, "SUCCEEDED", "Model packaging job completed successfully."),
        ]
        project.add_job(
            JobState(
                project=project.name,
                name=name,
                model_version=version,
                description=params.get("Description"),
                method="Greengrass",
                greengrass=dict(greengrass),
                deleted_at=None,
                steps=steps,
            )
        )
        if token:
            self._client_tokens[(project.name, token)] = name
        return {"JobName": name}

    def _op_ListModelPackagingJobs(self, params: dict[str, Any], now: float) -> dict[str, Any]:
        project = self._project(params["ProjectName"], now)

        def visible(name: str) -> dict[str, Any] | None:
            job = project.job(name, now)
            return self._job_metadata(job, now) if job is not None and job.exists(now) else None

        items, token = self._paginate(project.job_names, params, "jobs", project.name, visible)
        out: dict[str, Any] = {"ModelPackagingJobs": items}
        if token:
            out["NextToken"] = token
        return out

    def _op_DescribeModelPackagingJob(self, params: dict[str, Any], now: float) -> dict[str, Any]:
        project = self._project(params["ProjectName"], now)
        job = self._job(project, params["JobName"], now)
        description = self._job_metadata(job, now)
        config = self._config(job)
        out: dict[str, Any] = {
            "JobName": description.pop("JobName"),
            "ProjectName": description.pop("ProjectName"),
            "ModelVersion": description.pop("ModelVersion"),
            "ModelPackagingConfiguration": {"Greengrass": config},
        }
        out.update(description)
        if description["Status"] == "SUCCEEDED":
            component = config["ComponentName"]
            version = config["ComponentVersion"]
            out["ModelPackagingOutputDetails"] = {
                "Greengrass": {
                    # The model's pattern for this ARN is arn:*:greengrass:*:aws:components:*
                    "ComponentVersionArn": (
                        f"arn:aws:greengrass:{self.region}:aws:components:{component}"
                        f":versions:{version}"
                    ),
                    "ComponentName": component,
                    "ComponentVersion": version,
                }
            }
        return {"ModelPackagingDescription": out}

    # --- control -------------------------------------------------------------------------

    def record_call(self, operation: str) -> None:
        with self._lock:
            self.calls[operation] += 1

    def record_fault(self, kind: str) -> None:
        with self._lock:
            self.faults_injected[kind] += 1

    def _job_state(self, project: ProjectState, job: JobState, now: float) -> dict[str, Any]:
        """One incarnation of a job in ``GET /_simulator/state``: its history up to ``now``."""
        history = [
            {
                "at": at,
                "time": self.clock.iso(at),
                "status": status,
                "message": message if message is not None else DEFAULT_MESSAGES.get(status),
            }
            for at, status, message in job.steps[: job.reached(now)]
        ]
        last = history[-1] if history else {"status": None, "message": None}
        deleted = (job.deleted_at is not None and now >= job.deleted_at) or not (
            project.deleted_at is None or now < project.deleted_at
        )
        return {
            "project": project.name,
            "job": job.name,
            "created_at": job.ats[0],
            "created": self.clock.iso(job.ats[0]),
            "deleted_at": job.deleted_at,
            "status": last["status"],
            "message": last["message"],
            "exists": job.exists(now) and project.exists(now),
            "deleted": deleted,
            "history": history,
        }

    def state(self) -> dict[str, Any]:
        with self._lock:
            now = self.clock.now()
            projects = []
            jobs = []
            for name in self.project_names:
                project = self.projects[name]
                projects.append(
                    {
                        "name": name,
                        "exists": project.exists(now),
                        "deleted": project.deleted_at is not None and now >= project.deleted_at,
                        "appears_at": project.appears_at,
                        "deleted_at": project.deleted_at,
                        "model_versions": list(project.model_versions),
                        "jobs": len(project.job_names),
                    }
                )
                jobs += [
                    self._job_state(project, job, now)
                    for job_name in project.job_names
                    for job in project.jobs[job_name]
                ]
            return {
                "now": now,
                "time": self.clock.iso(now),
                "speed": self.clock.speed,
                "calls": dict(self.calls),
                "faults_injected": dict(self.faults_injected),
                "projects": projects,
                "jobs": jobs,
            }
