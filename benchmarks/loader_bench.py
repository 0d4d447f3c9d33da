"""Loader benchmarks: concurrency under latency and the rate limit, throughput against the pre-v2 loader
(commit 22c9aaf, in a temporary git worktree), and peak memory over a short and a long range."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb

from benchmarks.harness import REPO_ROOT, base_env, python_module, run_measured, simulator_process
from simulator import SimulatorConfig

SIM_CLOCK = datetime(2026, 11, 27, tzinfo=UTC)
LAST_DAY = date(2026, 11, 25)
BASELINE_COMMIT = "22c9aaf"  # main before Loader v2: one request in flight
RATE_PER_S = 300 / 60  # Genesys's 300 requests per minute


def _bucket_rows(db_path: Path) -> int:
    with duckdb.connect(str(db_path), read_only=True) as con:
        return con.execute("select count(*) from genesys_raw.queue_intervals").fetchone()[0]


def bench_loader(
    workdir: Path,
    *,
    days: int,
    queues: int,
    rate_limit: int = 0,
    latency_ms: int = 0,
    repo: Path = REPO_ROOT,
    label: str = "",
    extra_env: dict[str, str] | None = None,
) -> dict:
    """Load `days` days x `queues` queues x 2 media at PT1H with `python -m loader` (from `repo`) from a
    simulator in its own process, as a tenant would be remote."""
    db_path = workdir / f"loader{label}-{days}d-{queues}q-{rate_limit}rpm-{latency_ms}ms.duckdb"
    start = LAST_DAY - timedelta(days=days - 1)
    sim_args = ["--port", "0", "--queues", str(queues), "--clock", SIM_CLOCK.isoformat()]
    sim_args += ["--rate-limit", str(rate_limit), "--latency-ms", str(latency_ms)]
    with simulator_process(sim_args, base_env(db_path)) as base_url:
        env = base_env(db_path)
        env.update(
            SOURCES__GENESYS__CLIENT_ID=SimulatorConfig.client_id,
            SOURCES__GENESYS__CLIENT_SECRET=SimulatorConfig.client_secret,
            SOURCES__GENESYS__API_BASE_URL=base_url,
            SOURCES__GENESYS__LOGIN_BASE_URL=base_url,
            **(extra_env or {}),
        )
        command = python_module("loader", "--start", start.isoformat(), "--end", LAST_DAY.isoformat())
        measured = run_measured(command, env, cwd=repo)
    calls = re.search(r"API calls (\d+)", measured.stdout)
    rows = _bucket_rows(db_path)
    db_path.unlink(missing_ok=True)
    return {
        "rows": rows,
        "seconds": measured.seconds,
        "rows_per_s": rows / measured.seconds,
        # the loader's own summary counts every API request, token requests included
        "api_calls": int(calls.group(1)) if calls else -1,
        "peak_rss_mb": measured.peak_rss_mb,
    }


@contextmanager
def baseline_worktree(workdir: Path) -> Iterator[Path]:
    """The loader as of BASELINE_COMMIT, checked out in a temporary worktree outside the repo."""
    path = Path(tempfile.mkdtemp(prefix="genesys-baseline-", dir=workdir)) / "repo"
    git = ["git", "-C", str(REPO_ROOT)]
    subprocess.run(
        [*git, "worktree", "add", "--detach", str(path), BASELINE_COMMIT], check=True, capture_output=True
    )
    try:
        yield path
    finally:
        subprocess.run([*git, "worktree", "remove", "--force", str(path)], check=False, capture_output=True)
        shutil.rmtree(path, ignore_errors=True)


def latency_row(workdir: Path, *, days: int, queues: int, concurrency: int = 3) -> tuple[str, str, str, str]:
    """The issue's case: 1.5 s per call and 300 requests/min; wall time against the floor."""
    result = bench_loader(workdir, days=days, queues=queues, rate_limit=300, latency_ms=1500)
    calls = result["api_calls"]
    floor = max(calls / RATE_PER_S, calls * 1.5 / concurrency)
    ratio = result["seconds"] / floor
    return (
        f"Loader at 300 req/min and 1.5 s per request, {days} d x {queues} queues x 2 media, "
        f"max_concurrent_requests {concurrency}",
        f"{result['seconds']:.1f} s for {calls} calls; floor {floor:.1f} s; ratio {ratio:.2f} "
        f"(peak RSS {result['peak_rss_mb']:.0f} MB)",
        "<= 1.2 x floor",
        "met" if ratio <= 1.2 else "missed",
    )


def _median_run(runs: list[dict]) -> dict:
    """The run with the median rows/s (of an odd number of runs)."""
    return sorted(runs, key=lambda run: run["rows_per_s"])[len(runs) // 2]


def throughput_row(workdir: Path, *, days: int, queues: int, rounds: int = 5) -> tuple[str, str, str, str]:
    """Rows/s with no added latency, this loader and the baseline one in the same run (same machine).

    The two alternate, baseline first, for `rounds` rounds and their medians are compared: this machine's
    speed drifts by a third within an hour, and single rounds of one run each ranged x0.81-x1.08."""
    befores, nows = [], []
    with baseline_worktree(workdir) as old_repo:
        for _ in range(rounds):
            befores.append(bench_loader(workdir, days=days, queues=queues, repo=old_repo, label="-baseline"))
            nows.append(bench_loader(workdir, days=days, queues=queues))
    before, now = _median_run(befores), _median_run(nows)
    ratio = now["rows_per_s"] / before["rows_per_s"]
    pairs = zip(befores, nows, strict=True)
    spread = ", ".join(f"x{n['rows_per_s'] / b['rows_per_s']:.2f}" for b, n in pairs)
    return (
        f"Loader throughput, {days} d x {queues} queues x 2 media, PT1H, no added latency, "
        f"vs {BASELINE_COMMIT} in the same run (median of {rounds} alternating runs each)",
        f"{now['rows_per_s']:,.0f} rows/s ({now['rows']:,} rows in {now['seconds']:.1f} s, "
        f"{now['api_calls']} API calls) vs {before['rows_per_s']:,.0f} rows/s ({before['seconds']:.1f} s): "
        f"x{ratio:.2f} (rounds: {spread})",
        f"not below {BASELINE_COMMIT}",
        "met" if ratio >= 1.0 else "missed",
    )


def memory_row(workdir: Path, *, short_days: int, long_days: int, queues: int) -> tuple[str, str, str, str]:
    """Peak RSS of a short and a long load: under 400 MB and flat (within 1.2x)."""
    short = bench_loader(workdir, days=short_days, queues=queues)
    long = bench_loader(workdir, days=long_days, queues=queues)
    growth = long["peak_rss_mb"] / short["peak_rss_mb"]
    return (
        f"Loader peak RSS, {short_days} d vs {long_days} d x {queues} queues",
        f"{short['peak_rss_mb']:.0f} MB vs {long['peak_rss_mb']:.0f} MB (x{growth:.2f}); "
        f"{long['rows_per_s']:,.0f} rows/s on {long_days} d",
        "< 400 MB, within 1.2x",
        "met" if long["peak_rss_mb"] < 400 and growth <= 1.2 else "missed",
    )
