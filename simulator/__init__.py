"""Genesys Cloud API simulator: a real HTTP server on 127.0.0.1 with deterministic queue data."""

from simulator.clock import SimClock
from simulator.config import Faults, SimulatorConfig
from simulator.org import SIMULATOR_ORG_ID, SimQueue, SimulatedOrg
from simulator.server import RecordedRequest, Simulator, ground_truth, run_simulator

__all__ = [
    "SIMULATOR_ORG_ID",
    "Faults",
    "RecordedRequest",
    "SimClock",
    "SimQueue",
    "SimulatedOrg",
    "Simulator",
    "SimulatorConfig",
    "ground_truth",
    "run_simulator",
]
