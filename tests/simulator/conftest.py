"""Fixtures for the simulator tests: a running simulator with a frozen clock and a client holding a token."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from simhelpers import CLOCK, SimClient

from simulator import Simulator, SimulatorConfig, run_simulator


@pytest.fixture
def sim_config() -> SimulatorConfig:
    return SimulatorConfig(clock_start=CLOCK)


@pytest.fixture
def sim(sim_config: SimulatorConfig) -> Iterator[Simulator]:
    with run_simulator(sim_config) as running:
        yield running


@pytest.fixture
def client(sim: Simulator) -> Iterator[SimClient]:
    c = SimClient(sim)
    yield c
    c.http.close()
