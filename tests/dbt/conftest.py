"""Fixtures of the dbt tests: one genesys_raw DuckDB file built once by `python -m reporting build`."""

from __future__ import annotations

import pytest
import raw_fixture
from dbt_harness import BuiltProject, run_reporting


@pytest.fixture(scope="session")
def built_project(tmp_path_factory: pytest.TempPathFactory) -> BuiltProject:
    """Raw tables from raw_fixture, then one full build: every dbt unit test and data test runs here."""
    work_dir = tmp_path_factory.mktemp("dbt_build")
    db_path = work_dir / "genesys.duckdb"
    buckets = raw_fixture.make_buckets()
    raw_fixture.write_raw_tables(str(db_path), buckets)
    build = run_reporting(["build"], db_path, work_dir)
    return BuiltProject(db_path, work_dir, buckets, build)
