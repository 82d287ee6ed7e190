"""Write events/examples/job-state-change-*.json: one example EventBridge event per change type.

Run ``.venv/bin/python scripts/generate_event_examples.py`` after changing the contract; a unit
test fails while the committed examples differ from what this script produces.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lfv_monitor.domain.events import DEFAULT_SOURCE, DETAIL_TYPE, build_detail, event_id_for
from lfv_monitor.domain.models import Change, ChangeType, JobDescription, JobKey

EXAMPLES = Path(__file__).resolve().parent.parent / "events" / "examples"
ACCOUNT = "123456789012"
REGION = "us-east-1"
PROJECT_ARN = f"arn:aws:lookoutvision:{REGION}:{ACCOUNT}:project/widgets"
COMPONENT_ARN = f"arn:aws:greengrass:{REGION}:{ACCOUNT}:components:widgets-cam-7:versions:3.0.0"
KEY = JobKey("widgets", "cam-7")
CREATED_AT = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)


def _description(status: str, message: str, updated: datetime, *, output: bool) -> JobDescription:
    document: dict[str, Any] = {
        "JobName": KEY.job,
        "ProjectName": KEY.project,
        "ModelVersion": "3",
        "ModelPackagingJobDescription": "Camera 7 edge model",
        "ModelPackagingMethod": "Greengrass",
        "ModelPackagingConfiguration": {
            "Greengrass": {
                "TargetPlatform": {"Os": "LINUX", "Arch": "ARM64", "Accelerator": "NVIDIA"},
                "CompilerOptions": '{"gpu-code": "sm_72", "trt-ver": "8.5.2", "cuda-ver": "11.4"}',
                "S3OutputLocation": {"Bucket": "widgets-models", "Prefix": "cam-7/"},
                "ComponentName": "widgets-cam-7",
                "ComponentVersion": "3.0.0",
                "Tags": [{"Key": "team", "Value": "vision"}],
            }
        },
        "Status": status,
        "StatusMessage": message,
        "CreationTimestamp": CREATED_AT.timestamp(),
        "LastUpdatedTimestamp": updated.timestamp(),
    }
    if output:
        document["ModelPackagingOutputDetails"] = {
            "Greengrass": {
                "ComponentVersionArn": COMPONENT_ARN,
                "ComponentName": "widgets-cam-7",
                "ComponentVersion": "3.0.0",
            }
        }
    return JobDescription(
        key=KEY,
        status=status,
        status_message=message,
        model_version="3",
        creation_timestamp=CREATED_AT,
        last_updated=updated,
        document=document,
    )


def _change(
    change_type: ChangeType,
    version: int,
    status: str,
    previous: tuple[str | None, str | None],
    *,
    message: str | None,
    observed: datetime,
    skipped: tuple[str, ...] = (),
    description: JobDescription | None = None,
) -> Change:
    return Change(
        event_id=event_id_for(KEY, version, status, message),
        change_type=change_type,
        key=KEY,
        version=version,
        status=status,
        previous_status=previous[0],
        status_message=message,
        previous_status_message=previous[1],
        observed_at=observed,
        skipped_states=skipped,
        project_arn=PROJECT_ARN,
        description=description,
        account=ACCOUNT,
        region=REGION,
    )


def sample_changes() -> dict[str, Change]:
    """One realistic change per announced change type, keyed by the example's file suffix."""
    t1 = datetime(2026, 3, 2, 9, 0, 40, tzinfo=UTC)
    t2 = datetime(2026, 3, 2, 9, 4, 10, tzinfo=UTC)
    t3 = datetime(2026, 3, 2, 9, 21, 5, tzinfo=UTC)
    t4 = datetime(2026, 3, 3, 8, 0, 0, tzinfo=UTC)
    queued = "Packaging job queued"
    compiling = "Compiling the model for the target platform"
    failed = "Compilation failed: the target platform requires compiler option trt-ver"
    return {
        "discovered": _change(
            ChangeType.DISCOVERED,
            1,
            "RUNNING",
            (None, None),
            message=queued,
            observed=t1,
            skipped=("CREATED",),
            description=_description("RUNNING", queued, t1, output=False),
        ),
        "status-message": _change(
            ChangeType.STATUS_MESSAGE,
            2,
            "RUNNING",
            ("RUNNING", queued),
            message=compiling,
            observed=t2,
            description=_description("RUNNING", compiling, t2, output=False),
        ),
        "status-failed": _change(
            ChangeType.STATUS,
            3,
            "FAILED",
            ("RUNNING", compiling),
            message=failed,
            observed=t3,
            description=_description("FAILED", failed, t3, output=True),
        ),
        "removed": _change(
            ChangeType.REMOVED, 4, "REMOVED", ("FAILED", failed), message=None, observed=t4
        ),
    }


def example_event(change: Change, *, source: str = DEFAULT_SOURCE) -> dict[str, Any]:
    """The event as an EventBridge rule target receives it."""
    detail = build_detail(change)
    return {
        "version": "0",
        "id": f"{detail['eventId'][:8]}-{detail['eventId'][8:12]}-{detail['eventId'][12:16]}-"
        f"{detail['eventId'][16:20]}-{detail['eventId'][20:32]}",
        "detail-type": DETAIL_TYPE,
        "source": source,
        "account": ACCOUNT,
        "time": detail["observedAt"][:19] + "Z",
        "region": REGION,
        "resources": [change.project_arn] if change.project_arn else [],
        "detail": detail,
    }


def rendered_examples() -> dict[Path, str]:
    return {
        EXAMPLES / f"job-state-change-{name}.json": json.dumps(
            example_event(change), indent=2, ensure_ascii=False
        )
        + "\n"
        for name, change in sample_changes().items()
    }


def main() -> None:
    EXAMPLES.mkdir(parents=True, exist_ok=True)
    for path, text in rendered_examples().items():
        path.write_text(text, encoding="utf-8")
        print(path.relative_to(EXAMPLES.parent.parent))


if __name__ == "__main__":
    main()
