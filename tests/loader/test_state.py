"""The state stored in the DuckDB file decides the incremental range (never a newer local working folder),
and a DuckDB file holding another tool's tables is refused (exit 2) unless allowed."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta

import duckdb
import pytest

from loader.cli import main
from loader.errors import ConfigError
from loader.pipeline import pipelines_dir_for
from tests.loader.conftest import CLOCK, interval_rows, load, query

pytestmark = pytest.mark.timeout(120)
INCREMENTAL = {"initial_days": 1, "lookback_hours": 0}


def test_restoring_an_older_database_copy_loads_the_gap(sim, db, tmp_path):
    load(sim, db, settings=INCREMENTAL)  # 2026-11-19 00:00 .. CLOCK
    old_copy = tmp_path / "old-copy.duckdb"
    shutil.copy(db, old_copy)
    sim.clock.advance(timedelta(days=2))
    newer = load(sim, db, settings=INCREMENTAL)
    assert newer.start == CLOCK
    # The older file comes back; .dlt_pipelines/ still holds the newer cursor.
    shutil.copy(old_copy, db)
    assert pipelines_dir_for(db).exists()
    sim.clock.advance(timedelta(hours=3))
    again = load(sim, db, settings=INCREMENTAL)
    assert again.start == CLOCK  # from the cursor in the database: the two days in between are loaded
    now = sim.clock.now()
    assert interval_rows(db) == sim.ground_truth(datetime(2026, 11, 19, tzinfo=UTC), now, as_of=now)


def test_a_working_folder_of_another_copy_never_decides(sim, db, tmp_path):
    other = tmp_path / "other" / "genesys.duckdb"
    other.parent.mkdir()
    load(sim, other, settings=INCREMENTAL)
    sim.clock.advance(timedelta(days=1))
    load(sim, other, settings=INCREMENTAL)
    # db: a fresh file that has another copy's working folder beside it
    shutil.copytree(pipelines_dir_for(other), pipelines_dir_for(db))
    fresh = load(sim, db, settings=INCREMENTAL)
    assert fresh.start == datetime(2026, 11, 20, tzinfo=UTC)  # its own first backfill (initial_days)


def test_a_foreign_duckdb_file_is_refused_then_allowed_by_the_flag(sim, db, capsys):
    with duckdb.connect(str(db)) as con:
        con.execute("create table main.invoices as select 1 as id, 'paid' as status")
        con.execute("create schema genesys_raw")
        con.execute("create table genesys_raw.queues as select 'theirs' as queue_id")
    with pytest.raises(ConfigError, match="did not create") as err:
        load(sim, db, start="2026-04-01", end="2026-04-01")
    assert "genesys_raw.queues" in str(err.value) and "--allow-foreign-tables" in str(err.value)
    assert err.value.exit_code == 2
    assert query(db, "select * from genesys_raw.queues") == [("theirs",)]  # untouched
    assert not any(r.path.startswith("/api/") for r in sim.requests)
    code = main(["--start", "2026-04-01", "--end", "2026-04-01", "--now", CLOCK.isoformat()])
    err_text = capsys.readouterr().err
    assert code == 2 and err_text.startswith("error: ") and err_text.count("\n") == 1


def test_the_flag_loads_beside_other_tables(sim, db):
    with duckdb.connect(str(db)) as con:
        con.execute("create table main.invoices as select 1 as id")
    load(sim, db, start="2026-04-01", end="2026-04-01", allow_foreign_tables=True)
    assert query(db, "select count(*) from main.invoices") == [(1,)]
    assert interval_rows(db) == sim.ground_truth(
        datetime(2026, 4, 1, tzinfo=UTC), datetime(2026, 4, 2, tzinfo=UTC)
    )


def test_our_own_database_with_built_models_is_accepted(sim, db):
    load(sim, db, start="2026-04-01", end="2026-04-01")
    with duckdb.connect(str(db)) as con:  # what `make build` adds beside the raw tables
        con.execute("create table main.fct_queue_sla_daily as select 1 as x")
    load(sim, db, start="2026-04-02", end="2026-04-02")
    assert interval_rows(db) == sim.ground_truth(
        datetime(2026, 4, 1, tzinfo=UTC), datetime(2026, 4, 3, tzinfo=UTC)
    )


@pytest.mark.parametrize(("schema_name", "refused"), [("genesys", False), ("another_source", True)])
def test_a_first_load_killed_before_its_first_commit_is_not_foreign(db, schema_name, refused):
    """dlt created the raw and bookkeeping tables and stored its schema, but no state row yet (SIGKILL
    mid-commit): the re-run must load, not refuse the file; another source's schema is still foreign."""
    from loader.pipeline import _refuse_foreign_tables

    with duckdb.connect(str(db)) as con:
        con.execute("create schema genesys_raw")
        con.execute("create table genesys_raw.queue_intervals as select 'q' as queue_id")
        con.execute("create table genesys_raw._dlt_pipeline_state (pipeline_name text)")
        con.execute("create table genesys_raw._dlt_version (schema_name text)")
        con.execute("insert into genesys_raw._dlt_version values (?)", [schema_name])
        if refused:
            with pytest.raises(ConfigError, match="did not create"):
                _refuse_foreign_tables(con, db, allow=False)
        else:
            _refuse_foreign_tables(con, db, allow=False)
