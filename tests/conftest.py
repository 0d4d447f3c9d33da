"""Shared pytest fixtures: hermetic environment for every test."""

import os

import pytest


@pytest.fixture(scope="session")
def _build_cache_dir(tmp_path_factory: pytest.TempPathFactory):
    """One build cache for the session (reporting.paths.build_cache_dir): builds of unchanged SQL after the
    first leave dbt's unit tests out, as in a checkout; the repo's target/ is never written."""
    return tmp_path_factory.mktemp("build_cache")


@pytest.fixture(autouse=True)
def _hermetic_env(monkeypatch: pytest.MonkeyPatch, tmp_path, _build_cache_dir) -> None:
    """No test may see a developer's real Genesys config or write the repo's DuckDB file."""
    for key in list(os.environ):
        if key.startswith(("SOURCES__", "DESTINATION__", "GENESYS_")):
            monkeypatch.delenv(key, raising=False)
    monkeypatch.delenv("DESTINATION", raising=False)  # DuckDB unless a test aims at PostgreSQL itself
    monkeypatch.setenv("GENESYS_DUCKDB_PATH", str(tmp_path / "genesys.duckdb"))
    monkeypatch.setenv("GENESYS_BUILD_CACHE_DIR", str(_build_cache_dir))
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    monkeypatch.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
