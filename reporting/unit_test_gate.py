"""Whether a build must run dbt's unit tests: they check the SQL, not the data (their inputs are fixed rows),
so a build whose project files already passed them in this checkout leaves them out, on any database. dbt
itself advises running unit tests in development and CI, not in every production build; here they run
whenever the SQL, YAML or engine versions change, and on --full-refresh."""

from __future__ import annotations

import hashlib
import os
from importlib.metadata import version
from pathlib import Path

from reporting.options import PROJECT_DIR
from reporting.paths import build_cache_dir

# What the unit tests' outcome depends on: the SQL and YAML of the project, and the engine versions.
_PROJECT_PARTS = ("models", "macros", "dbt_project.yml", "profiles.yml")
_ENGINE_PACKAGES = ("dbt-core", "dbt-duckdb", "duckdb")
_MARKER = "unit_tests_passed"


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


def marker_path() -> Path:
    """The checkout's record of the fingerprint whose unit tests all passed (shared by every database)."""
    return build_cache_dir() / _MARKER


def can_skip_unit_tests(*, full_refresh: bool) -> bool:
    """True when this checkout's project files already passed every unit test (never on --full-refresh)."""
    marker = marker_path()
    return not full_refresh and marker.is_file() and marker.read_text().strip() == project_fingerprint()


def record_unit_tests_passed() -> None:
    """Remember that the current project files passed every unit test (written after a successful build);
    replaced in one step, so a build on another database never reads half a file."""
    marker = marker_path()
    marker.parent.mkdir(parents=True, exist_ok=True)
    partial = marker.with_name(f".{_MARKER}.{os.getpid()}")
    partial.write_text(project_fingerprint() + "\n")
    partial.replace(marker)
