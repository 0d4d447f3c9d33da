"""The reporting CLI: input validation, missing data, CSV export format, atomicity, active queues only."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import duckdb
import pytest
from dbt_harness import BuiltProject, run_reporting

MART_FILES = (
    "dim_queues.csv",
    "fct_queue_intervals.csv",
    "fct_queue_sla_daily.csv",
    "fct_queue_sla_interval_profile.csv",
    "fct_queue_sla_period.csv",
)


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["build", "--start", "2026-02-30"], "error: START '2026-02-30' is not a date; use YYYY-MM-DD"),
        (["build", "--end", "March 3"], "error: END 'March 3' is not a date; use YYYY-MM-DD"),
        (["build", "--report-tz", "Europe/Atlantis"], "error: time zone 'Europe/Atlantis' is unknown"),
        (
            ["export", "--start", "2026-03-05", "--end", "2026-03-01"],
            "error: END 2026-03-01 is before START 2026-03-05",
        ),
        (
            ["build", "--var", "sl_formula=average"],
            "error: --var sl_formula=average is not valid; use one of:",
        ),
        (["build", "--var", "include_deleted_queues=maybe"], "error: --var include_deleted_queues=maybe"),
        (["build", "--var", "default_target_pct=0"], "error: --var default_target_pct=0 is not valid"),
        (["build", "--var", "report_timezone=UTC"], "error: --var 'report_timezone=UTC' is not valid"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_writes_nothing(
    tmp_path: Path, args: list[str], message: str
) -> None:
    db_path = tmp_path / "genesys.duckdb"
    run = run_reporting(args, db_path, tmp_path)
    assert run.returncode == 2
    assert run.stderr.startswith(message), run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_missing_database_or_raw_tables_says_run_make_load_first(tmp_path: Path) -> None:
    db_path = tmp_path / "genesys.duckdb"
    run = run_reporting(["build"], db_path, tmp_path)
    assert (run.returncode, run.stderr) == (2, f"error: no loaded data in {db_path}; run 'make load' first\n")
    assert not db_path.exists()  # the check never creates the file
    with duckdb.connect(str(db_path)) as con:
        con.execute("create schema genesys_raw; create table genesys_raw.queues (org_id varchar)")
    run = run_reporting(["build"], db_path, tmp_path)
    assert (run.returncode, run.stderr) == (2, f"error: no loaded data in {db_path}; run 'make load' first\n")


def test_export_writes_one_csv_per_mart_with_iso_utc_and_2_decimals(
    built_project: BuiltProject, tmp_path: Path
) -> None:
    out_dir = tmp_path / "exports"
    run = run_reporting(["export", "--no-build", "--out-dir", str(out_dir)], built_project.db_path, tmp_path)
    assert run.returncode == 0, run.stderr
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(MART_FILES)
    period = _read_csv(out_dir / "fct_queue_sla_period.csv")
    assert list(period[0]) == [
        "org_id", "queue_id", "media_type", "queue_name", "is_deleted", "offered", "answered", "abandoned",
        "short_abandoned", "flow_outs", "handled", "sl_numerator", "sl_denominator", "service_level_pct",
        "target_pct", "target_met", "answer_rate_pct", "abandon_rate_pct", "asa_seconds", "aht_seconds",
        "intervals_below_target", "days_below_target",
    ]  # fmt: skip
    with duckdb.connect(str(built_project.db_path), read_only=True) as con:
        exact = dict(
            con.execute(
                "select queue_id || '/' || media_type, service_level_pct from fct_queue_sla_period"
            ).fetchall()
        )
    for row in period:
        assert float(row["service_level_pct"]) == round(exact[f"{row['queue_id']}/{row['media_type']}"], 2)
        for column in (
            "service_level_pct",
            "answer_rate_pct",
            "abandon_rate_pct",
            "asa_seconds",
            "aht_seconds",
        ):
            assert re.fullmatch(r"\d+(\.\d{1,2})?", row[column]), (column, row[column])
    intervals = _read_csv(out_dir / "fct_queue_intervals.csv")
    assert len(intervals) == len(built_project.buckets)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", intervals[0]["interval_start"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", intervals[0]["loaded_at"])
    daily = _read_csv(out_dir / "fct_queue_sla_daily.csv")
    assert {row["report_date"] for row in daily} == {"2026-03-01", "2026-03-02", "2026-03-03"}


def test_failed_export_leaves_previous_csvs_and_no_partial_file(
    built_project: BuiltProject, tmp_path: Path
) -> None:
    out_dir = tmp_path / "exports"
    out_dir.mkdir()
    for name in MART_FILES:
        (out_dir / name).write_text("previous export\n")
    db_path = built_project.copy_db(tmp_path)
    with duckdb.connect(str(db_path)) as con:
        con.execute("drop view fct_queue_sla_period")  # the last mart to export (public marts are views)
    run = run_reporting(["export", "--no-build", "--out-dir", str(out_dir)], db_path, tmp_path)
    assert run.returncode == 2
    assert (
        run.stderr
        == "error: mart fct_queue_sla_period is not built in the DuckDB file; run 'make build' first\n"
    )
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(MART_FILES)  # no temporary file left behind
    assert {(out_dir / name).read_text() for name in MART_FILES} == {"previous export\n"}


def test_active_queues_only_and_sl_formula_var_reach_the_marts(
    built_project: BuiltProject, tmp_path: Path
) -> None:
    db_path = built_project.copy_db(tmp_path)
    out_dir = tmp_path / "exports"
    args = [
        "export",
        "--active-queues-only",
        "--var",
        "sl_formula=include_flow_outs",
        "--out-dir",
        str(out_dir),
    ]
    run = run_reporting(args, db_path, tmp_path)
    assert run.returncode == 0, run.stderr  # unit tests pin their vars: they pass whatever the CLI sets
    for name in ("fct_queue_sla_daily.csv", "fct_queue_sla_period.csv"):
        rows = _read_csv(out_dir / name)
        assert {row["queue_id"] for row in rows} == {"q-sales", "q-support"}
        assert {row["is_deleted"] for row in rows} == {"false"}
    # the dimension and the bucket fact still hold every queue
    assert {row["queue_id"] for row in _read_csv(out_dir / "dim_queues.csv")} == {
        "q-sales",
        "q-support",
        "q-old",
        "q-ghost",
    }
    assert "q-old" in {row["queue_id"] for row in _read_csv(out_dir / "fct_queue_intervals.csv")}
    # include_flow_outs: (answered - over_sla) / (answered + abandoned + flow_outs), summed over the period
    sales_voice = [b for b in built_project.buckets if (b.queue_id, b.media_type) == ("q-sales", "voice")]
    numerator = sum((b.answered or 0) - (b.over_sla or 0) for b in sales_voice)
    denominator = sum((b.answered or 0) + (b.abandoned or 0) + (b.flow_outs or 0) for b in sales_voice)
    period = {(r["queue_id"], r["media_type"]): r for r in _read_csv(out_dir / "fct_queue_sla_period.csv")}
    assert (
        int(period[("q-sales", "voice")]["sl_numerator"]),
        int(period[("q-sales", "voice")]["sl_denominator"]),
    ) == (
        numerator,
        denominator,
    )
    assert float(period[("q-sales", "voice")]["service_level_pct"]) == round(100 * numerator / denominator, 2)


def test_a_database_error_is_reported_by_its_message_not_by_the_sql_it_points_at() -> None:
    from reporting.dbt_build import _problem_line

    message = (
        "Runtime Error in model int_x (models/int_x.sql)\n"
        '  Binder Error: Referenced column "report_settings_hash" not found in FROM clause!\n'
        '  Candidate bindings: "report_timezone"\n'
        "\n"
        "  LINE 12:     where report_settings_hash is distinct from 42\n"
        "                    ^"
    )
    assert _problem_line(message) == 'Referenced column "report_settings_hash" not found in FROM clause!'
