"""Truth on PostgreSQL: the same loads and builds as on DuckDB give the same marts, row for row.

One scenario per module, shared by its tests: a DST fortnight in America/New_York loaded from the simulator
into a DuckDB file and into a fresh PostgreSQL database, then reloaded over the lookback (window replacement,
incremental models) and built again on both. Every mart row must have the same counts on both engines and
ratios equal to 6 decimals; the daily and period marts must also equal the simulator's ground truth.
"""

from __future__ import annotations

import csv
import dataclasses
import math
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from reporting.options import build_options
from reporting.pg_snapshot import snapshot
from reporting.report_data import REPORT_MARTS, read_report_data
from simulator import Simulator, SimulatorConfig, run_simulator
from tests.e2e.conftest import CLIENT_SECRET, REPO_ROOT, Workspace, make_workspace, ok
from tests.e2e.test_truth import assert_marts_equal_truth, utc_range
from tests.pgserver import PgServer
from tests.postgres.conftest import on_postgres, pg_rows

REPORT_TZ = "America/New_York"
FIRST, LAST = date(2026, 10, 26), date(2026, 11, 8)  # DST ends on 2026-11-01 in New York
CLOCK = datetime(2026, 11, 9, 12, tzinfo=UTC)  # the last days' buckets are still growing (late metrics)
# key columns of each public mart (the rows compared one to one)
MART_KEYS = {
    "dim_queues": ("org_id", "queue_id"),
    "fct_queue_intervals": ("org_id", "queue_id", "media_type", "interval_start"),
    "fct_queue_sla_daily": ("org_id", "queue_id", "media_type", "report_date"),
    "fct_queue_sla_period": ("org_id", "queue_id", "media_type"),
    "fct_queue_sla_interval_profile": (
        "org_id",
        "queue_id",
        "media_type",
        "local_weekday",
        "local_time_of_day",
    ),
}
RAW_KEYS = ("org_id", "queue_id", "media_type", "interval_start")
# when each engine's load ran (two loads, two clocks): the one column that may differ
RUN_TIME_COLUMNS = {"loaded_at"}


@dataclass
class Scenario:
    sim: Simulator
    duck: Workspace
    pg: Workspace
    server: PgServer
    truth: list[dict]


@pytest.fixture(scope="module")
def scenario(pg_database: PgServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    config = SimulatorConfig(client_secret=CLIENT_SECRET, clock_start=CLOCK)
    with run_simulator(config) as sim:
        folder: Path = tmp_path_factory.mktemp("pg_truth")
        duck = make_workspace(sim, folder, "duckdb")
        pg = on_postgres(make_workspace(sim, folder, "postgres"), pg_database)
        dates = ("--start", FIRST.isoformat(), "--end", LAST.isoformat(), "--report-tz", REPORT_TZ)
        for ws in (duck, pg):
            ok(ws.load(*dates, "--now", CLOCK.isoformat()))
            ok(ws.build(*dates))
        # an hour later the late buckets have grown: the incremental load re-pulls the lookback and replaces
        # its windows; the incremental build must follow on both engines
        later = CLOCK + timedelta(hours=6)
        sim.clock.set(later)
        for ws in (duck, pg):
            ok(ws.load("--now", later.isoformat()))
            ok(ws.build(*dates))
        start, end = utc_range(FIRST, LAST, REPORT_TZ)
        truth = sim.ground_truth(start, end, "PT1H", as_of=later)
        yield Scenario(sim, duck, pg, pg_database, truth)


def _keyed(rows: list[dict], key: tuple[str, ...]) -> dict[tuple, dict]:
    keyed = {tuple(row[column] for column in key): row for row in rows}
    assert len(keyed) == len(rows), "duplicate keys"
    return keyed


def _same(column: str, got: object, want: object) -> bool:
    if isinstance(got, float) or isinstance(want, float):
        if got is None or want is None:
            return got is None and want is None
        return math.isclose(float(got), float(want), abs_tol=5e-7) and round(float(got), 6) == round(
            float(want), 6
        )
    return got == want


def test_raw_tables_hold_the_same_rows(scenario: Scenario) -> None:
    """Loader on both destinations: same buckets, same figures, nothing duplicated by the re-pull."""
    columns = "org_id, queue_id, media_type, interval_start, interval_end, offered_count, answered_count, "
    columns += "abandoned_count, handled_count, sl_numerator, sl_denominator, sl_target_ratio"
    sql = f"select {columns} from genesys_raw.queue_intervals"
    duck = _keyed(scenario.duck.rows(sql), RAW_KEYS)
    pg = _keyed(pg_rows(scenario.server, sql), RAW_KEYS)
    assert len(duck) > 1000
    assert pg == duck
    for table in ("queues", "queue_service_level_targets"):
        count = f"select count(*) as n from genesys_raw.{table}"
        assert pg_rows(scenario.server, count) == scenario.duck.rows(count)


@pytest.mark.parametrize("mart", sorted(MART_KEYS))
def test_every_mart_row_matches_duckdb(scenario: Scenario, mart: str) -> None:
    """Same keys; per row the same counts, texts, dates and flags, and ratios equal to 6 decimals."""
    sql = f"select * from main.{mart}"
    duck = _keyed(scenario.duck.rows(sql), MART_KEYS[mart])
    pg = _keyed(pg_rows(scenario.server, sql), MART_KEYS[mart])
    assert duck, f"{mart} is empty"
    assert set(pg) == set(duck)
    for key, want in duck.items():
        got = pg[key]
        assert set(got) == set(want), f"{mart}: columns differ"
        for column, value in want.items():
            if column in RUN_TIME_COLUMNS:
                continue
            assert _same(column, got[column], value), f"{mart} {key}: {column} {got[column]!r} != {value!r}"


def test_daily_and_period_marts_equal_ground_truth(scenario: Scenario) -> None:
    """PostgreSQL's daily and period marts against the simulator's own per-bucket figures."""

    class PgView:
        def rows(self, sql: str) -> list[dict]:
            return pg_rows(scenario.server, sql)

    assert_marts_equal_truth(PgView(), scenario.truth, REPORT_TZ)  # type: ignore[arg-type]


def test_an_unfinished_build_makes_the_public_marts_refuse(scenario: Scenario) -> None:
    """The read-safety guard (macros/build_state.sql) raises on PostgreSQL too; rolled back afterwards."""
    import psycopg2

    conn = scenario.server.connect()
    try:
        conn.autocommit = False
        with conn.cursor() as cursor:
            cursor.execute(
                "insert into genesys_build.build_runs (invocation_id, command, status, started_at) "
                "values ('pg-test', 'build', 'running', now() + interval '1 minute')"
            )
            with pytest.raises(psycopg2.Error, match="did not finish, so the marts may mix two builds"):
                cursor.execute("select count(*) from main.fct_queue_sla_daily")
        conn.rollback()
    finally:
        conn.close()
    assert pg_rows(scenario.server, "select count(*) as n from main.fct_queue_sla_period")[0]["n"] > 0


def _csv_rows(folder: Path, name: str) -> tuple[list[str], list[list[str]]]:
    with (folder / name).open(newline="", encoding="utf-8") as handle:
        header, *rows = list(csv.reader(handle))
    return header, rows


def _same_cell(got: str, want: str) -> bool:
    """Equal text, or equal numbers written differently (PostgreSQL's 85.00 is DuckDB's 85.0)."""
    if got == want:
        return True
    try:
        return float(got) == float(want)
    except ValueError:
        return False


def test_export_writes_the_same_csvs(scenario: Scenario) -> None:
    """`python -m reporting export` from PostgreSQL: the same files, headers and rows as from DuckDB."""
    for ws in (scenario.duck, scenario.pg):
        ok(ws.export("--no-build"))
    names = sorted(path.name for path in scenario.duck.exports_dir.glob("*.csv"))
    assert names == sorted(path.name for path in scenario.pg.exports_dir.glob("*.csv"))
    assert len(names) == len(MART_KEYS)
    for name in names:
        header, want_rows = _csv_rows(scenario.duck.exports_dir, name)
        pg_header, got_rows = _csv_rows(scenario.pg.exports_dir, name)
        assert pg_header == header, name
        assert len(got_rows) == len(want_rows), name
        skip = {header.index(column) for column in RUN_TIME_COLUMNS if column in header}
        for got, want in zip(got_rows, want_rows, strict=True):
            for i, (cell, expected) in enumerate(zip(got, want, strict=True)):
                assert i in skip or _same_cell(cell, expected), (
                    f"{name} {header[i]}: {cell!r} != {expected!r}"
                )


def _rounded(value: object) -> object:
    """Floats to 6 decimals, recursively (the two engines may differ in the last bits of a ratio)."""
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, dict):
        return {key: _rounded(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_rounded(item) for item in value]
    return value


def test_make_sql_answers_from_postgres(scenario: Scenario) -> None:
    """`make sql` answers from PostgreSQL through psql (read-only), the password never on screen."""
    env = {**scenario.pg.env, "Q": "select count(*) as n from main.fct_queue_sla_period"}
    result = subprocess.run(
        ["make", "--no-print-directory", "sql"], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    expected = pg_rows(scenario.server, "select count(*) as n from main.fct_queue_sla_period")[0]["n"]
    assert re.search(rf"^\s*{expected}\s*$", result.stdout, re.MULTILINE), result.stdout
    assert scenario.server.owner_password not in result.stdout + result.stderr


def test_report_reads_the_same_figures_from_postgres(
    scenario: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`make report` on PostgreSQL: the page is written, from exactly the data DuckDB's marts give."""
    report = scenario.pg.run(
        "-m", "reporting", "report", "--no-build", "--out", str(scenario.pg.db_path.parent / "r.html")
    )
    assert report.returncode == 0, report.stderr
    assert (scenario.pg.db_path.parent / "r.html").stat().st_size > 10_000
    options = build_options(FIRST.isoformat(), LAST.isoformat(), REPORT_TZ, [], False)
    from_duckdb = read_report_data(scenario.duck.db_path, options)
    monkeypatch.setenv("DESTINATION", "postgres")
    monkeypatch.setenv("DESTINATION__POSTGRES__CREDENTIALS", scenario.server.url())
    with snapshot(scenario.pg.db_path, REPORT_MARTS) as copy:
        from_postgres = read_report_data(copy, options)
    assert from_duckdb.queues and from_duckdb.worst
    assert _rounded(dataclasses.asdict(from_postgres)) == _rounded(dataclasses.asdict(from_duckdb))
