"""SIGINT and SIGTERM mid-load: exit 130/143 with the re-run message, no traceback, committed windows kept,
workers stopped promptly; the same command then completes the load."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.loader.conftest import SECRET, interval_rows

pytestmark = pytest.mark.timeout(150)
REPO = Path(__file__).resolve().parents[2]
START = datetime(2026, 6, 1, tzinfo=UTC)


# Runs the loader CLI with one dlt step patched to signal the process as the step starts: the signal then
# arrives inside dlt's normalize or load, where dlt would hold it back (and drop it) unless told not to.
# "query": the signal arrives while DuckDB runs the load's COPY (in the main thread); DuckDB then raises
# RuntimeError('Query interrupted') in place of the handler's exception and dlt retries the job: unless the
# loader remembers the signal, the load runs to the end and exits 0 (as it once did in CI).
_SIGNAL_IN_STEP = """
import os, runpy, signal, sys, threading
from dlt.destinations.impl.duckdb.duck import DuckDbCopyJob
from dlt.load.load import Load
from dlt.normalize.normalize import Normalize
def signal_once():
    first = not os.environ.get("SIGNAL_SENT")
    os.environ["SIGNAL_SENT"] = "1"
    return first
def patch(step, method):
    original = getattr(step, method)
    def run(self, *args, **kwargs):
        if signal_once():
            os.kill(os.getpid(), signal.SIGTERM)
        return original(self, *args, **kwargs)
    setattr(step, method, run)
def patch_copy():
    original = DuckDbCopyJob.run
    def run(self):
        if self.load_table_name == "queue_intervals" and signal_once():
            threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGTERM)).start()
            busy = "select count(*) from range(3000000000) t(x) where x % 7 = 3"
            self._job_client.sql_client.execute_sql(busy)
        return original(self)
    DuckDbCopyJob.run = run
if sys.argv[1] == "query":
    patch_copy()
else:
    patch({"normalize": Normalize, "load": Load}[sys.argv[1]], "run")
sys.argv = ["loader", *sys.argv[2:]]
runpy.run_module("loader", run_name="__main__", alter_sys=True)
"""


def _cli(sim, db: Path, *args: str, step: str | None = None) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOURCES__", "GENESYS_"))}
    env.update(
        {
            "PYTHONPATH": str(REPO),
            "GENESYS_DUCKDB_PATH": str(db),
            "SOURCES__GENESYS__CLIENT_ID": sim.config.client_id,
            "SOURCES__GENESYS__CLIENT_SECRET": SECRET,
            "SOURCES__GENESYS__API_BASE_URL": sim.base_url,
            "SOURCES__GENESYS__LOGIN_BASE_URL": sim.base_url,
            "SOURCES__GENESYS__COMMIT_ROWS": "500",  # a commit every two days of the default org
        }
    )
    command = ["-c", _SIGNAL_IN_STEP, step] if step else ["-m", "loader"]
    return subprocess.Popen(
        [sys.executable, *command, *args],
        cwd=db.parent,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_mid_load_exits_cleanly_keeps_commits_and_a_rerun_completes(sim, db, sig, code):
    args = ("--start", "2026-06-01", "--end", "2026-06-20", "--now", sim.clock.now().isoformat())
    sim.faults.latency_s = 0.3
    proc = _cli(sim, db, *args)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stderr.readline, "")), daemon=True)
    reader.start()
    deadline = time.monotonic() + 60
    while not any("committed" in line for line in lines) and time.monotonic() < deadline:
        assert proc.poll() is None, "".join(lines)
        time.sleep(0.02)
    proc.send_signal(sig)  # mid-load: a commit is done, later windows are in flight
    signalled = time.monotonic()
    out = proc.stdout.read()
    proc.wait(timeout=30)
    reader.join(timeout=10)
    err = "".join(lines)
    assert time.monotonic() - signalled < 10  # worker threads stopped promptly
    assert proc.returncode == code, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines[-1] == "interrupted: re-run the same command to complete the load"
    assert "Traceback" not in err and "dlt extract step failed" not in err and out == ""
    # What was committed is whole windows from the start, exactly the simulator's figures.
    partial = interval_rows(db)
    assert partial, "no window was committed before the signal"
    committed_end = max(r["interval_start"] for r in partial).replace(hour=0) + timedelta(days=1)
    assert START < committed_end < datetime(2026, 6, 21, tzinfo=UTC)
    assert partial == sim.ground_truth(START, committed_end)
    sim.faults.latency_s = 0
    done = _cli(sim, db, *args)
    out, err = done.communicate(timeout=90)
    assert done.returncode == 0, err
    assert interval_rows(db) == sim.ground_truth(START, datetime(2026, 6, 21, tzinfo=UTC))


@pytest.mark.parametrize("step", ["normalize", "load", "query"])
def test_sigterm_inside_dlt_normalize_load_or_a_query_interrupts_and_a_rerun_completes(sim, db, step):
    args = ("--start", "2026-06-01", "--end", "2026-06-04", "--now", sim.clock.now().isoformat())
    proc = _cli(sim, db, *args, step=step)
    out, err = proc.communicate(timeout=90)
    assert proc.returncode == 143, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines[-1] == "interrupted: re-run the same command to complete the load"
    assert "Traceback" not in err and "failed" not in err and out == ""
    done = _cli(sim, db, *args)
    out, err = done.communicate(timeout=90)
    assert done.returncode == 0, err
    assert interval_rows(db) == sim.ground_truth(START, datetime(2026, 6, 5, tzinfo=UTC))
