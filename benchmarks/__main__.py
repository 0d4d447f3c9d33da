"""`make bench`: run every benchmark, print the table and write benchmarks/results.md.

Benchmarks measure; they never fail the build. Figures depend on the machine, which results.md records.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from datetime import UTC, date, datetime
from importlib.metadata import version
from pathlib import Path

import requests

from benchmarks.build_bench import BASELINE_COMMIT, bench_build, bench_build_scaled
from benchmarks.harness import REPO_ROOT, base_env, simulator_process
from benchmarks.loader_bench import latency_row, memory_row, throughput_row
from benchmarks.postgres_bench import postgres_rows
from benchmarks.report import report_row
from loader.aggregates import METRICS
from simulator import SimulatorConfig

SIM_CLOCK = datetime(2026, 11, 27, tzinfo=UTC)
LAST_DAY = date(2026, 11, 25)


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
    second = now["second_full"]
    second_ratio = second.seconds / today["full"].seconds
    rows.append(
        (
            "dbt build, full, of a second database of the same checkout (unit tests already passed; today "
            "runs them in every build)",
            f"{second.seconds:.1f} s = {second.seconds / naive:.1f}x the bare roll-up, peak RSS "
            f"{second.peak_rss_mb:.0f} MB; now/today {second_ratio:.0%}",
            "<= 60 % of today; < 1.5 GB",
            "met" if second_ratio <= 0.6 and second.peak_rss_mb < rss_limit_mb else "missed",
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
    growth = scaled["full"].seconds / second.seconds  # both without the unit tests
    rows.append(
        (
            f"dbt build, full: {scale_factor} x the data ({scaled['rows']:,} buckets)",
            f"{scaled['full'].seconds:.1f} s = {growth:.2f}x the {build['rows']:,}-bucket second build, "
            f"peak RSS "
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
    names = ["dlt", "duckdb", "dbt-core", "dbt-duckdb", "dbt-postgres", "psycopg2-binary", "pyarrow"]
    return ", ".join(f"{n} {version(n)}" for n in names) + f", Python {platform.python_version()}"


class _Rows(list):
    """The table's rows; each is also printed as soon as it is measured (a long run shows progress)."""

    def append(self, row: tuple[str, str, str, str]) -> None:
        super().append(row)
        print("measured: " + " | ".join(row), flush=True)


# Benchmarks by name, for `make bench BENCH=loader-latency` or `python -m benchmarks --only loader,build`.
BENCHES = ("simulator", "loader", "loader-latency", "loader-memory", "build", "report", "postgres")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, to check the harness itself")
    parser.add_argument(
        "--only",
        default=os.environ.get("BENCH", ""),
        metavar="NAME[,NAME...]",
        help=f"run only these benchmarks (also BENCH=...; default all): {', '.join(BENCHES)}",
    )
    args = parser.parse_args()
    selected = [name.strip() for name in args.only.split(",") if name.strip()] or list(BENCHES)
    unknown = [name for name in selected if name not in BENCHES]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; use {', '.join(BENCHES)}")
    everything = set(selected) == set(BENCHES)
    scale = 0.1 if args.quick else 1.0
    q200, q500 = max(2, int(200 * scale)), max(2, int(500 * scale))
    d90, d30, d365 = max(2, int(90 * scale)), max(2, int(30 * scale)), max(3, int(365 * scale))

    rows = _Rows()
    with tempfile.TemporaryDirectory(prefix="genesys-bench-") as tmp:
        workdir = Path(tmp)
        if "simulator" in selected:
            served = bench_simulator(workdir, queues=q500)
            rows.append(
                (
                    f"Simulator, 1 day x {q500} queues x 2 media at PT1H over HTTP (best of 3)",
                    f"{served['seconds']:.2f} s for {served['rows']:,} bucket rows",
                    "about 1 s",
                    "met" if served["seconds"] <= 1.2 else "missed",
                )
            )
        if "loader" in selected:
            rows.append(throughput_row(workdir, days=d90, queues=q200))
        if "loader-latency" in selected:
            rows.append(latency_row(workdir, days=d365, queues=q200))
        if "loader-memory" in selected:
            rows.append(memory_row(workdir, short_days=d30, long_days=d365, queues=q200))
        if "build" in selected:
            for row in build_rows(workdir, queues=q500, days=d365):
                rows.append(row)
        if "report" in selected:
            rows.append(report_row(workdir, queues=q500, days=d365))
        if "postgres" in selected:
            for row in postgres_rows(workdir, days=d365, queues=q200):
                rows.append(row)

    header = ("Benchmark", "Measured", "Target", "")
    table = [header, ("---",) * 4, *rows]
    lines = ["| " + " | ".join(r) + " |" for r in table]
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    report = "\n".join(
        [
            "# Benchmark results",
            "",
            f"Measured by `make bench`{' --quick' if args.quick else ''} on {stamp}.",
            f"Machine: {_machine()}.",
            f"Versions: {_versions()}.",
            "",
            *lines,
            "",
        ]
    )
    print(report)
    if not args.quick and everything:  # a partial run prints its rows and leaves the full table alone
        (REPO_ROOT / "benchmarks" / "results.md").write_text(report)


if __name__ == "__main__":
    main()
