"""The Lookout for Vision simulator on 127.0.0.1, for integration tests.

``simulator``: a started :class:`SimulatorServer` at speed 0 (time moves only when a test
advances it) with an empty scenario, stopped after the test.  ``simulator_control``: a
:class:`SimulatorControl` for it.  Load a scenario with ``simulator_control.load_scenario``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from lfv_workbench.simulator import SimulatorControl, SimulatorServer


@pytest.fixture
def simulator() -> Iterator[SimulatorServer]:
    server = SimulatorServer(host="127.0.0.1", port=0, scenario=None, speed=0)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def simulator_control(simulator: SimulatorServer) -> SimulatorControl:
    return SimulatorControl(simulator.url)
