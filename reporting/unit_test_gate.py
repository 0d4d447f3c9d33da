"""Whether a build must run dbt's unit tests: they check the SQL, not the data, so an incremental build whose
project files are those of a build where they all passed can leave them out."""

from __future__ import annotations

import hashlib
from importlib.metadata import version
from pathlib import Path

import duckdb

from reporting.options import PROJECT_DIR
from reporting.paths import dbt_target_path

# What the unit tests' outcome depends on: the SQL and YAML of the project, and the engine versions.
_PROJECT_PARTS = ("models", "macros", "dbt_project.yml", "profiles.yml")
_ENGINE_PACKAGES = ("dbt-core", "dbt-duckdb", "duckdb")
_MARKER = "unit_tests_passed"
# The model every build writes first from the buckets: when it exists, this build is incremental.
_BUCKET_MODEL = "int_queue_intervals_localized"


def project_fingerprint(project_dir: Path = PROJECT_DIR) -> str:
    """A hash of every project file the unit tests compile from, and of the dbt and DuckDB versions."""
    digest = hashlib.sha256()
    for package in _ENGINE_PACKAGES:
        digest.update(f"{package}=={version(package)}\n".encode())
    for part in _PROJECT_PARTS:
        root = project_dir / part
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
        for path in files:
            if path.is_file():
                digest.update(str(path.relative_to(project_dir)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _marker(db_path: Path) -> Path:
    return dbt_target_path(db_path) / _MARKER


def _is_incremental(db_path: Path) -> bool:
    """True when the database holds the bucket model (a previous build ran on it); False when unsure."""
    try:
        with duckdb.connect(str(db_path), read_only=True) as con:
            found = con.execute(
                "select count(*) from information_schema.tables where table_name = ?", [_BUCKET_MODEL]
            ).fetchone()
    except duckdb.Error:
        return False  # dbt then runs the unit tests and reports whatever keeps it from the file
    return bool(found and found[0])


def can_skip_unit_tests(db_path: Path, *, full_refresh: bool) -> bool:
    """True for an incremental build whose project files passed every unit test in an earlier build."""
    if full_refresh or not _is_incremental(db_path):
        return False
    marker = _marker(db_path)
    return marker.is_file() and marker.read_text().strip() == project_fingerprint()


def record_unit_tests_passed(db_path: Path) -> None:
    """Remember that the current project files passed every unit test (written after a successful build)."""
    marker = _marker(db_path)
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(project_fingerprint() + "\n")
