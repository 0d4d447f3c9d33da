"""Build benchmark: `python -m reporting build` on synthetic raw tables, full then next-day incremental.

Measured against the bare DuckDB roll-up of the same rows (naive_rollup.py), and against the build as it
was at commit BASELINE_COMMIT, checked out in a temporary git worktree outside the repo and run with this
same interpreter on a copy of the same raw tables, so both figures come from the same run on the same
machine.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from benchmarks.harness import REPO_ROOT, Measured, base_env, python_module, run_measured
from benchmarks.naive_rollup import naive_daily_rollup
from benchmarks.synthetic_raw import append_next_day, create_synthetic_raw

# main before Build v2 (issue 9): the "today" of the build rows of the table
BASELINE_COMMIT = "22c9aaf"
FIRST_DAY = date(2025, 11, 1)


@contextmanager
def baseline_checkout(commit: str = BASELINE_COMMIT) -> Iterator[Path]:
    """A detached git worktree of `commit` in a temporary folder outside the repo; removed afterwards."""
    parent = Path(tempfile.mkdtemp(prefix="genesys-baseline-"))
    tree = parent / "tree"
    subprocess.run(
        ["git", "-C", str(REPO_ROOT), "worktree", "add", "--detach", "--quiet", str(tree), commit],
        check=True,
        capture_output=True,
    )
    try:
        yield tree
    finally:
        subprocess.run(
            ["git", "-C", str(REPO_ROOT), "worktree", "remove", "--force", str(tree)],
            check=False,
            capture_output=True,
        )
        shutil.rmtree(parent, ignore_errors=True)


def _build(db_path: Path, project: Path, work: Path, cache: Path) -> Measured:
    """`python -m reporting build` from `project` on `db_path`, dbt's target/ and logs/ kept in `work`, the
    checkout's build cache (the unit-test record) in `cache`."""
    env = base_env(db_path)
    env.update(
        DBT_PROFILES_DIR=str(project),
        DBT_TARGET_PATH=str(work / "target"),
        DBT_LOG_PATH=str(work / "logs"),
        GENESYS_BUILD_CACHE_DIR=str(cache),
    )
    return run_measured(python_module("reporting", "build"), env, timeout_s=3600, cwd=project)


class _Checkout:
    """One checkout's builds of the benchmark: its own database copies, dbt work folders and build cache."""

    def __init__(self, raw: Path, db_path: Path, project: Path) -> None:
        self.raw, self.db_path, self.project = raw, db_path, project
        self.work = db_path.parent / (db_path.stem + "-dbt")
        self.cache = db_path.parent / (db_path.stem + "-cache")
        self.second = db_path.with_name(db_path.stem + "-second.duckdb")

    def full(self) -> Measured:
        """Full build of a copy of the raw tables in a checkout that never built (its unit tests run)."""
        shutil.copyfile(self.raw, self.db_path)
        return _build(self.db_path, self.project, self.work, self.cache)

    def next_day(self, *, days: int) -> tuple[Measured, int]:
        """The next day's load on the built copy, then an incremental build; the copy is removed after."""
        next_rows = append_next_day(self.db_path, first_day=FIRST_DAY, days=days)
        incremental = _build(self.db_path, self.project, self.work, self.cache)
        self.db_path.unlink()
        return incremental, next_rows

    def second_full(self) -> Measured:
        """Full build of another copy, as of a second database of the same checkout (unit tests passed)."""
        shutil.copyfile(self.raw, self.second)
        work = self.work.with_name(self.work.name + "-second")
        measured = _build(self.second, self.project, work, self.cache)
        self.second.unlink()
        return measured


def bench_build(workdir: Path, *, queues: int, days: int, baseline: bool = True) -> dict:
    """Full and next-day builds of `days` x `queues` x 2 media, now and (baseline=True) at BASELINE_COMMIT.

    Each step runs for this checkout and then at once for the baseline (full, next day, second database),
    so that the two figures of a ratio are measured minutes, not a quarter of an hour, apart: on a shared
    machine whose speed drifts, that keeps the ratios comparable."""
    raw = workdir / "build-raw.duckdb"
    rows = create_synthetic_raw(raw, queues=queues, days=days, first_day=FIRST_DAY)
    rollup_db = workdir / "build-rollup.duckdb"
    shutil.copyfile(raw, rollup_db)
    naive_seconds, naive_days = naive_daily_rollup(rollup_db, "UTC")
    rollup_db.unlink()
    result = {"rows": rows, "naive_seconds": naive_seconds, "naive_days": naive_days}
    with contextlib.ExitStack() as stack:
        checkouts = {"now": _Checkout(raw, workdir / "build-now.duckdb", REPO_ROOT)}
        if baseline:
            tree = stack.enter_context(baseline_checkout())
            checkouts["baseline"] = _Checkout(raw, workdir / "build-baseline.duckdb", tree)
        figures: dict[str, dict] = {name: {} for name in checkouts}
        for name, checkout in checkouts.items():
            figures[name]["full"] = checkout.full()
        for name, checkout in checkouts.items():
            figures[name]["incremental"], figures[name]["next_rows"] = checkout.next_day(days=days)
        for name, checkout in checkouts.items():
            figures[name]["second_full"] = checkout.second_full()
    result.update(figures)
    raw.unlink()
    return result


def bench_build_scaled(workdir: Path, *, queues: int, days: int) -> dict:
    """One full build (no baseline) of `days` x `queues` x 2 media: time and peak RSS at a larger scale, in
    the checkout of bench_build (its unit tests already passed, as for its second full build)."""
    db_path = workdir / "build-scaled.duckdb"
    rows = create_synthetic_raw(db_path, queues=queues, days=days, first_day=FIRST_DAY)
    full = _build(db_path, REPO_ROOT, workdir / "build-scaled-dbt", workdir / "build-now-cache")
    db_path.unlink()
    return {"rows": rows, "full": full}
