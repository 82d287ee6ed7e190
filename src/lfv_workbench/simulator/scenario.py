"""Scenario files: the projects, jobs, timelines and faults the simulator serves.

A scenario is JSON (see ``docs/simulator.md``).  :func:`load_scenario_file` and
:func:`parse_scenario` refuse a bad one with :class:`ScenarioError`, whose message names every
bad field by its path (``projects[0].jobs[1].timeline[2].at``) and the reason.

The top level is one account in one region (the *default world*: every request not addressed to
another one); ``accounts`` adds more, one entry per account and region, each with its own
projects and faults (see ``docs/simulator.md``, "Several accounts and regions").
"""

from __future__ import annotations

import json
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationError,
    field_validator,
    model_validator,
)

from lfv_workbench.simulator.clock import DEFAULT_START_TIME
from lfv_workbench.simulator.faults import (
    FaultConfig,
    FaultsError,
    format_validation_error,
    parse_faults,
)
from lfv_workbench.simulator.model import shape, validate

KNOWN_STATUSES = ("CREATED", "RUNNING", "SUCCEEDED", "FAILED")
ACCOUNT_PATTERN = r"^[0-9]{12}$"
REGION_PATTERN = r"^[a-z]{2}(-[a-z]+)+-[0-9]+$"


class ScenarioError(ValueError):
    """A scenario is invalid; the message names the field (by path) and the reason."""


class ScenarioWarning(UserWarning):
    """A scenario is valid but unusual (an unknown status string, for instance)."""


def _check_shape(shape_name: str, value: Any, field: str) -> Any:
    errors = validate(shape(shape_name), value, field)
    if errors:
        raise ValueError("; ".join(errors))
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _any_text(value: Any) -> str:
    """Any ``str`` the service could send, lone surrogates included (which pydantic's own
    ``str`` refuses): a status or a message is served as it is."""
    if not isinstance(value, str):
        raise ValueError(f"must be text, got {type(value).__name__}")
    return value


def _status_text(value: Any) -> str:
    if not _any_text(value):
        raise ValueError("must not be empty")
    return str(value)


#: A status or message: any text, any code points.
AnyText = Annotated[str, PlainValidator(_any_text)]
StatusText = Annotated[str, PlainValidator(_status_text)]


class Step(_Strict):
    at: float = Field(description="virtual seconds from start_time (negative: before the start)")
    status: StatusText
    message: AnyText | None = None


class Defaults(_Strict):
    created_s: float = Field(5, ge=0, description="CREATED -> RUNNING for started jobs")
    running_s: float = Field(120, ge=0, description="RUNNING -> SUCCEEDED for started jobs")


class Job(_Strict):
    name: str
    model_version: str = "1"
    description: str | None = None
    method: str = "Greengrass"
    greengrass: dict[str, Any] | None = None
    deleted_at: float | None = None
    timeline: list[Step] = Field(min_length=1)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return str(_check_shape("ModelPackagingJobName", value, "name"))

    @field_validator("model_version")
    @classmethod
    def _version(cls, value: str) -> str:
        return str(_check_shape("ModelVersion", value, "model_version"))

    @field_validator("description")
    @classmethod
    def _description(cls, value: str | None) -> str | None:
        return (
            None
            if value is None
            else str(_check_shape("ModelPackagingJobDescription", value, "description"))
        )

    @field_validator("greengrass")
    @classmethod
    def _greengrass(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is None:
            return None
        _check_shape("GreengrassConfiguration", value, "greengrass")
        if ("TargetDevice" in value) == ("TargetPlatform" in value):
            raise ValueError("set exactly one of TargetDevice and TargetPlatform")
        return value

    @field_validator("timeline")
    @classmethod
    def _ordered(cls, steps: list[Step]) -> list[Step]:
        for i in range(1, len(steps)):
            if steps[i].at < steps[i - 1].at:
                raise ValueError(
                    f"steps must be in time order: step {i} at {steps[i].at} comes before "
                    f"step {i - 1} at {steps[i - 1].at}"
                )
        return steps


class Project(_Strict):
    name: str
    appears_at: float = 0
    deleted_at: float | None = None
    model_versions: list[str] = Field(default_factory=lambda: ["1"], min_length=1)
    jobs: list[Job] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return str(_check_shape("ProjectName", value, "name"))

    @field_validator("model_versions")
    @classmethod
    def _versions(cls, values: list[str]) -> list[str]:
        for value in values:
            _check_shape("ModelVersion", value, "model_versions")
        return values

    @model_validator(mode="after")
    def _jobs(self) -> Project:
        seen: dict[str, int] = {}
        for i, job in enumerate(self.jobs):
            if job.name in seen:
                _recreated(seen[job.name], self.jobs[seen[job.name]], i, job)
            seen[job.name] = i
            if job.model_version not in self.model_versions:
                raise ValueError(
                    f"jobs[{i}].model_version: {job.model_version!r} is not one of the "
                    f"project's model_versions {self.model_versions}"
                )
        return self


def _check_unique_projects(projects: list[Project]) -> None:
    seen: set[str] = set()
    for i, project in enumerate(projects):
        if project.name in seen:
            raise ValueError(f"projects[{i}].name: duplicate project name {project.name!r}")
        seen.add(project.name)


def _status_warnings(projects: list[Project], prefix: str = "") -> list[str]:
    out = []
    for i, project in enumerate(projects):
        for j, job in enumerate(project.jobs):
            for k, step in enumerate(job.timeline):
                if step.status not in KNOWN_STATUSES:
                    out.append(
                        f"{prefix}projects[{i}].jobs[{j}].timeline[{k}].status: {step.status!r} "
                        f"is not a known status ({', '.join(KNOWN_STATUSES)}); served as is"
                    )
    return out


class AccountScenario(_Strict):
    """One more account and region the simulator serves (an entry of ``accounts``)."""

    account: str = Field(pattern=ACCOUNT_PATTERN)
    region: str = Field(pattern=REGION_PATTERN)
    #: Whether the local stack creates the member role (``lfv-monitor-reader``) in this
    #: account; the simulator itself ignores it.
    member_role: bool = True
    defaults: Defaults | None = None
    projects: list[Project] = Field(default_factory=list)
    faults: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _unique_projects(self) -> AccountScenario:
        _check_unique_projects(self.projects)
        return self


def _recreated(first_index: int, first: Job, index: int, job: Job) -> None:
    """A job may be listed again under its name only as a re-creation: after the earlier
    incarnation's ``deleted_at`` (in the list, the earlier one comes first)."""
    created = job.timeline[0].at
    if first.deleted_at is None or first.deleted_at > created:
        raise ValueError(
            f"jobs[{index}].name: duplicate job name {job.name!r}: a job may be re-created "
            f"under its name only after jobs[{first_index}]'s deleted_at "
            f"({first.deleted_at}), and this one is created at {created}"
        )
    if first.timeline[0].at >= created:
        raise ValueError(
            f"jobs[{index}].timeline[0].at: a re-created job must start after the earlier "
            f"incarnation jobs[{first_index}] was created"
        )


class Scenario(_Strict):
    start_time: datetime = DEFAULT_START_TIME
    seed: int = 1
    region: str = Field("us-east-1", pattern=REGION_PATTERN)
    account_id: str = Field("123456789012", pattern=ACCOUNT_PATTERN)
    defaults: Defaults = Field(default_factory=Defaults)
    projects: list[Project] = Field(default_factory=list)
    faults: dict[str, Any] = Field(default_factory=dict)
    accounts: list[AccountScenario] = Field(default_factory=list)

    @field_validator("start_time")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("start_time needs a time zone (for example 2026-11-01T00:00:00Z)")
        return value.astimezone(UTC)

    @model_validator(mode="after")
    def _unique_projects(self) -> Scenario:
        _check_unique_projects(self.projects)
        return self

    @model_validator(mode="after")
    def _unique_worlds(self) -> Scenario:
        seen = {(self.account_id, self.region): "the top level (account_id, region)"}
        member_role: dict[str, tuple[int, bool]] = {}
        for i, entry in enumerate(self.accounts):
            key = (entry.account, entry.region)
            if key in seen:
                raise ValueError(
                    f"accounts[{i}]: account {entry.account} in {entry.region} is already "
                    f"served by {seen[key]}"
                )
            seen[key] = f"accounts[{i}]"
            first = member_role.setdefault(entry.account, (i, entry.member_role))
            if first[1] != entry.member_role:
                raise ValueError(
                    f"accounts[{i}].member_role: {entry.member_role} disagrees with "
                    f"accounts[{first[0]}].member_role for account {entry.account} (the role "
                    f"is per account, not per region)"
                )
        return self

    def fault_config(self) -> FaultConfig:
        return parse_faults(self.faults)

    def worlds(self) -> list[Scenario]:
        """Every account and region this scenario serves, each as a single-account scenario:
        the top level first (the default world), then ``accounts`` in order."""
        top = self.model_copy(update={"accounts": []})
        return [top] + [
            Scenario.model_construct(
                start_time=self.start_time,
                seed=self.seed,
                region=entry.region,
                account_id=entry.account,
                defaults=entry.defaults or self.defaults,
                projects=entry.projects,
                faults=entry.faults,
                accounts=[],
            )
            for entry in self.accounts
        ]

    def member_role_accounts(self) -> list[str]:
        """The accounts of ``accounts`` that have the member role, in order, once each."""
        return list(dict.fromkeys(e.account for e in self.accounts if e.member_role))

    def warnings(self) -> list[str]:
        """Valid but unusual things: unknown status strings (the monitor must cope with them)."""
        out = _status_warnings(self.projects)
        for i, entry in enumerate(self.accounts):
            out.extend(_status_warnings(entry.projects, f"accounts[{i}]."))
        return out


def parse_scenario(data: Any, *, source: str = "scenario") -> Scenario:
    """Validate a scenario document (already parsed JSON)."""
    if not isinstance(data, dict):
        raise ScenarioError(f"{source}: must be a JSON object, got {type(data).__name__}")
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(f"{source}: {format_validation_error(exc)}") from exc
    try:
        scenario.fault_config()
    except FaultsError as exc:
        raise ScenarioError(f"{source}: {exc}") from exc
    for i, entry in enumerate(scenario.accounts):
        try:
            parse_faults(entry.faults, f"accounts[{i}].faults")
        except FaultsError as exc:
            raise ScenarioError(f"{source}: {exc}") from exc
    for message in scenario.warnings():
        warnings.warn(f"{source}: {message}", ScenarioWarning, stacklevel=2)
    return scenario


def load_scenario_file(path: str | Path) -> Scenario:
    """Read and validate a scenario file; raise :class:`ScenarioError` naming what is wrong."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"{file}: cannot read the scenario file ({exc.strerror})") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScenarioError(
            f"{file}: not valid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from exc
    return parse_scenario(data, source=str(file))


def example_scenario_path() -> Path:
    """The example scenario shipped with the package."""
    return Path(__file__).parent / "scenarios" / "example.json"


def org_scenario_path() -> Path:
    """The organization ``lfv-monitor demo --org`` plays: the monitoring account and two member
    accounts in two regions, one member without its role."""
    return Path(__file__).parent / "scenarios" / "org.json"


def demo_scenario_path() -> Path:
    """The scenario ``lfv-monitor demo`` plays (and ``local up`` serves by default)."""
    return Path(__file__).parent / "scenarios" / "demo.json"
