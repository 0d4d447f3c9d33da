"""Reads you can trust: killed, interrupted and failed builds, concurrent builds, and the CSV folder swap."""

from __future__ import annotations

import csv
import fcntl
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from dbt_harness import REPO, BuiltProject, CliRun, clean_env, run_reporting

from common.dblock import lock_path
from reporting import export as export_module
from reporting.build_state import last_build
from reporting.paths import database_key

MARTS = (
    "dim_queues",
    "fct_queue_intervals",
    "fct_queue_sla_daily",
    "fct_queue_sla_interval_profile",
    "fct_queue_sla_period",
)

# `python -m reporting` with one hook: when dbt reports that fct_queue_intervals finished, the process sends
# itself a signal, i.e. it is killed or interrupted exactly between the intervals mart and the daily marts.
_SIGNAL_AFTER_INTERVALS = """
import os, signal, sys
import reporting.dbt_build as dbt_build

def _after_intervals(event):
    if event.info.name == "NodeFinished" and event.data.node_info.unique_id.endswith(".fct_queue_intervals"):
        os.kill(os.getpid(), getattr(signal, os.environ["TEST_SIGNAL"]))

class _Runner(dbt_build.dbtRunner):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, callbacks=[_after_intervals], **kwargs)

dbt_build.dbtRunner = _Runner
from reporting.__main__ import main
sys.exit(main(sys.argv[1:]))
"""

# `python -m reporting export` that signals itself once the second CSV is written (a signal mid-export);
# with TEST_DURING_COPY, while DuckDB runs the third CSV's COPY (kept busy by a slow scalar subquery), when
# DuckDB raises RuntimeError('Query interrupted') in place of the signal handler's exception.
_SIGNAL_MID_EXPORT = """
import os, signal, sys, threading
import reporting.export as export
_select, _calls = export._csv_select, []

def _signal():
    os.kill(os.getpid(), getattr(signal, os.environ["TEST_SIGNAL"]))

def _csv_select(con, mart):
    _calls.append(mart)
    if len(_calls) != 3:
        return _select(con, mart)
    if not os.environ.get("TEST_DURING_COPY"):
        _signal()
        return _select(con, mart)
    threading.Timer(0.3, _signal).start()
    busy = "(select count(*) from range(3000000000) t(x) where x % 7 = 3)"
    return f"select * from ({_select(con, mart)}) where {busy} > 0"

export._csv_select = _csv_select
from reporting.__main__ import main
sys.exit(main(sys.argv[1:]))
"""


def _run_script(script: str, args: list[str], db_path: Path, work_dir: Path, **env: str) -> CliRun:
    proc = subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=REPO,
        env={**clean_env(db_path, work_dir), **env},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    return CliRun(proc.returncode, proc.stdout, proc.stderr)


def _query(db_path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db_path), read_only=True) as con:
        return con.execute(sql).fetchall()


def _refusal(db_path: Path, sql: str) -> str:
    """The error a reader gets for sql (fails the test when the query answers)."""
    with pytest.raises(duckdb.Error) as caught:
        _query(db_path, sql)
    return str(caught.value)


def _last_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _assert_readers_refuse(db_path: Path, work_dir: Path, fragment: str) -> None:
    """Every way of reading the marts refuses or warns, naming the unfinished or failed build."""
    for mart in MARTS:
        assert fragment in _refusal(db_path, f"select count(*) from main.{mart}"), mart
    # a filter that matches no row does not get around the guard
    assert fragment in _refusal(db_path, "select * from main.fct_queue_sla_daily where offered < 0")
    export = run_reporting(
        ["export", "--no-build", "--out-dir", str(work_dir / "exports")], db_path, work_dir
    )
    assert export.returncode == 2, export
    assert len(export.stderr.strip().splitlines()) == 1, export.stderr
    assert export.stderr.startswith("error: the last build") and fragment in export.stderr, export.stderr
    assert not (work_dir / "exports").exists()
    warn = subprocess.run(
        [sys.executable, "-m", "reporting.build_state"],
        cwd=REPO,
        env=clean_env(db_path, work_dir),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert warn.returncode == 0 and warn.stderr.startswith("warning: the last build"), warn.stderr
    assert fragment in warn.stderr


@pytest.fixture(scope="module")
def private_copy(built_project: BuiltProject, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the built file that the build tests of this module take turns to change."""
    return built_project.copy_db(tmp_path_factory.mktemp("read_safety"))


def test_a_successful_build_publishes_every_mart_as_a_guarded_view(built_project: BuiltProject) -> None:
    record = last_build(built_project.db_path)
    assert record is not None and record.status == "success"
    assert (record.report_timezone, record.report_start, record.report_end) == ("UTC", None, None)
    assert record.sl_formula == "genesys" and record.finished_at >= record.started_at
    assert record.marts == MARTS
    kinds = dict(
        _query(
            built_project.db_path,
            "select table_name, table_type from information_schema.tables where table_schema = 'main'",
        )
    )
    assert {mart: kinds[mart] for mart in MARTS} == dict.fromkeys(MARTS, "VIEW")
    for mart in MARTS:
        public = _query(built_project.db_path, f"select * from main.{mart} order by all")
        assert public and public == _query(
            built_project.db_path, f"select * from genesys_build.{mart} order by all"
        )


def test_killed_build_leaves_marts_refused_until_the_next_build_repairs_them(
    private_copy: Path, tmp_path: Path
) -> None:
    # SIGKILL right after fct_queue_intervals of a New York build: intervals are cut in New York, the daily
    # mart is still the UTC build's, exactly the mix the guard must hide
    killed = _run_script(
        _SIGNAL_AFTER_INTERVALS,
        ["build", "--report-tz", "America/New_York"],
        private_copy,
        tmp_path,
        TEST_SIGNAL="SIGKILL",
    )
    assert killed.returncode == -signal.SIGKILL, killed
    zones = _query(
        private_copy,
        "select (select any_value(report_timezone) from genesys_build.fct_queue_intervals),"
        " (select min(report_date) from genesys_build.fct_queue_sla_daily)",
    )
    assert zones[0][0] == "America/New_York" and str(zones[0][1]) == "2026-03-01"
    record = last_build(private_copy)
    assert record is not None and record.status == "interrupted" and record.finished_at is None
    assert record.report_timezone == "America/New_York"
    _assert_readers_refuse(private_copy, tmp_path, "did not finish")

    repair = run_reporting(["build", "--report-tz", "America/New_York"], private_copy, tmp_path)
    assert repair.returncode == 0, repair
    repaired = last_build(private_copy)
    assert repaired is not None and repaired.status == "success"
    offered = _query(
        private_copy,
        "select (select sum(offered) from main.fct_queue_intervals),"
        " (select sum(offered) from main.fct_queue_sla_daily),"
        " (select sum(offered) from main.fct_queue_sla_period)",
    )[0]
    assert offered[0] == offered[1] == offered[2] > 0


def test_ctrl_c_during_a_build_exits_130_saying_interrupted(private_copy: Path, tmp_path: Path) -> None:
    run = _run_script(
        _SIGNAL_AFTER_INTERVALS,
        ["build", "--report-tz", "Europe/London"],
        private_copy,
        tmp_path,
        TEST_SIGNAL="SIGINT",
    )
    assert run.returncode == 130, run
    assert "Traceback" not in run.stderr, run.stderr
    assert _last_line(run.stderr).startswith("error: interrupted; the build did not finish"), run.stderr
    record = last_build(private_copy)
    assert record is not None and record.status in ("interrupted", "failed"), record
    assert "the last build" in _refusal(private_copy, "select count(*) from main.fct_queue_sla_daily")
    # nothing of the interrupted run is left behind: staged seeds and the lock are released
    assert not any((REPO / "target" / "staged_seeds").glob(f"{database_key(private_copy)}*"))
    with lock_path(private_copy).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)


def test_failed_data_tests_make_readers_refuse(private_copy: Path, tmp_path: Path) -> None:
    with duckdb.connect(str(private_copy)) as con:
        # one bucket with an SL numerator above its denominator: the `sl_numerator <= sl_denominator` tests
        # of the marts fail (severity error)
        con.execute(
            "update genesys_raw.queue_intervals set sl_numerator = sl_denominator + 5, loaded_at = now()"
            " where rowid = (select min(rowid) from genesys_raw.queue_intervals where sl_denominator > 0)"
        )
    failed = run_reporting(["build"], private_copy, tmp_path)
    assert failed.returncode == 1, failed
    record = last_build(private_copy)
    assert record is not None and record.status == "failed" and record.finished_at is not None
    assert "failing" in (record.message or ""), record
    _assert_readers_refuse(private_copy, tmp_path, "failed")


def test_busy_database_is_refused_with_the_holders_pid(private_copy: Path, tmp_path: Path) -> None:
    # a writer (the loader, say) holding DuckDB's own lock on the file
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); print('open', flush=True);"
            " time.sleep(60)",
            str(private_copy),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "open"
        run = run_reporting(["build"], private_copy, tmp_path)
        export = run_reporting(["export", "--no-build"], private_copy, tmp_path)
    finally:
        holder.kill()
        holder.wait(timeout=30)
    message = f"error: another process (pid {holder.pid}) is using {private_copy}; wait for it to finish\n"
    assert (run.returncode, run.stderr) == (1, message)
    assert (export.returncode, export.stderr) == (1, message)


def _wait_for_lock(db_path: Path, proc: subprocess.Popen) -> None:
    """Wait (at most 60 s) until proc holds the database lock of db_path."""
    deadline = time.monotonic() + 60
    while not (lock_path(db_path).exists() and lock_path(db_path).read_text().strip() == str(proc.pid)):
        assert time.monotonic() < deadline and proc.poll() is None, "the build never took the lock"
        time.sleep(0.1)


def _targets_csv(path: Path, target_pct: int) -> Path:
    path.write_text(f"queue_id,queue_name,media_type,target_pct\nq-sales,,voice,{target_pct}\n")
    return path


def test_builds_on_two_databases_at_once_keep_their_own_targets_and_a_third_waits(
    built_project: BuiltProject, tmp_path: Path
) -> None:
    databases = {}
    for name, pct in (("one", 55), ("two", 65)):
        folder = tmp_path / name
        folder.mkdir()
        databases[name] = (built_project.copy_db(folder), _targets_csv(folder / "targets.csv", pct), pct)
    procs = {}
    try:
        for name, (db_path, targets, _pct) in databases.items():
            env = clean_env(db_path, tmp_path / name)
            # the default per-database target/ and logs/ folders are what is under test here
            del env["DBT_TARGET_PATH"], env["DBT_LOG_PATH"]
            env["GENESYS_TARGETS_CSV"] = str(targets)
            procs[name] = subprocess.Popen(
                [sys.executable, "-m", "reporting", "build"],
                cwd=REPO,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        # a second build of database one while the first holds it: refused at once, naming the holder
        first_db = databases["one"][0]
        _wait_for_lock(first_db, procs["one"])
        second = run_reporting(["export", "--no-build"], first_db, tmp_path / "one")
        assert procs["one"].poll() is None, "the first build ended before the second could be refused"
        assert (second.returncode, second.stderr) == (
            1,
            f"error: another process (pid {procs['one'].pid}) is using {first_db}; wait for it to finish\n",
        )
        outcomes = {name: proc.communicate(timeout=240) for name, proc in procs.items()}
    finally:
        for proc in procs.values():
            proc.kill()
        for db_path, _targets, _pct in databases.values():
            for parent in (REPO / "target", REPO / "logs"):
                shutil.rmtree(parent / database_key(db_path), ignore_errors=True)
    for name, (db_path, _targets, pct) in databases.items():
        assert procs[name].returncode == 0, outcomes[name]
        assert _query(db_path, "select target_pct from main.queue_sla_targets") == [(pct,)]
        assert _query(
            db_path,
            "select target_pct from main.fct_queue_sla_period"
            " where queue_id = 'q-sales' and media_type = 'voice'",
        ) == [(pct,)]
        assert not (REPO / "target" / "staged_seeds" / database_key(db_path)).exists()


@pytest.fixture
def exported(built_project: BuiltProject, tmp_path: Path) -> tuple[Path, Path, dict[str, bytes]]:
    """A private built file and a first export of it: (db, exports folder, {file name: bytes})."""
    db_path = built_project.copy_db(tmp_path)
    out_dir = tmp_path / "exports"
    export_module.export_marts(db_path, out_dir)
    (out_dir / "notes.txt").write_text("mine")  # a user's file in the folder survives every export
    return db_path, out_dir, {path.name: path.read_bytes() for path in out_dir.iterdir()}


def _assert_untouched(out_dir: Path, before: dict[str, bytes]) -> None:
    assert {path.name: path.read_bytes() for path in out_dir.iterdir()} == before
    assert sorted(path.name for path in out_dir.parent.iterdir() if path.name.startswith(".")) == []


def test_export_replaces_the_csvs_as_one_folder(exported: tuple[Path, Path, dict[str, bytes]]) -> None:
    db_path, out_dir, before = exported
    assert sorted(before) == sorted([f"{mart}.csv" for mart in MARTS] + ["notes.txt"])
    with duckdb.connect(str(db_path)) as con:  # a change the next export must show
        con.execute("update genesys_build.dim_queues set queue_name = 'Renamed' where queue_id = 'q-sales'")
    export_module.export_marts(db_path, out_dir)
    with (out_dir / "dim_queues.csv").open(newline="") as handle:
        assert "Renamed" in {row["queue_name"] for row in csv.DictReader(handle)}
    assert (out_dir / "notes.txt").read_text() == "mine"
    assert oct(out_dir.stat().st_mode & 0o777) != oct(0o700)
    _assert_untouched(out_dir, {path.name: path.read_bytes() for path in out_dir.iterdir()})


def test_a_failing_rename_changes_no_csv(
    exported: tuple[Path, Path, dict[str, bytes]], monkeypatch: pytest.MonkeyPatch
) -> None:
    db_path, out_dir, before = exported
    real_rename = os.rename

    def rename(src: str | Path, dst: str | Path) -> None:
        if Path(src).name.startswith(".exports.new-"):  # the new folder moving into place
            raise OSError(28, "No space left on device")
        real_rename(src, dst)

    monkeypatch.setattr(export_module.os, "rename", rename)
    with pytest.raises(export_module.ReportingError, match="no CSV was changed"):
        export_module.export_marts(db_path, out_dir)
    _assert_untouched(out_dir, before)


def test_a_failing_write_changes_no_csv(
    exported: tuple[Path, Path, dict[str, bytes]], monkeypatch: pytest.MonkeyPatch
) -> None:
    db_path, out_dir, before = exported
    calls = []
    real_select = export_module._csv_select

    def select(con: duckdb.DuckDBPyConnection, mart: str) -> str:
        calls.append(mart)
        return real_select(con, mart) if len(calls) < 3 else "select * from no_such_table"

    monkeypatch.setattr(export_module, "_csv_select", select)
    with pytest.raises(export_module.ReportingError, match="no CSV was changed"):
        export_module.export_marts(db_path, out_dir)
    _assert_untouched(out_dir, before)


@pytest.mark.parametrize("during_copy", ["", "1"], ids=["between-csvs", "during-copy"])
@pytest.mark.parametrize(("signal_name", "exit_code"), [("SIGINT", 130), ("SIGTERM", 143)])
def test_export_interrupted_mid_write_leaves_the_old_csvs_and_nothing_else(
    exported: tuple[Path, Path, dict[str, bytes]],
    tmp_path: Path,
    signal_name: str,
    exit_code: int,
    during_copy: str,
) -> None:
    db_path, out_dir, before = exported
    run = _run_script(
        _SIGNAL_MID_EXPORT,
        ["export", "--no-build", "--out-dir", str(out_dir)],
        db_path,
        tmp_path,
        TEST_SIGNAL=signal_name,
        TEST_DURING_COPY=during_copy,
    )
    assert (run.returncode, run.stderr) == (exit_code, "error: interrupted; no CSV was changed\n"), run
    _assert_untouched(out_dir, before)


def test_last_build_tells_running_from_interrupted(tmp_path: Path) -> None:
    db_path = tmp_path / "genesys.duckdb"
    assert last_build(db_path) is None  # no file (and none created)
    assert not db_path.exists()
    with duckdb.connect(str(db_path)) as con:
        con.execute("create schema genesys_build")
    assert last_build(db_path) is None  # no build log yet
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    )
    with duckdb.connect(str(db_path)) as con:
        con.execute(
            "create table genesys_build.build_runs (invocation_id varchar, command varchar, status varchar,"
            " started_at timestamptz, finished_at timestamptz, report_timezone varchar, report_start date,"
            " report_end date, sl_formula varchar, build_vars json, builder_pid integer, marts varchar[],"
            " message varchar)"
        )
        con.execute(
            "insert into genesys_build.build_runs values"
            " ('a', 'build', 'success', now() - interval 2 hour, now(), 'UTC', null, null, 'genesys', null,"
            " 1, [], null),"
            f" ('b', 'build', 'running', now() - interval 1 hour, null, 'Europe/Paris', '2026-03-01',"
            f" '2026-03-03', 'genesys', null, {int(dead.stdout)}, null, null)"
        )
    record = last_build(db_path)
    assert record is not None and record.status == "interrupted" and record.marts == ()
    assert (record.report_timezone, str(record.report_start), str(record.report_end)) == (
        "Europe/Paris",
        "2026-03-01",
        "2026-03-03",
    )
    with duckdb.connect(str(db_path)) as con:
        con.execute(
            f"update genesys_build.build_runs set builder_pid = {os.getpid()} where invocation_id = 'b'"
        )
    record = last_build(db_path)
    assert record is not None and record.status == "running"  # this very process is the builder
