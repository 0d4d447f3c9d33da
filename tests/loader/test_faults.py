"""Resilience against the simulator's faults: 429 storms, 5xx, dropped connections, timeouts, window
splitting, pacing, bounded failure naming the window, and an interrupted backfill completed by a re-run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from loader.errors import AuthError, WindowError
from tests.loader.conftest import SECRET, SEQUENTIAL, aggregate_requests, interval_rows, load

pytestmark = pytest.mark.timeout(120)
REPO = Path(__file__).resolve().parents[2]
APRIL = (datetime(2026, 4, 1, tzinfo=UTC), datetime(2026, 4, 5, tzinfo=UTC))


def test_429_storm_with_and_without_retry_after(sim, db):
    # Requests 1-2 are org and queues; 3+ are the four windows.
    sim.faults.schedule = {3: "429", 4: "429", 5: "429-no-retry-after", 6: "429-no-retry-after", 8: "429"}
    summary = load(sim, db, start="2026-04-01", end="2026-04-04", settings={"max_retries": 5})
    assert summary.retries == 5 and summary.windows_split == 0
    assert interval_rows(db) == sim.ground_truth(*APRIL)


def test_retry_after_is_honoured(sim, db):
    sim.faults.schedule = {3: "429"}  # Retry-After: 1
    started = time.monotonic()
    load(sim, db, start="2026-04-01", end="2026-04-01", settings={"backoff_cap_s": 5, "backoff_base_s": 0.01})
    assert time.monotonic() - started >= 1.0


def test_5xx_drops_and_timeouts_are_retried(sim, db):
    sim.faults.schedule = {3: "502", 4: "503", 5: "504", 7: "drop", 9: "slow"}
    summary = load(sim, db, start="2026-04-01", end="2026-04-04", settings={"request_timeout_s": 0.5})
    assert summary.retries == 5
    assert interval_rows(db) == sim.ground_truth(*APRIL)


def test_a_lone_500_is_retried_once_and_a_second_one_fails_fast(sim, db):
    sim.faults.schedule = {3: "500"}
    summary = load(sim, db, start="2026-04-01", end="2026-04-04")
    assert summary.retries == 1
    assert interval_rows(db) == sim.ground_truth(*APRIL)

    sim.reset_counters()
    sim.faults.schedule = {3: "500", 4: "500"}
    with pytest.raises(WindowError) as err:
        load(sim, db, start="2026-04-01", end="2026-04-04", settings=SEQUENTIAL)
    assert "HTTP 500" in str(err.value)
    assert len(aggregate_requests(sim)) == 2  # the first try and one retry, no more


def test_random_faults_still_load_exactly(sim, db):
    sim.faults.random_rate = 0.4
    sim.faults.random_kinds = ("429", "502", "503", "504", "drop", "429-no-retry-after")
    summary = load(sim, db, start="2026-04-01", end="2026-04-12", settings={"max_retries": 10})
    assert summary.retries > 3
    assert interval_rows(db) == sim.ground_truth(APRIL[0], datetime(2026, 4, 13, tzinfo=UTC))


def test_persistent_503_fails_naming_the_window(sim, db):
    sim.faults.schedule = {n: "503" for n in range(4, 20)}
    with pytest.raises(WindowError) as err:
        load(sim, db, start="2026-04-01", end="2026-04-04", settings=SEQUENTIAL)
    message = str(err.value)
    assert "2026-04-02T00:00:00.000Z/2026-04-03T00:00:00.000Z" in message and "503" in message
    assert len(aggregate_requests(sim)) == 1 + 4  # one good window, then 1 + max_retries attempts


def test_429_storm_splits_the_window_and_goes_on(sim, db):
    sim.faults.schedule = {n: "429" for n in range(3, 7)}  # the first window's 4 attempts
    summary = load(sim, db, start="2026-04-01", end="2026-04-04", settings=SEQUENTIAL)
    assert summary.windows_split == 1
    halves = [r for r in aggregate_requests(sim) if r.status == 200][:2]
    assert [r.body.split(b'"')[3] for r in halves] == [
        b"2026-04-01T00:00:00.000Z/2026-04-01T12:00:00.000Z",
        b"2026-04-01T12:00:00.000Z/2026-04-02T00:00:00.000Z",
    ]
    assert interval_rows(db) == sim.ground_truth(*APRIL)


@pytest.mark.parametrize("fault", [{"max_result_rows": 60}, {"max_interval_days": 0.3}])
def test_too_large_query_is_split_down(sim, db, fault):
    for key, value in fault.items():
        setattr(sim.faults, key, value)
    summary = load(sim, db, start="2026-04-01", end="2026-04-04")
    assert summary.windows_split >= 4
    assert any(r.status == 400 for r in aggregate_requests(sim))
    assert interval_rows(db) == sim.ground_truth(*APRIL)


def test_pacing_slows_down_near_the_rate_limit(sim, db):
    sim.faults.rate_limit_per_minute = 10
    summary = load(
        sim, db, start="2026-04-01", end="2026-04-04", settings={"pace_ratio": 0.5, "backoff_cap_s": 0.1}
    )
    assert summary.paced_s > 0
    assert interval_rows(db) == sim.ground_truth(*APRIL)


@pytest.mark.parametrize(
    ("request_number", "permission"),
    [(3, "analytics:conversationAggregate:view"), (2, "routing:queue:view")],
)
def test_403_fails_fast_naming_the_permission(sim, db, request_number, permission):
    sim.faults.schedule = {request_number: "403"}
    with pytest.raises(AuthError) as err:
        load(sim, db, start="2026-04-01", end="2026-04-02", settings=SEQUENTIAL)
    message = str(err.value)
    assert f"lacks permission {permission}" in message and "code missing.permissions" in message
    assert "correlation id" in message
    assert len([r for r in sim.requests if r.path.startswith("/api/")]) == request_number  # no retry


@pytest.mark.parametrize(("kind", "code"), [("400", "bad.request"), ("404", "not.found")])
def test_400_and_404_fail_fast_with_genesys_details(sim, db, kind, code):
    sim.faults.schedule = {3: kind}
    with pytest.raises(WindowError) as err:
        load(sim, db, start="2026-04-01", end="2026-04-02", settings=SEQUENTIAL)
    message = str(err.value)
    assert message.startswith("window 2026-04-01T00:00:00.000Z/2026-04-02T00:00:00.000Z:")
    assert f"HTTP {kind}, code {code}, message '" in message and "correlation id" in message
    assert len(aggregate_requests(sim)) == 1 and err.value.exit_code == 1


def _cli(sim, db: Path, *args: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOURCES__", "GENESYS_"))}
    env.update(
        {
            "PYTHONPATH": str(REPO),
            "GENESYS_DUCKDB_PATH": str(db),
            "SOURCES__GENESYS__CLIENT_ID": sim.config.client_id,
            "SOURCES__GENESYS__CLIENT_SECRET": SECRET,
            "SOURCES__GENESYS__API_BASE_URL": sim.base_url,
            "SOURCES__GENESYS__LOGIN_BASE_URL": sim.base_url,
        }
    )
    return subprocess.Popen(
        [sys.executable, "-m", "loader", *args],
        cwd=db.parent,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_killed_backfill_then_rerun_is_complete(sim, db):
    args = ("--start", "2026-06-01", "--end", "2026-06-20", "--now", sim.clock.now().isoformat())
    sim.faults.latency_s = 0.1
    proc = _cli(sim, db, *args)
    deadline = time.monotonic() + 60
    while len(aggregate_requests(sim)) < 8 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    sim.faults.latency_s = 0
    done = _cli(sim, db, *args)
    out, err = done.communicate(timeout=90)
    assert done.returncode == 0, err
    assert "window 20 of 20" in err and "queue_intervals" in out and "SIMULATED" not in out + err
    expected = sim.ground_truth(datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 6, 21, tzinfo=UTC))
    assert interval_rows(db) == expected


def test_failed_run_then_rerun_is_complete(sim, db):
    sim.faults.schedule = {n: "503" for n in range(8, 30)}
    with pytest.raises(WindowError):
        load(sim, db, start="2026-06-01", end="2026-06-10")
    sim.faults.schedule = {}
    load(sim, db, start="2026-06-01", end="2026-06-10")
    expected = sim.ground_truth(datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 6, 11, tzinfo=UTC))
    assert interval_rows(db) == expected


def test_long_load_commits_in_chunks_and_a_failure_keeps_committed_windows(sim, db):
    # Window 6 keeps failing: the commits before it stay, the cursor moved with them.
    sim.faults.schedule = {n: "503" for n in range(8, 30)}
    settings = {"commit_rows": 400, **SEQUENTIAL}  # about two days of the default org per commit
    with pytest.raises(WindowError):
        load(sim, db, start="2026-06-01", end="2026-06-10", settings=settings)
    partial = interval_rows(db)
    last_day = max(r["interval_start"] for r in partial).replace(hour=0)
    committed_end = last_day + timedelta(days=1)  # commits end on window (day) boundaries
    assert datetime(2026, 6, 1, tzinfo=UTC) < committed_end < datetime(2026, 6, 6, tzinfo=UTC)
    assert partial == sim.ground_truth(datetime(2026, 6, 1, tzinfo=UTC), committed_end)
    sim.faults.schedule = {}
    summary = load(sim, db, start="2026-06-01", end="2026-06-10", settings=settings)
    assert summary.windows == 10
    expected = sim.ground_truth(datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 6, 11, tzinfo=UTC))
    assert interval_rows(db) == expected
