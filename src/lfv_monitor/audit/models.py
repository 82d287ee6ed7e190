"""What the audit queries return: JSON-ready pydantic models (camelCase on the wire)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

_CONFIG = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)


class ChangeRecord(BaseModel):
    """One recorded change of a job (a history item)."""

    model_config = _CONFIG

    project: str = Field(description="Lookout for Vision project name")
    job: str = Field(description="model packaging job name")
    version: int = Field(description="1 for the job's first record, +1 for each change")
    observed_at: datetime = Field(description="when the monitor observed the change (UTC)")
    change_type: str = Field(description="BASELINE, DISCOVERED, STATUS, STATUS_MESSAGE or REMOVED")
    status: str | None = Field(description="the job's Status after the change")
    previous_status: str | None = Field(description="the Status recorded before, if any")
    status_message: str | None = Field(description="the StatusMessage after the change")
    status_message_truncated: bool = Field(
        default=False, description="true when the stored StatusMessage was cut to 4096 characters"
    )
    previous_status_message: str | None = None
    skipped_states: list[str] = Field(
        default_factory=list, description="statuses the job passed through between two polls"
    )
    observer: str = Field(description="who or what recorded the change (the monitor's name)")
    event_id: str = Field(description="the eventId of the announced event (sha256 hex)")
    project_arn: str | None = None
    created_at: datetime | None = Field(
        default=None,
        description=(
            "the job's CreationTimestamp: which incarnation of the name this record is about "
            "(a job re-created under the same name has another); null on records written "
            "before it was kept"
        ),
    )
    # Last: CSV columns stay where they were before issue 15; these two are appended.
    account: str | None = Field(
        default=None,
        description="the job's AWS account (null when the reader does not know the stack's own)",
    )
    region: str | None = Field(default=None, description="the job's AWS region")


class JobStateRecord(BaseModel):
    """The current state of one tracked job (its state item)."""

    model_config = _CONFIG

    project: str
    job: str
    status: str | None
    status_message: str | None
    status_message_truncated: bool = False
    version: int = Field(description="the version of the job's latest history record")
    observed_at: datetime | None = Field(description="when the latest change was observed (UTC)")
    last_updated: datetime | None = Field(
        description="the job's LastUpdatedTimestamp as the service last reported it"
    )
    project_arn: str | None = None
    last_event_id: str | None = None
    created_at: datetime | None = Field(
        default=None, description="the current incarnation's CreationTimestamp, if known"
    )
    removed: bool = Field(
        default=False, description="true when the monitor recorded the job as gone"
    )
    account: str | None = Field(
        default=None,
        description="the job's AWS account (null when the reader does not know the stack's own)",
    )
    region: str | None = Field(default=None, description="the job's AWS region")


class ChangePage(BaseModel):
    """One page of changes, in order; ``nextToken`` is null on the last page."""

    model_config = _CONFIG

    items: list[ChangeRecord]
    next_token: str | None = Field(
        default=None, description="pass as nextToken to get the next page; null when done"
    )


class JobStatePage(BaseModel):
    """One page of current job states ordered by project then job."""

    model_config = _CONFIG

    items: list[JobStateRecord]
    next_token: str | None = None
