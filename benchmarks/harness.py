"""Process helpers for benchmarks: run a command, time it, and read its own peak memory."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
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


def run_measured(
    args: list[str], env: dict[str, str], timeout_s: float = 1800, cwd: Path = REPO_ROOT
) -> Measured:
    """Run `args` from `cwd` (the repo root); return wall time and the child's own peak RSS."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(args, cwd=cwd, env=env, stdout=out, stderr=err)
        deadline = started + timeout_s
        peak_kb = 0
        while True:
            peak_kb = max(peak_kb, _high_water_kb(proc.pid))
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
    return Measured(seconds, (peak_kb or rusage.ru_maxrss) / 1024, stdout, stderr)


def _high_water_kb(pid: int) -> int:
    """The process's peak RSS so far (VmHWM), 0 once it is gone.

    Not wait4's ru_maxrss: Linux carries the RSS the process had before its exec into it, and Python starts
    children with vfork, so a child of a benchmark that had grown to 2 GB (generating 43.8M buckets in
    DuckDB) reported 1.9 GB for a build that never passed 1.45 GB. VmHWM is the peak of the exec'd program
    alone; sampled every 20 ms, it can miss only a peak in the child's last moments."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


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


@contextmanager
def simulator_process(sim_args: list[str], env: dict[str, str]) -> Iterator[str]:
    """Run `python -m simulator` in its own process on a free port; yield its base URL."""
    proc = subprocess.Popen(
        python_module("simulator", *sim_args), cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 60
        base_url = ""
        while not base_url and time.monotonic() < deadline and proc.stdout:
            line = proc.stdout.readline()
            if not line and proc.poll() is not None:
                break
            if "listening on " in line:
                base_url = line.split("listening on ", 1)[1].split()[0]
        if not base_url:
            raise RuntimeError("the simulator did not start within 60 s")
        yield base_url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
