"""The simulator and moto server in their own process (so the benchmark's timings and memory
are the monitor's alone).  Prints one JSON line with both URLs, then serves until stdin closes.
"""

from __future__ import annotations

import copy
import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from benchmarks.harness import Endpoints


class _CopyWithoutTableBackups:
    """moto's ``copy`` module, except that a whole table is not deep-copied.

    moto backs up the *entire table* for every item of every ``TransactWriteItems`` (to roll
    back a cancelled transaction), which makes each change cost O(table size): seconds per
    change at fleet L, a cost of the emulator that real DynamoDB does not have.  The benchmark
    has a single writer, so no transaction is cancelled and no backup is needed (the cycles
    report ``lostRaces``; the benchmark would show any).  Only this benchmark process is
    patched; the tests use moto as it is.
    """

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value: Any, memo: Any = None) -> Any:
        from moto.dynamodb.models.table import Table

        if isinstance(value, Table):
            return value
        return copy.deepcopy(value, memo)


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    import moto.dynamodb.models as dynamodb_models

    setattr(dynamodb_models, "copy", _CopyWithoutTableBackups())  # noqa: B010
    from moto.server import ThreadedMotoServer

    from lfv_workbench.simulator import SimulatorServer

    simulator = SimulatorServer(host="127.0.0.1", port=0, speed=0).start()
    aws = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    aws.start()
    port = aws._server.server_port  # type: ignore[union-attr]
    print(json.dumps({"simulator": simulator.url, "moto": f"http://127.0.0.1:{port}"}), flush=True)
    try:
        sys.stdin.read()
    finally:
        aws.stop()
        simulator.stop()


@contextmanager
def servers() -> Iterator[Endpoints]:
    """Start a fresh server process; stop it (by closing its stdin) on exit."""
    process = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.servers"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line:
            raise RuntimeError("the server process exited before it printed its URLs")
        urls = json.loads(line)
        yield Endpoints(simulator=urls["simulator"], moto=urls["moto"])
    finally:
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


if __name__ == "__main__":
    main()
