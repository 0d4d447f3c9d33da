"""Process helpers for benchmarks: run a command, time it, and read its own peak memory."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Measured:
    """Wall time and peak resident memory of one finished child process."""

    seconds: float
    peak_rss_mb: float
    stdout: str
    stderr: str


def run_measured(args: list[str], env: dict[str, str], timeout_s: float = 1800) -> Measured:
    """Run `args` from the repo root; return wall time and peak RSS (wait4: this child only)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(args, cwd=REPO_ROOT, env=env, stdout=out, stderr=err)
        deadline = started + timeout_s
        while True:
            pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                os.wait4(proc.pid, 0)
                raise TimeoutError(f"{' '.join(args)} ran longer than {timeout_s:.0f} s")
            time.sleep(0.02)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed with exit code {proc.returncode}:\n{stderr[-3000:]}")
    return Measured(seconds, rusage.ru_maxrss / 1024, stdout, stderr)


def python_module(*module_args: str) -> list[str]:
    """A command line that runs `python -m ...` with the benchmark's own interpreter."""
    return [sys.executable, "-m", *module_args]


def base_env(db_path: Path) -> dict[str, str]:
    """The environment of a benchmark child: telemetry off, its own DuckDB file, no user config."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOURCES__", "GENESYS_"))}
    env.update(
        GENESYS_DUCKDB_PATH=str(db_path),
        RUNTIME__DLTHUB_TELEMETRY="false",
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
        DBT_PROFILES_DIR=str(REPO_ROOT),
    )
    return env
