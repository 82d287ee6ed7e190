"""Amazon Lookout for Vision on the wire, with a virtual clock (see ``docs/simulator.md``)."""

from lfv_workbench.simulator.clock import VirtualClock
from lfv_workbench.simulator.control import SimulatorControl, SimulatorControlError
from lfv_workbench.simulator.faults import FaultsError
from lfv_workbench.simulator.model import validate_output
from lfv_workbench.simulator.scenario import (
    Scenario,
    ScenarioError,
    ScenarioWarning,
    demo_scenario_path,
    example_scenario_path,
    load_scenario_file,
    org_scenario_path,
    parse_scenario,
)
from lfv_workbench.simulator.server import SimulatorServer

__all__ = [
    "FaultsError",
    "Scenario",
    "ScenarioError",
    "ScenarioWarning",
    "SimulatorControl",
    "SimulatorControlError",
    "SimulatorServer",
    "VirtualClock",
    "demo_scenario_path",
    "example_scenario_path",
    "load_scenario_file",
    "org_scenario_path",
    "parse_scenario",
    "validate_output",
]
