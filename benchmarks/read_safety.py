"""Cost of read safety on 365 d x 500 queues x 2 media: the build log and guarded views vs copying the marts.

`python -m benchmarks.read_safety [--days 365] [--queues 500]` builds synthetic raw tables once, then prints
the time of the build's two hooks (from dbt's run_results.json), what a reader pays for the guard (the
same queries on the guarded view and on the private table), and what publishing by copy (design (a) of
issue 9) would add to every build.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import date
from pathlib import Path

import duckdb

from benchmarks.harness import base_env, python_module, run_measured
from benchmarks.synthetic_raw import create_synthetic_raw

_READS = {
    "count and sum of the intervals mart": "select count(*), sum(offered) from {schema}.fct_queue_intervals",
    "SL by local hour (intervals mart)": (
        "select report_hour, sum(sl_numerator) / nullif(sum(sl_denominator), 0)"
        " from {schema}.fct_queue_intervals group by all"
    ),
    "whole daily mart": "select * from {schema}.fct_queue_sla_daily",
}


def _best_of(con: duckdb.DuckDBPyConnection, sql: str, runs: int = 5) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        con.execute(sql).fetchall()
        best = min(best, time.perf_counter() - started)
    return best


def _hook_seconds(target_dir: Path) -> dict[str, float]:
    results = json.loads((target_dir / "run_results.json").read_text())["results"]
    return {r["unique_id"]: r["execution_time"] for r in results if r["unique_id"].startswith("operation.")}


def main() -> None:
    """Build once, then measure the hooks, the guard and the copy that design (a) would need."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.read_safety")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--queues", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-read-safety-") as work:
        db_path = Path(work) / "genesys.duckdb"
        rows = create_synthetic_raw(db_path, queues=args.queues, days=args.days, first_day=date(2025, 11, 1))
        env = base_env(db_path)
        env["DBT_TARGET_PATH"] = str(Path(work) / "target")
        env["DBT_LOG_PATH"] = str(Path(work) / "logs")
        build = run_measured(python_module("reporting", "build"), env, timeout_s=3600)
        if "dbt build:" not in build.stdout:
            raise SystemExit(f"build failed: {build.stderr[-2000:]}")
        print(f"{rows:,} buckets; full build {build.seconds:.1f} s, peak RSS {build.peak_rss_mb:.0f} MB")
        for hook, seconds in _hook_seconds(Path(work) / "target").items():
            print(f"  hook {hook}: {seconds * 1000:.0f} ms")
        with duckdb.connect(str(db_path)) as con:
            for label, sql in _READS.items():
                guarded = _best_of(con, sql.format(schema="main"))
                private = _best_of(con, sql.format(schema="genesys_build"))
                print(f"  read {label}: guarded view {guarded * 1000:.0f} ms, table {private * 1000:.0f} ms")
            marts = [
                r[0] for r in con.execute("select unnest(marts) from genesys_build.build_runs").fetchall()
            ]
            started = time.perf_counter()
            con.execute("begin transaction")
            for mart in marts:
                con.execute(f"create table main.copy_{mart} as select * from genesys_build.{mart}")
            con.execute("rollback")
            copy_seconds = time.perf_counter() - started
            print(f"  publishing by copying {len(marts)} marts in one transaction: {copy_seconds:.1f} s")


if __name__ == "__main__":
    main()
