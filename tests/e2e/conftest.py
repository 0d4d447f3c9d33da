"""End-to-end harness: the simulator in-process, the loader and dbt as subprocesses, as a user runs them
(scenarios that check only the data a build leaves may build in-process: Workspace.build_in_process)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import duckdb
import pytest

from simulator import Simulator, SimulatorConfig, run_simulator
from tests.inprocess import InProcessRun, run_main

REPO_ROOT = Path(__file__).resolve().parents[2]
# Past every date the scenarios load, so their buckets are final unless a test moves the clock.
SIM_CLOCK = datetime(2026, 11, 27, tzinfo=UTC)
CLIENT_SECRET = "e2e-Secret-7f3a9c1d5b-DO-NOT-LEAK"
Run = TypeVar("Run", subprocess.CompletedProcess, InProcessRun)


@dataclass
class Workspace:
    """One user's working copy: a DuckDB file, an exports folder, an environment aimed at a simulator."""

    sim: Simulator
    db_path: Path
    exports_dir: Path
    env: dict[str, str]

    def run(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, *args],
            cwd=REPO_ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def load(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        return self.run("-m", "loader", *args, timeout=timeout)

    def build(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        return self.run("-m", "reporting", "build", *args, timeout=timeout)

    def build_in_process(self, *args: str) -> InProcessRun:
        """`reporting build` in the test process (no Python start, no dbt import): for scenarios that check
        the data a build leaves; the subprocess build above stays for the command's own behaviour."""
        from reporting.__main__ import main

        return run_main(main, ["build", *args], self.env, REPO_ROOT)

    def export(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        return self.run(
            "-m", "reporting", "export", "--out-dir", str(self.exports_dir), *args, timeout=timeout
        )

    def rows(self, sql: str) -> list[dict]:
        con = duckdb.connect(str(self.db_path), read_only=True)
        try:
            con.execute("set TimeZone = 'UTC'")
            cursor = con.execute(sql)
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        finally:
            con.close()


def ok(result: Run) -> Run:
    """Assert a subprocess succeeded, showing its output when it did not."""
    assert result.returncode == 0, (
        f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    )
    return result


def make_workspace(sim: Simulator, tmp_path: Path, name: str = "ws") -> Workspace:
    folder = tmp_path / name
    folder.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOURCES__", "GENESYS_", "RUNTIME__"))}
    env.update(
        GENESYS_DUCKDB_PATH=str(folder / "genesys.duckdb"),
        GENESYS_BUILD_CACHE_DIR=os.environ.get("GENESYS_BUILD_CACHE_DIR") or str(folder / "build-cache"),
        SOURCES__GENESYS__CLIENT_ID=sim.config.client_id,
        SOURCES__GENESYS__CLIENT_SECRET=sim.config.client_secret,
        SOURCES__GENESYS__API_BASE_URL=sim.base_url,
        SOURCES__GENESYS__LOGIN_BASE_URL=sim.base_url,
        RUNTIME__DLTHUB_TELEMETRY="false",
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
        DBT_PROFILES_DIR=str(REPO_ROOT),
    )
    return Workspace(sim=sim, db_path=folder / "genesys.duckdb", exports_dir=folder / "exports", env=env)


@pytest.fixture
def sim() -> Iterator[Simulator]:
    config = SimulatorConfig(client_secret=CLIENT_SECRET, clock_start=SIM_CLOCK)
    with run_simulator(config) as running:
        yield running


@pytest.fixture
def workspace(sim: Simulator, tmp_path: Path) -> Workspace:
    return make_workspace(sim, tmp_path)
