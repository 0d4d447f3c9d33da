"""What a build runs: folded row checks still name each broken rule; unit tests are left out only when the
checkout's project files already passed them (on any database), never on --full-refresh. The builds run
in-process (dbt_harness.build_in_process): what they ran is read from run_results.json, not from the exit."""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest
import raw_fixture
from dbt_harness import BuiltProject, build_in_process, run_results

from reporting.unit_test_gate import project_fingerprint

MARKER = "unit_tests_passed"


def _unit_tests_run(work_dir: Path) -> list[dict]:
    return [r for r in run_results(work_dir) if r["unique_id"].startswith("unit_test.")]


@pytest.fixture
def own_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A build cache of this test's own, holding the fingerprint of the current project files."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("GENESYS_BUILD_CACHE_DIR", str(cache))
    cache.mkdir()
    (cache / MARKER).write_text(project_fingerprint() + "\n")
    return cache


def test_a_build_of_sql_that_passed_its_unit_tests_leaves_them_out_on_any_database(
    built_project: BuiltProject, tmp_path: Path, own_cache: Path
) -> None:
    assert len(_unit_tests_run(built_project.work_dir)) >= 17  # the first build of the checkout ran them
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    db_path = fresh / "genesys.duckdb"
    raw_fixture.write_raw_tables(str(db_path), built_project.buckets)
    run = build_in_process(["build"], db_path, fresh)  # a first build, of another database
    assert run.returncode == 0, run.stderr
    assert _unit_tests_run(fresh) == []
    assert any(r["unique_id"].startswith("test.") for r in run_results(fresh))  # data tests still run


def test_unit_tests_run_when_the_project_changed_or_on_a_full_refresh(
    built_project: BuiltProject, tmp_path: Path, own_cache: Path
) -> None:
    db_path = built_project.copy_db(tmp_path)
    (own_cache / MARKER).write_text("fingerprint of other project files\n")
    run = build_in_process(["build"], db_path, tmp_path)
    assert run.returncode == 0, run.stderr
    assert len(_unit_tests_run(tmp_path)) >= 17
    assert (own_cache / MARKER).read_text().strip() == project_fingerprint()  # they passed: recorded
    run = build_in_process(["build"], db_path, tmp_path)
    assert run.returncode == 0, run.stderr
    assert _unit_tests_run(tmp_path) == []
    run = build_in_process(["build", "--full-refresh"], db_path, tmp_path)
    assert run.returncode == 0, run.stderr
    assert len(_unit_tests_run(tmp_path)) >= 17


def test_row_checks_fail_the_build_and_name_the_broken_rule(
    built_project: BuiltProject, tmp_path: Path
) -> None:
    db_path = built_project.copy_db(tmp_path)
    # a later load of one bucket with more short abandons than abandons (staging does not check this rule)
    bucket = built_project.buckets[-1]
    broken = replace(bucket, abandoned=1, short_abandoned=3)
    with duckdb.connect(str(db_path)) as con:
        raw_fixture.append_intervals(con, [broken], raw_fixture.LOADED_AT + timedelta(days=1))
    run = build_in_process(["build"], db_path, tmp_path)
    assert run.returncode != 0
    assert "int_queue_intervals_localized_row_checks" in run.stderr
    failed = [r for r in run_results(tmp_path) if r["status"] == "fail"]
    assert [r["unique_id"].split(".")[2] for r in failed] == ["int_queue_intervals_localized_row_checks"]
    assert failed[0]["failures"] == 1
    # the test's own query names the rule and counts the rows breaking it
    compiled = next((tmp_path / "target" / "compiled").rglob("int_queue_intervals_localized_row_checks.sql"))
    with duckdb.connect(str(db_path), read_only=True) as con:
        con.execute("set TimeZone = 'UTC'")
        rows = con.execute(compiled.read_text()).fetchall()
    assert rows == [("short_abandoned_le_abandoned", 1)]


def test_a_bucket_stored_twice_in_raw_fails_the_full_build_on_the_bucket_model(
    built_project: BuiltProject, tmp_path: Path
) -> None:
    """Staging has no uniqueness test of its own: the bucket model holds one row per raw row, and its test
    names the duplicate."""
    db_path = built_project.copy_db(tmp_path)
    with duckdb.connect(str(db_path)) as con:
        con.execute(
            "insert into genesys_raw.queue_intervals select * from genesys_raw.queue_intervals"
            " where interval_start = (select min(interval_start) from genesys_raw.queue_intervals) limit 1"
        )
    run = build_in_process(["build", "--full-refresh"], db_path, tmp_path)
    assert run.returncode != 0
    failed = [r["unique_id"].split(".")[2] for r in run_results(tmp_path) if r["status"] == "fail"]
    assert failed == [
        "unique_combination_of_columns_int_queue_intervals_localized_org_id__queue_id__media_type__interval_start"
    ]


def _compiled_test_on_a_copy(built_project: BuiltProject, tmp_path: Path, test_file: str) -> tuple[str, Path]:
    """The SQL a data test ran in the full build, and a copy of the built file to run it on (whose name the
    compiled SQL uses as its catalog); the SQL finds nothing on the unchanged copy."""
    compiled = next((built_project.work_dir / "target" / "compiled").rglob(test_file)).read_text()
    db_path = tmp_path / built_project.db_path.name
    shutil.copyfile(built_project.db_path, db_path)
    with duckdb.connect(str(db_path)) as con:
        con.execute("set TimeZone = 'UTC'")
        assert con.execute(compiled).fetchall() == []
    return compiled, db_path


def test_daily_reconciliation_after_a_full_build_checks_every_day(
    built_project: BuiltProject, tmp_path: Path
) -> None:
    # the full build compiled the test without the day list (every bucket was rewritten): it must still
    # catch a daily row that no longer carries its buckets' sums
    sql, db_path = _compiled_test_on_a_copy(
        built_project, tmp_path, "assert_daily_sums_reconcile_with_intervals.sql"
    )
    assert "touched_days" not in sql
    with duckdb.connect(str(db_path)) as con:
        con.execute("set TimeZone = 'UTC'")
        con.execute(
            "update genesys_build.fct_queue_sla_daily set offered = offered + 1"
            " where report_date = (select min(report_date) from genesys_build.fct_queue_sla_daily)"
            " and queue_id = (select min(queue_id) from genesys_build.fct_queue_sla_daily)"
        )
        mismatches = con.execute(sql).fetchall()
    assert len(mismatches) >= 1


def test_row_checks_count_each_broken_rule_null_checks_included(
    built_project: BuiltProject, tmp_path: Path
) -> None:
    sql, db_path = _compiled_test_on_a_copy(
        built_project, tmp_path, "int_queue_intervals_localized_row_checks.sql"
    )
    with duckdb.connect(str(db_path)) as con:
        con.execute("set TimeZone = 'UTC'")
        con.execute(
            "update main.int_queue_intervals_localized"
            " set report_minute_of_day = null, sl_numerator = sl_denominator + 1"
            " where interval_start = (select min(interval_start) from main.int_queue_intervals_localized)"
        )
        broken = con.execute(
            "select count(*) from main.int_queue_intervals_localized where report_minute_of_day is null"
        )
        (n_broken,) = broken.fetchone()
        rows = sorted(con.execute(sql).fetchall())
    assert n_broken >= 1
    assert rows == [("report_minute_of_day is null", n_broken), ("sl_numerator_le_denominator", n_broken)]
