"""Report benchmark: `python -m reporting report` on 365 d x 500 queues x 2 media, beyond the build.

Runs alone with `python -m benchmarks.report [--quick]`; `make bench` includes its row in results.md.
"""

from __future__ import annotations

import argparse
import tempfile
from datetime import date
from pathlib import Path

from benchmarks.harness import base_env, python_module, run_measured
from benchmarks.synthetic_raw import create_synthetic_raw

GOAL_SECONDS = 10.0
GOAL_BYTES = 5 * 1024 * 1024


def bench_report(workdir: Path, *, queues: int, days: int) -> dict:
    """Build the marts once (timed apart), then time the report alone (`--no-build`) and size its file."""
    db_path = workdir / "report-bench.duckdb"
    rows = create_synthetic_raw(db_path, queues=queues, days=days, first_day=date(2025, 11, 1))
    env = base_env(db_path)
    build = run_measured(python_module("reporting", "build"), env, timeout_s=3600)
    out = workdir / "reports" / "service-level.html"
    report = run_measured(
        python_module("reporting", "report", "--no-build", "--out", str(out)), env, timeout_s=600
    )
    return {
        "rows": rows,
        "build_seconds": build.seconds,
        "seconds": report.seconds,
        "peak_rss_mb": report.peak_rss_mb,
        "bytes": out.stat().st_size,
    }


def report_row(workdir: Path, *, queues: int, days: int) -> tuple[str, str, str, str]:
    """The benchmark table's row for the report."""
    result = bench_report(workdir, queues=queues, days=days)
    met = result["seconds"] <= GOAL_SECONDS and result["bytes"] <= GOAL_BYTES
    return (
        f"HTML report, {days} d x {queues} queues x 2 media ({result['rows']:,} buckets), after the build",
        f"{result['seconds']:.1f} s, {result['bytes'] / 2**20:.2f} MB file (peak RSS "
        f"{result['peak_rss_mb']:.0f} MB; the build before it {result['build_seconds']:.1f} s)",
        "<= 10 s, <= 5 MB",
        "met" if met else "missed",
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.report", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="50 queues x 30 days, to check the harness")
    args = parser.parse_args()
    queues, days = (50, 30) if args.quick else (500, 365)
    with tempfile.TemporaryDirectory(prefix="genesys-bench-report-") as tmp:
        row = report_row(Path(tmp), queues=queues, days=days)
    print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
