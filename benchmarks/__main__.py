"""`make bench`: run every benchmark, print the table and write benchmarks/results.md.

Benchmarks measure; they never fail the build. Figures depend on the machine, which results.md records.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from importlib.metadata import version
from pathlib import Path

import duckdb
import requests

from benchmarks.build_bench import BASELINE_COMMIT, bench_build, bench_build_scaled
from benchmarks.harness import REPO_ROOT, base_env, python_module, run_measured, simulator_process
from benchmarks.report import report_row
from loader.aggregates import METRICS
from simulator import SimulatorConfig

SIM_CLOCK = datetime(2026, 11, 27, tzinfo=UTC)
LAST_DAY = date(2026, 11, 25)


def _loader_env(db_path: Path, base_url: str) -> dict[str, str]:
    env = base_env(db_path)
    env.update(
        SOURCES__GENESYS__CLIENT_ID=SimulatorConfig.client_id,
        SOURCES__GENESYS__CLIENT_SECRET=SimulatorConfig.client_secret,
        SOURCES__GENESYS__API_BASE_URL=base_url,
        SOURCES__GENESYS__LOGIN_BASE_URL=base_url,
    )
    return env


def _bucket_rows(db_path: Path) -> int:
    with duckdb.connect(str(db_path), read_only=True) as con:
        return con.execute("select count(*) from genesys_raw.queue_intervals").fetchone()[0]


def bench_loader(
    workdir: Path, *, days: int, queues: int, rate_limit: int = 0, latency_ms: int = 0, window_hours: int = 24
) -> dict:
    """Load `days` days x `queues` queues x 2 media at PT1H with `python -m loader` from the simulator.

    The simulator runs as its own process, as a tenant would be remote: in a thread of this process it
    would share one interpreter lock with nothing else, but the loader would then compete with it for
    the machine's two cores in a way no real deployment does.
    """
    db_path = workdir / f"loader-{days}d-{queues}q-{rate_limit}rpm-{latency_ms}ms.duckdb"
    start = LAST_DAY - timedelta(days=days - 1)
    sim_args = ["--port", "0", "--queues", str(queues), "--clock", SIM_CLOCK.isoformat()]
    sim_args += ["--rate-limit", str(rate_limit), "--latency-ms", str(latency_ms)]
    with simulator_process(sim_args, base_env(db_path)) as base_url:
        env = _loader_env(db_path, base_url)
        env["SOURCES__GENESYS__WINDOW_DAYS"] = str(window_hours / 24)
        measured = run_measured(
            python_module("loader", "--start", start.isoformat(), "--end", LAST_DAY.isoformat()), env
        )
    calls = re.search(r"API calls (\d+)", measured.stdout)
    rows = _bucket_rows(db_path)
    return {
        "rows": rows,
        "seconds": measured.seconds,
        "rows_per_s": rows / measured.seconds,
        # the loader's own summary counts every API request, token requests included
        "api_calls": int(calls.group(1)) if calls else -1,
        "peak_rss_mb": measured.peak_rss_mb,
    }


def bench_simulator(workdir: Path, *, queues: int) -> dict:
    """Best of three: one day x `queues` queues x 2 media at PT1H, from request to fully received reply."""
    sim_args = ["--port", "0", "--queues", str(queues), "--clock", SIM_CLOCK.isoformat(), "--rate-limit", "0"]
    with (
        simulator_process(sim_args, base_env(workdir / "unused.duckdb")) as base_url,
        requests.Session() as http,
    ):
        token = http.post(
            f"{base_url}/oauth/token",
            auth=(SimulatorConfig.client_id, SimulatorConfig.client_secret),
            data={"grant_type": "client_credentials"},
            timeout=30,
        ).json()["access_token"]
        query = {
            "interval": "2026-11-24T00:00:00.000Z/2026-11-25T00:00:00.000Z",
            "granularity": "PT1H",
            "groupBy": ["queueId", "mediaType"],
            "metrics": list(METRICS),
        }
        timings, rows = [], 0
        for _ in range(3):
            started = time.perf_counter()
            reply = http.post(
                f"{base_url}/api/v2/analytics/conversations/aggregates/query",
                json=query,
                headers={"Authorization": f"Bearer {token}"},
                timeout=60,
            )
            reply.raise_for_status()
            rows = reply.content.count(b'"interval"')
            timings.append(time.perf_counter() - started)
    return {"seconds": min(timings), "rows": rows}


def build_rows(
    workdir: Path, *, queues: int, days: int, scale_factor: int = 5
) -> list[tuple[str, str, str, str]]:
    """dbt build rows: full and next-day builds, now and at BASELINE_COMMIT; then scale_factor x the data."""
    rows: list[tuple[str, str, str, str]] = []
    build = bench_build(workdir, queues=queues, days=days)
    now, today = build["now"], build["baseline"]
    naive = build["naive_seconds"]
    full_ratio = now["full"].seconds / today["full"].seconds
    rss_limit_mb = 1.5 * 1024
    rows.append(
        (
            f"dbt build, full: {days} d x {queues} queues x 2 media ({build['rows']:,} buckets)",
            f"{now['full'].seconds:.1f} s = {now['full'].seconds / naive:.1f}x the bare roll-up, peak RSS "
            f"{now['full'].peak_rss_mb:.0f} MB; today ({BASELINE_COMMIT}) {today['full'].seconds:.1f} s = "
            f"{today['full'].seconds / naive:.1f}x, {today['full'].peak_rss_mb:.0f} MB; "
            f"now/today {full_ratio:.0%}",
            "<= 60 % of today; < 1.5 GB",
            "met" if full_ratio <= 0.6 and now["full"].peak_rss_mb < rss_limit_mb else "missed",
        )
    )
    incremental_share = now["incremental"].seconds / now["full"].seconds
    rows.append(
        (
            f"dbt build, next day ({now['next_rows']:,} buckets loaded: a new day, the last one re-pulled)",
            f"{now['incremental'].seconds:.1f} s = {incremental_share:.0%} of the full build, peak RSS "
            f"{now['incremental'].peak_rss_mb:.0f} MB; today {today['incremental'].seconds:.1f} s = "
            f"{today['incremental'].seconds / today['full'].seconds:.0%}",
            "<= 25 % of the full build",
            "met" if incremental_share <= 0.25 else "missed",
        )
    )
    rows.append(
        (
            "Bare DuckDB daily roll-up of the same buckets (benchmarks/naive_rollup.py, the yardstick)",
            f"{naive:.1f} s ({build['naive_days']:,} queue-media-days)",
            "for comparison",
            "-",
        )
    )
    for row in rows:  # partial figures, should a long run be stopped before the larger scale ends
        print(" | ".join(row), flush=True)
    scaled = bench_build_scaled(workdir, queues=queues * scale_factor, days=days)
    growth = scaled["full"].seconds / now["full"].seconds
    rows.append(
        (
            f"dbt build, full: {scale_factor} x the data ({scaled['rows']:,} buckets)",
            f"{scaled['full'].seconds:.1f} s = {growth:.2f}x the {build['rows']:,}-bucket build, peak RSS "
            f"{scaled['full'].peak_rss_mb:.0f} MB",
            f"<= {scale_factor * 1.1:.1f}x; < 1.5 GB",
            "met" if growth <= scale_factor * 1.1 and scaled["full"].peak_rss_mb < rss_limit_mb else "missed",
        )
    )
    return rows


def _machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{cpu}, {os.cpu_count()} cores, {mem_gib:.0f} GiB, {platform.system()} {platform.machine()}"


def _versions() -> str:
    names = ["dlt", "duckdb", "dbt-core", "dbt-duckdb", "pyarrow"]
    return ", ".join(f"{n} {version(n)}" for n in names) + f", Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, to check the harness itself")
    parser.add_argument(
        "--only",
        choices=["build"],
        help="run one benchmark alone (make bench BENCH_ARGS='--only build'); results.md is left as it is",
    )
    args = parser.parse_args()
    scale = 0.1 if args.quick else 1.0
    q200, q500 = max(2, int(200 * scale)), max(2, int(500 * scale))
    d90, d30, d365 = max(2, int(90 * scale)), max(2, int(30 * scale)), max(3, int(365 * scale))

    rows: list[tuple[str, str, str, str]] = []
    if args.only == "build":
        with tempfile.TemporaryDirectory(prefix="genesys-bench-") as tmp:
            rows = build_rows(Path(tmp), queues=q500, days=d365)
        print(_report(rows, args.quick))
        return
    with tempfile.TemporaryDirectory(prefix="genesys-bench-") as tmp:
        workdir = Path(tmp)
        served = bench_simulator(workdir, queues=q500)
        rows.append(
            (
                f"Simulator, 1 day x {q500} queues x 2 media at PT1H over HTTP (best of 3)",
                f"{served['seconds']:.2f} s for {served['rows']:,} bucket rows",
                "about 1 s",
                "met" if served["seconds"] <= 1.2 else "missed",
            )
        )
        plain = bench_loader(workdir, days=d90, queues=q200)
        rows.append(
            (
                f"Loader throughput, {d90} d x {q200} queues x 2 media, PT1H, no added latency",
                f"{plain['rows_per_s']:,.0f} rows/s ({plain['rows']:,} rows in {plain['seconds']:.1f} s, "
                f"{plain['api_calls']} API calls)",
                ">= 200,000 rows/s",
                "met" if plain["rows_per_s"] >= 200_000 else "missed",
            )
        )
        # 6-hour windows: four times the calls, so the 300/min limit really binds and pacing is exercised
        limited = bench_loader(workdir, days=d90, queues=q200, rate_limit=300, latency_ms=100, window_hours=6)
        calls = limited["api_calls"]
        floor = max(calls / 300 * 60, calls * 0.1 / 1)
        ratio = limited["seconds"] / floor
        rows.append(
            (
                f"Loader at 300 req/min and 100 ms per request, {d90} d x {q200} queues, 6-hour windows",
                f"{limited['seconds']:.1f} s for {calls} calls; floor {floor:.1f} s; ratio {ratio:.2f}",
                "<= 1.2 x floor",
                "met" if ratio <= 1.2 else "missed",
            )
        )
        short = bench_loader(workdir, days=d30, queues=q200)
        long = bench_loader(workdir, days=d365, queues=q200)
        growth = long["peak_rss_mb"] / short["peak_rss_mb"]
        rows.append(
            (
                f"Loader peak RSS, {d30} d vs {d365} d x {q200} queues",
                f"{short['peak_rss_mb']:.0f} MB vs {long['peak_rss_mb']:.0f} MB (x{growth:.2f}); "
                f"{long['rows_per_s']:,.0f} rows/s on {d365} d",
                "< 400 MB, within 1.2x",
                "met" if long["peak_rss_mb"] < 400 and growth <= 1.2 else "missed",
            )
        )
        rows += build_rows(workdir, queues=q500, days=d365)
        rows.append(report_row(workdir, queues=q500, days=d365))

    report = _report(rows, args.quick)
    print(report)
    if not args.quick:
        (REPO_ROOT / "benchmarks" / "results.md").write_text(report)


def _report(rows: list[tuple[str, str, str, str]], quick: bool) -> str:
    """results.md: when, where, with which versions, and the table."""
    header = ("Benchmark", "Measured", "Target", "")
    table = [header, ("---",) * 4, *rows]
    lines = ["| " + " | ".join(r) + " |" for r in table]
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return "\n".join(
        [
            "# Benchmark results",
            "",
            f"Measured by `make bench`{' --quick' if quick else ''} on {stamp}.",
            f"Machine: {_machine()}.",
            f"Versions: {_versions()}.",
            "",
            *lines,
            "",
        ]
    )


if __name__ == "__main__":
    main()
