"""A minimal stand-in for the Lambda Python runtime's bootstrap, run as ``python -I -c <this>``.

The interpreter is the emulated runtime (``.venv-tools/lambda-runtime``: Python + boto3 +
the Powertools layer's packages); ``argv[1]`` is the task root (the extracted package), which
goes first on ``sys.path`` as ``/var/task`` does on Lambda. Like the runtime it reads
``_HANDLER``, imports the handler module by name, sets ``_X_AMZN_TRACE_ID`` for the invocation
and calls the handler once with ``argv[2]`` (a JSON event) and a context whose deadline is
``AWS_LAMBDA_FUNCTION_TIMEOUT`` seconds away. It prints one line ``LAMBDA-RESULT <json>``: the
handler's return value (or its error) and where the imported modules came from.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import sys
import time
import traceback
import uuid

TASK_ROOT = sys.argv[1]
sys.path.insert(0, TASK_ROOT)
#: Modules the function must not need: the CLI's and the tests' dependencies.
ABSENT = ("moto", "yaml", "rich", "samtranslator", "pytest", "lfv_workbench.simulator")


class Context:
    """The attributes of the runtime's ``LambdaContext`` that handlers use."""

    def __init__(self, timeout_seconds: float) -> None:
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = int(os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"])
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = "local"
        region = os.environ["AWS_REGION"]
        self.invoked_function_arn = (
            f"arn:aws:lambda:{region}:123456789012:function:{self.function_name}"
        )
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return int((self._deadline - time.monotonic()) * 1000)


def origin(module: str) -> str:
    loaded = sys.modules.get(module)
    return str(getattr(loaded, "__file__", "")) if loaded else ""


def main() -> None:
    event = json.loads(sys.argv[2])
    module_name, _, function_name = os.environ["_HANDLER"].rpartition(".")
    outcome: dict[str, object] = {}
    try:
        handler = getattr(importlib.import_module(module_name), function_name)
        trace_id = f"1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}"
        os.environ["_X_AMZN_TRACE_ID"] = f"Root={trace_id};Parent={uuid.uuid4().hex[:16]};Sampled=1"
        outcome["traceId"] = trace_id
        context = Context(float(os.environ["AWS_LAMBDA_FUNCTION_TIMEOUT"]))
        outcome["result"] = handler(event, context)
    except Exception as error:
        outcome["error"] = f"{type(error).__name__}: {error}"
        outcome["traceback"] = traceback.format_exc()
    import botocore

    outcome["origins"] = {
        name: origin(name) for name in ("lfv_monitor", "boto3", "aws_lambda_powertools", "pydantic")
    }
    outcome["botocore"] = botocore.__version__
    outcome["importable"] = sorted(m for m in ABSENT if _importable(m))
    print("LAMBDA-RESULT " + json.dumps(outcome, default=str), flush=True)


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


if __name__ == "__main__":
    main()
