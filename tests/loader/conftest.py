"""Fixtures for loader tests: a simulator on 127.0.0.1 with a frozen clock, and a loader pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from loader.pipeline import LoadSummary, run_load
from simulator import Simulator, SimulatorConfig, run_simulator

CLOCK = datetime(2026, 11, 20, 12, tzinfo=UTC)
SECRET = "s3cr3t-Zq8-loader-test"
METRICS = [
    "offered_count",
    "answered_count",
    "answered_ms_sum",
    "abandoned_count",
    "abandoned_ms_sum",
    "short_abandoned_count",
    "flow_out_count",
    "handled_count",
    "handle_ms_sum",
    "wait_count",
    "wait_ms_sum",
    "over_sla_count",
    "sl_numerator",
    "sl_denominator",
    "sl_target_ratio",
]
KEY = ["queue_id", "media_type", "interval_start", "interval_end"]
# Small waits so fault tests stay fast; the retry policy is the production one.
FAST = {"max_retries": 3, "backoff_base_s": 0.01, "backoff_cap_s": 0.05, "request_timeout_s": 5}
# One request at a time: for tests whose faults are scheduled by request number, so that numbers 3 and 4
# are one window's try and retry rather than two windows fetched side by side.
SEQUENTIAL = {"max_concurrent_requests": 1}


@pytest.fixture
def sim() -> Iterator[Simulator]:
    config = SimulatorConfig(client_secret=SECRET, clock_start=CLOCK)
    with run_simulator(config) as simulator:
        yield simulator


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "genesys.duckdb"


def sim_settings(sim: Simulator, **extra: Any) -> dict[str, Any]:
    return {
        "client_id": sim.config.client_id,
        "client_secret": sim.config.client_secret,
        "api_base_url": sim.base_url,
        "login_base_url": sim.base_url,
        **FAST,
        **extra,
    }


def load(sim: Simulator, db: Path, *, settings: dict[str, Any] | None = None, **kwargs: Any) -> LoadSummary:
    """run_load against `sim` with its credentials (the real-tenant code path, not the embedded one)."""
    kwargs.setdefault("now", sim.clock.now())
    return run_load(db_path=db, settings=sim_settings(sim, **(settings or {})), **kwargs)


def interval_rows(db: Path) -> list[dict[str, Any]]:
    """queue_intervals as ground-truth-shaped dicts, sorted like ground_truth()."""
    with duckdb.connect(str(db), read_only=True) as con:
        cursor = con.execute(
            f"select {', '.join(KEY + METRICS)} from genesys_raw.queue_intervals "
            "order by queue_id, media_type, interval_start"
        )
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    for row in rows:
        row["interval_start"] = row["interval_start"].astimezone(UTC)
        row["interval_end"] = row["interval_end"].astimezone(UTC)
    return rows


def query(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def aggregate_requests(sim: Simulator) -> list:
    return [r for r in sim.requests if r.path.endswith("/aggregates/query")]
