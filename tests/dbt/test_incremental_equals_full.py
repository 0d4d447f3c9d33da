"""An incremental build after a new day, re-pulled and removed buckets equals a full rebuild, row for row.

The builds run in-process (dbt_harness.build_in_process): the test compares the data they leave."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest
import raw_fixture
from dbt_harness import BuiltProject, build_in_process

MARTS = (
    "dim_queues",
    "fct_queue_intervals",
    "fct_queue_sla_daily",
    "fct_queue_sla_interval_profile",
    "fct_queue_sla_period",
)


def _rows(db_path: Path, relation: str) -> list[tuple]:
    with duckdb.connect(str(db_path), read_only=True) as con:
        con.execute("set TimeZone = 'UTC'")
        return con.execute(f"select * from main.{relation} order by all").fetchall()


def _change_raw(db_path: Path, buckets: list[raw_fixture.Bucket]) -> dict[str, int]:
    """Next day's load: a new day, yesterday's buckets re-pulled with grown counts, one bucket gone."""
    last_day = max(b.interval_start for b in buckets).date()
    yesterday = [b for b in buckets if b.interval_start.date() == last_day]
    new_day = [replace(b, interval_start=b.interval_start + timedelta(days=1)) for b in yesterday]
    grown = [
        replace(b, offered=(b.offered or 0) + 4, abandoned=(b.abandoned or 0) + 4,
                sl_denominator=(b.sl_denominator or 0) + 4)
        for b in yesterday
    ]  # fmt: skip
    removed = buckets[5]  # an early bucket (first day): its day is touched only by the removal
    with duckdb.connect(str(db_path)) as con:
        raw_fixture.append_intervals(con, grown + new_day, raw_fixture.LOADED_AT + timedelta(days=1))
        con.execute(
            "delete from genesys_raw.queue_intervals"
            " where queue_id = ? and media_type = ? and interval_start = ?",
            [removed.queue_id, removed.media_type, removed.interval_start],
        )
    return {"new": len(new_day), "grown": len(grown)}


@pytest.mark.parametrize("report_tz", ["UTC", "America/New_York"])
def test_incremental_build_equals_a_full_rebuild(
    built_project: BuiltProject, tmp_path: Path, report_tz: str
) -> None:
    incremental_db = built_project.copy_db(tmp_path)
    if report_tz != "UTC":  # first build in this zone, so the second one is incremental in it
        assert build_in_process(["build", "--report-tz", report_tz], incremental_db, tmp_path).returncode == 0
    before = _rows(incremental_db, "fct_queue_sla_daily")
    changed = _change_raw(incremental_db, built_project.buckets)
    full_dir = tmp_path / "full"
    full_dir.mkdir()
    full_db = full_dir / "full.duckdb"
    shutil.copyfile(incremental_db, full_db)  # same raw tables, built state to be thrown away

    run = build_in_process(["build", "--report-tz", report_tz], incremental_db, tmp_path)
    full = build_in_process(["build", "--full-refresh", "--report-tz", report_tz], full_db, full_dir)
    assert run.returncode == 0, run.stderr
    assert full.returncode == 0, full.stderr

    # it really was incremental: it rebuilt only the new and re-pulled buckets (and one tombstone)
    with duckdb.connect(str(incremental_db), read_only=True) as con:
        newest = con.execute(
            "with localized as (select built_at from int_queue_intervals_localized)"
            " select count(*) filter (where built_at = (select max(built_at) from localized)), count(*)"
            " from localized"
        ).fetchone()
    assert newest[0] == changed["new"] + changed["grown"] + 1 < newest[1]

    for mart in MARTS:
        assert _rows(incremental_db, mart) == _rows(full_db, mart), mart
    assert _rows(incremental_db, "fct_queue_sla_daily") != before  # the change did reach the marts


def _full_rebuild_of(db_path: Path, work_dir: Path, args: list[str], **env: str) -> Path:
    """A copy of db_path (its raw tables) built from scratch with the same arguments."""
    work_dir.mkdir()
    full_db = work_dir / "full.duckdb"
    shutil.copyfile(db_path, full_db)
    full = build_in_process(["build", "--full-refresh", *args], full_db, work_dir, **env)
    assert full.returncode == 0, full.stderr
    return full_db


def _assert_marts_equal(incremental_db: Path, full_db: Path) -> None:
    for mart in MARTS:
        assert _rows(incremental_db, mart) == _rows(full_db, mart), mart


def test_incremental_builds_follow_new_targets_renamed_queues_emptied_months_and_periods(
    built_project: BuiltProject, tmp_path: Path
) -> None:
    """What a day row or a profile month depends on besides its buckets: each change, built incrementally,
    gives the marts of a full rebuild (the profile re-sums only the months it must, the daily mart only the
    days that can differ)."""
    db = built_project.copy_db(tmp_path)
    # a second month (the fixture's buckets are all in March), built incrementally as the base
    april = [
        replace(b, interval_start=b.interval_start + timedelta(days=31))
        for b in built_project.buckets
        if b.interval_start.date().day == 1
    ]
    with duckdb.connect(str(db)) as con:
        raw_fixture.append_intervals(con, april, raw_fixture.LOADED_AT + timedelta(days=1))
    assert build_in_process(["build"], db, tmp_path).returncode == 0

    # a targets file for one group (every day of both months re-judged) and a queue renamed in Genesys
    targets = tmp_path / "targets.csv"
    targets.write_text("queue_id,queue_name,media_type,target_pct\nq-sales,,voice,55\n", encoding="utf-8")
    env = {"GENESYS_TARGETS_CSV": str(targets)}
    with duckdb.connect(str(db)) as con:
        con.execute("update genesys_raw.queues set name = 'Support (renamed)' where queue_id = 'q-support'")
    before = _rows(db, "fct_queue_sla_interval_profile")
    run = build_in_process(["build"], db, tmp_path, **env)
    assert run.returncode == 0, run.stderr
    _assert_marts_equal(db, _full_rebuild_of(db, tmp_path / "retargeted", [], **env))
    assert _rows(db, "fct_queue_sla_interval_profile") != before

    # every April bucket of one group removed: its April month must leave the profile
    with duckdb.connect(str(db)) as con:
        con.execute(
            "delete from genesys_raw.queue_intervals"
            " where queue_id = 'q-old' and interval_start >= '2026-04-01'"
        )
    run = build_in_process(["build"], db, tmp_path, **env)
    assert run.returncode == 0, run.stderr
    _assert_marts_equal(db, _full_rebuild_of(db, tmp_path / "emptied", [], **env))

    # a narrower report period
    period = ["--start", "2026-03-02", "--end", "2026-04-01"]
    run = build_in_process(["build", *period], db, tmp_path, **env)
    assert run.returncode == 0, run.stderr
    _assert_marts_equal(db, _full_rebuild_of(db, tmp_path / "period", period, **env))


INCREMENTAL_MODELS = {
    "int_queue_intervals_localized": "main",
    "int_queue_days_summed": "main",
    "fct_queue_sla_daily": "genesys_build",
    "fct_queue_sla_period": "genesys_build",
}


def _columns(db_path: Path, schema: str, table: str) -> list[str]:
    with duckdb.connect(str(db_path), read_only=True) as con:
        rows = con.execute(
            "select column_name from information_schema.columns where table_schema = ? and table_name = ?"
            " order by column_name",
            [schema, table],
        ).fetchall()
    return [name for (name,) in rows]


def test_each_incremental_model_documents_exactly_the_columns_it_builds(built_project: BuiltProject) -> None:
    """drop_outdated_incremental_tables rebuilds a table whose columns differ from the documented ones: a
    column added to the SQL but not to the YAML would make every build start that model over."""
    manifest = json.loads((built_project.work_dir / "target" / "manifest.json").read_text())
    incremental = {
        node["name"]: sorted(node["columns"])
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["config"]["materialized"] == "incremental"
    }
    assert set(incremental) == set(INCREMENTAL_MODELS)
    for name, schema in INCREMENTAL_MODELS.items():
        assert _columns(built_project.db_path, schema, name) == incremental[name], name


def test_tables_left_by_another_version_of_the_models_are_rebuilt_whole(
    built_project: BuiltProject, tmp_path: Path
) -> None:
    """After an upgrade that changes an incremental model's columns, the next build rebuilds that table
    instead of failing on the schema change, and its marts equal a full rebuild."""
    db = built_project.copy_db(tmp_path)
    with duckdb.connect(str(db)) as con:  # as an older version left them
        con.execute("alter table main.int_queue_intervals_localized add column report_hour bigint")
        con.execute("alter table main.int_queue_days_summed drop column report_settings_hash")
    changed = _change_raw(db, built_project.buckets)
    assert changed["new"] > 0
    run = build_in_process(["build"], db, tmp_path)
    assert run.returncode == 0, run.stderr
    log = (tmp_path / "logs").rglob("dbt.log")
    text = "".join(path.read_text() for path in log)
    assert "rebuilding int_queue_intervals_localized whole" in text
    assert "rebuilding int_queue_days_summed whole" in text
    assert "rebuilding fct_queue_sla_daily" not in text
    assert _columns(db, "main", "int_queue_intervals_localized") == _columns(
        built_project.db_path, "main", "int_queue_intervals_localized"
    )
    _assert_marts_equal(db, _full_rebuild_of(db, tmp_path / "full", []))
