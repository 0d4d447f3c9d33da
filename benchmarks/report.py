"""Report benchmark: `python -m reporting report` on 365 d x 500 queues x 2 media, beyond the build.

Runs alone with `python -m benchmarks.report [--quick]`; `make bench` includes its row in results.md.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
from datetime import date
from pathlib import Path

from benchmarks.harness import base_env, python_module, run_measured
from benchmarks.synthetic_raw import create_synthetic_raw

GOAL_SECONDS = 10.0
GOAL_BYTES = 5 * 1024 * 1024


def _cpu_seconds_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure_report(db_path: Path, out: Path) -> dict:
    """Time `python -m reporting report --no-build` on built marts: wall, CPU (this child only) and size."""
    cpu_before = _cpu_seconds_of_children()
    report = run_measured(
        python_module("reporting", "report", "--no-build", "--out", str(out)),
        base_env(db_path),
        timeout_s=600,
    )
    return {
        "seconds": report.seconds,
        # on a shared machine wall time mostly measures the neighbours; CPU time is the report's own work
        "cpu_seconds": _cpu_seconds_of_children() - cpu_before,
        "peak_rss_mb": report.peak_rss_mb,
        "bytes": out.stat().st_size,
        "load": os.getloadavg()[0],
    }


def bench_report(workdir: Path, *, queues: int, days: int, built_db: Path | None = None) -> dict:
    """Build the marts once (timed apart), then time the report alone and size its file."""
    out = workdir / "reports" / "service-level.html"
    if built_db is not None:
        return {"rows": None, "build_seconds": None, **measure_report(built_db, out)}
    db_path = workdir / "report-bench.duckdb"
    rows = create_synthetic_raw(db_path, queues=queues, days=days, first_day=date(2025, 11, 1))
    build = run_measured(python_module("reporting", "build"), base_env(db_path), timeout_s=3600)
    return {"rows": rows, "build_seconds": build.seconds, **measure_report(db_path, out)}


def report_row(
    workdir: Path, *, queues: int, days: int, built_db: Path | None = None
) -> tuple[str, str, str, str]:
    """The benchmark table's row for the report."""
    result = bench_report(workdir, queues=queues, days=days, built_db=built_db)
    met = result["seconds"] <= GOAL_SECONDS and result["bytes"] <= GOAL_BYTES
    buckets = f" ({result['rows']:,} buckets)" if result["rows"] else ""
    build = f"; the build before it {result['build_seconds']:.1f} s" if result["build_seconds"] else ""
    return (
        f"HTML report, {days} d x {queues} queues x 2 media{buckets}, after the build",
        f"{result['seconds']:.1f} s wall ({result['cpu_seconds']:.1f} s CPU, load {result['load']:.1f}), "
        f"{result['bytes'] / 2**20:.2f} MB file, peak RSS {result['peak_rss_mb']:.0f} MB{build}",
        "<= 10 s, <= 5 MB",
        "met" if met else "missed",
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.report", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="50 queues x 30 days, to check the harness")
    parser.add_argument(
        "--built-db", type=Path, help="time the report on this already built DuckDB file (no load, no build)"
    )
    args = parser.parse_args()
    queues, days = (50, 30) if args.quick else (500, 365)
    with tempfile.TemporaryDirectory(prefix="genesys-bench-report-") as tmp:
        row = report_row(Path(tmp), queues=queues, days=days, built_db=args.built_db)
    print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
