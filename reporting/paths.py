"""dbt's working folders per DuckDB file (target/, logs/, staged seeds): two files never share them."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from reporting.options import PROJECT_DIR


def database_key(db_path: Path) -> str:
    """A folder name unique to one DuckDB file: its stem and a hash of its absolute path."""
    digest = hashlib.sha256(str(db_path.resolve()).encode()).hexdigest()[:10]
    return f"{db_path.stem}-{digest}"


def dbt_target_path(db_path: Path) -> Path:
    """dbt's target/ (compiled SQL, manifest, run_results.json): DBT_TARGET_PATH, else target/<key>/."""
    configured = os.environ.get("DBT_TARGET_PATH", "").strip()
    return Path(configured) if configured else PROJECT_DIR / "target" / database_key(db_path)


def dbt_log_path(db_path: Path) -> Path:
    """dbt's log folder (dbt.log): DBT_LOG_PATH, else logs/<key>/."""
    configured = os.environ.get("DBT_LOG_PATH", "").strip()
    return Path(configured) if configured else PROJECT_DIR / "logs" / database_key(db_path)


def staged_seeds_dir(db_path: Path) -> Path:
    """Where the checked targets seed is staged for dbt: target/staged_seeds/<key>/ (inside the project,
    because dbt writes compiled seed tests under a path derived from the seed path)."""
    return PROJECT_DIR / "target" / "staged_seeds" / database_key(db_path)


def build_cache_dir() -> Path:
    """What builds of one checkout share whatever the database: GENESYS_BUILD_CACHE_DIR, else target/cache/
    (today the record that the project's SQL passed its unit tests; reporting/unit_test_gate.py)."""
    configured = os.environ.get("GENESYS_BUILD_CACHE_DIR", "").strip()
    return Path(configured) if configured else PROJECT_DIR / "target" / "cache"
