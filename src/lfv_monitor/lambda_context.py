"""A Lambda context for running the handler outside Lambda (``poll``, the demo, tests)."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field


@dataclass
class LocalContext:
    """Quacks like ``LambdaContext``: the deadline is ``timeout_seconds`` from creation."""

    function_name: str = "lfv-monitor-local"
    timeout_seconds: float = 900.0
    memory_limit_in_mb: int = 256
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = "local"
    log_stream_name: str = "local"
    _started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:000000000000:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return int((self.timeout_seconds - (time.monotonic() - self._started)) * 1000)


def scheduled_event(execution_id: str | None = None) -> dict[str, str]:
    """The payload the template's schedule sends (see events/scheduled.json)."""
    return {
        "id": execution_id or str(uuid.uuid4()),
        "source": "aws.scheduler",
        "detail-type": "Scheduled Event",
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
