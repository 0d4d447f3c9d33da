"""Helpers of the dbt tests: the reporting CLI as a subprocess, its dbt results, a built DuckDB file."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import raw_fixture

from tests.inprocess import run_main

REPO = Path(__file__).resolve().parents[2]
CLI_TIMEOUT_S = 240


@dataclass(frozen=True)
class CliRun:
    """Outcome of one `python -m reporting ...` subprocess."""

    returncode: int
    stdout: str
    stderr: str


def clean_env(db_path: Path, work_dir: Path) -> dict[str, str]:
    """Environment of a CLI run: no developer config, dbt's target/ and logs/ kept out of the repo."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("SOURCES__", "DESTINATION__", "GENESYS_"))
    }
    env.update(
        GENESYS_DUCKDB_PATH=str(db_path),
        # the test's build cache (tests/conftest.py); a session fixture, set up before it, gets its own
        GENESYS_BUILD_CACHE_DIR=os.environ.get("GENESYS_BUILD_CACHE_DIR") or str(work_dir / "cache"),
        DBT_PROFILES_DIR=str(REPO),
        DBT_TARGET_PATH=str(work_dir / "target"),
        DBT_LOG_PATH=str(work_dir / "logs"),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
        DO_NOT_TRACK="1",
    )
    return env


def run_reporting(args: list[str], db_path: Path, work_dir: Path, **extra_env: str) -> CliRun:
    """Run the reporting CLI from the repo root, as `make build`/`make export` do."""
    proc = subprocess.run(
        [sys.executable, "-m", "reporting", *args],
        cwd=REPO,
        env={**clean_env(db_path, work_dir), **extra_env},
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
        check=False,
    )
    return CliRun(proc.returncode, proc.stdout, proc.stderr)


def build_in_process(args: list[str], db_path: Path, work_dir: Path, **extra_env: str) -> CliRun:
    """`reporting build` as run_reporting runs it, but in this process: for tests that check what a build
    leaves in the file, not how the command exits (the subprocess runs above stay for that)."""
    from reporting.__main__ import main  # imports dbt only once a test builds

    run = run_main(main, args, {**clean_env(db_path, work_dir), **extra_env}, REPO)
    return CliRun(run.returncode, run.stdout, run.stderr)


def run_results(work_dir: Path) -> list[dict]:
    """The node results of the last dbt invocation that used work_dir/target."""
    return json.loads((work_dir / "target" / "run_results.json").read_text())["results"]


@dataclass(frozen=True)
class BuiltProject:
    """A DuckDB file with the fixture's raw tables, built once by `python -m reporting build` (UTC)."""

    db_path: Path
    work_dir: Path
    buckets: list[raw_fixture.Bucket]
    build: CliRun

    def copy_db(self, dest_dir: Path) -> Path:
        """A private copy of the built file, for tests that change it."""
        dest = dest_dir / "copy.duckdb"
        shutil.copyfile(self.db_path, dest)
        return dest
