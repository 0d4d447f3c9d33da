"""Bad-input matrix: every bad option, setting, secret, targets seed or dbt var exits non-zero with one line
naming the fix, no traceback, and leaves the DuckDB file exactly as it was (same tables, same row counts)."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pytest

from simulator import Simulator, SimulatorConfig, run_simulator
from tests.e2e.conftest import CLIENT_SECRET, REPO_ROOT, SIM_CLOCK, Workspace, make_workspace, ok

# A few final days of simulator data, loaded and built once for the whole module.
LOAD_START, LOAD_END = "2026-11-20", "2026-11-22"
SEED_HEADER = "queue_id,queue_name,media_type,target_pct\n"


@dataclass(frozen=True)
class Case:
    """One bad input: the command (loader, build or export), what is changed, and the fix the line names."""

    id: str
    command: str
    args: tuple[str, ...]
    fragment: str
    env: dict[str, str | None] = field(default_factory=dict)  # None removes the variable
    seed: str | None = None  # content of a targets CSV passed through GENESYS_TARGETS_CSV
    config_toml: str | None = None  # run in a fresh folder whose .dlt/config.toml holds this
    exit_code: int = 2
    # point GENESYS_DUCKDB_PATH at a file that was never loaded (and must not appear)
    unloaded_db: bool = False


def loader(case_id: str, *args: str, fragment: str, **kwargs) -> Case:
    return Case(case_id, "loader", args, fragment, **kwargs)


def build(case_id: str, *args: str, fragment: str, **kwargs) -> Case:
    return Case(case_id, "build", args, fragment, **kwargs)


def seed(case_id: str, rows: str, fragment: str, command: str = "build") -> Case:
    return Case(case_id, command, (), fragment, seed=SEED_HEADER + rows)


RANGE = ("--start", LOAD_START, "--end", LOAD_END)
CASES = [
    # --- loader: command line -------------------------------------------------------------------------
    loader(
        "loader-invalid-date",
        "--start",
        "2026-02-30",
        fragment="START '2026-02-30' is not a date; use YYYY-MM-DD",
    ),
    loader(
        "loader-end-before-start", "--start", "2026-11-22", "--end", "2026-11-20", fragment="is before START"
    ),
    loader(
        "loader-unknown-tz",
        *RANGE,
        "--report-tz",
        "Mars/Olympus",
        fragment="time zone 'Mars/Olympus' is unknown",
    ),
    loader("loader-start-in-future", "--start", "2099-01-01", fragment="is in the future"),
    loader(
        "loader-kolkata-pt1h",
        *RANGE,
        "--report-tz",
        "Asia/Kolkata",
        fragment="not a whole number of PT1H buckets; use --granularity PT30M",
    ),
    loader(
        "loader-granularity-change",
        *RANGE,
        "--granularity",
        "PT30M",
        fragment="use --granularity PT1H, or --full-refresh",
    ),
    loader("loader-unknown-media", *RANGE, "--media", "fax", fragment="media_types ['fax'] not recognised"),
    loader("loader-unknown-granularity", *RANGE, "--granularity", "PT5M", fragment="invalid choice: 'PT5M'"),
    # --- loader: config and secrets ---------------------------------------------------------------------
    loader(
        "config-unknown-region",
        *RANGE,
        fragment="region 'mars_central_9' is unknown; use one of",
        env={
            "SOURCES__GENESYS__REGION": "mars_central_9",
            "SOURCES__GENESYS__API_BASE_URL": None,
            "SOURCES__GENESYS__LOGIN_BASE_URL": None,
        },
    ),
    loader(
        "config-insecure-http-override",
        *RANGE,
        fragment="http:// is allowed only for loopback hosts",
        env={"SOURCES__GENESYS__API_BASE_URL": "http://example.com"},
    ),
    loader(
        "config-lookback-not-a-number",
        fragment="lookback_hours 'abc' is not a number",
        env={"SOURCES__GENESYS__LOOKBACK_HOURS": "abc"},
    ),
    loader(
        "config-initial-days-negative",
        fragment="initial_days = -5 is too small; use at least 1",
        env={"SOURCES__GENESYS__INITIAL_DAYS": "-5"},
    ),
    loader(
        "config-malformed-toml",
        *RANGE,
        fragment="could not read the configuration",
        config_toml='[sources.genesys\ngranularity = "PT1H\n',
    ),
    loader(
        "secrets-client-id-without-secret",
        *RANGE,
        fragment="client_secret is missing",
        env={"SOURCES__GENESYS__CLIENT_SECRET": None},
    ),
    loader(
        "secrets-wrong-client-secret",
        *RANGE,
        fragment="rejected the OAuth client credentials",
        env={"SOURCES__GENESYS__CLIENT_SECRET": "not-the-" + CLIENT_SECRET},
        exit_code=1,
    ),
    loader(
        "secrets-wrong-client-secret-first-load",
        *RANGE,
        fragment="rejected the OAuth client credentials",
        env={"SOURCES__GENESYS__CLIENT_SECRET": "not-the-" + CLIENT_SECRET},
        exit_code=1,
        unloaded_db=True,  # a failed first load leaves no empty database behind
    ),
    loader(
        "config-initial-days-infinite",
        fragment="initial_days",
        env={"SOURCES__GENESYS__INITIAL_DAYS": "inf"},
    ),
    loader(
        "config-request-timeout-nan",
        *RANGE,
        fragment="request_timeout_s",
        env={"SOURCES__GENESYS__REQUEST_TIMEOUT_S": "nan"},
    ),
    # --- reporting: options and dbt vars --------------------------------------------------------------
    build("report-bad-start", "--start", "2026-13-01", fragment="START '2026-13-01' is not a date"),
    build("report-unknown-tz", "--report-tz", "Mars/Olympus", fragment="time zone 'Mars/Olympus' is unknown"),
    build("report-end-before-start", "--start", LOAD_END, "--end", LOAD_START, fragment="is before START"),
    build(
        "var-sl-formula-bogus",
        "--var",
        "sl_formula=bogus",
        fragment="sl_formula=bogus is not valid; use one of",
    ),
    build(
        "var-default-target-150",
        "--var",
        "default_target_pct=150",
        fragment="default_target_pct=150 is not valid; use a number in (0, 100]",
    ),
    build(
        "var-include-deleted-maybe",
        "--var",
        "include_deleted_queues=maybe",
        fragment="use include_deleted_queues=true or include_deleted_queues=false",
    ),
    build("var-unknown-key", "--var", "colour=blue", fragment="use KEY=VALUE with KEY one of"),
    build(
        "report-kolkata-over-pt1h",
        "--report-tz",
        "Asia/Kolkata",
        fragment="straddles local midnight in Asia/Kolkata, so it cannot be cut into local days; "
        "reload at PT30M",
    ),
    # --- reporting: targets seed (GENESYS_TARGETS_CSV) ------------------------------------------------
    seed(
        "seed-target-zero",
        ",Sales,voice,0\n",
        "line 2: target_pct 0 is out of range; use a percentage in (0, 100]",
    ),
    seed("seed-target-120", ",Sales,voice,120\n", "line 2: target_pct 120 is out of range"),
    seed(
        "seed-duplicate-rows",
        ",Sales,voice,85\n,Support,,90\n,Sales,voice,85\n",
        "line 4: duplicates line 2 (same queue and media_type); keep only one",
    ),
    seed(
        "seed-no-queue", ",,voice,85\n", "line 2: neither queue_id nor queue_name is set; fill in one of them"
    ),
    seed("seed-target-not-a-number", ",Sales,voice,high\n", "line 2: target_pct 'high' is not a number"),
    seed("seed-unknown-media", ",Sales,fax,85\n", "line 2: media_type 'fax' is not known"),
    seed("seed-missing-field", ",Sales,85\n", "line 2: 3 fields instead of 4"),
    seed("seed-target-zero-export", ",Sales,voice,0\n", "target_pct 0 is out of range", command="export"),
    Case(
        "seed-bad-header",
        "build",
        (),
        "line 1: header is queue,target; it must be exactly queue_id,queue_name,media_type,target_pct",
        seed="queue,target\nSales,85\n",
    ),
    Case("build-before-any-load", "build", (), "no loaded data in", unloaded_db=True),
    Case("export-before-any-load", "export", (), "run 'make load' first", unloaded_db=True),
    Case(
        "seed-file-missing",
        "build",
        (),
        "does not exist; point GENESYS_TARGETS_CSV at a CSV file or unset it",
        env={"GENESYS_TARGETS_CSV": "/nonexistent/targets.csv"},
    ),
]


def snapshot(db_path: Path) -> dict:
    """Whether the file exists, its bytes' hash and {schema.table: row count} of every table and view in it
    (the public marts are views over genesys_build: README "Query and export")."""
    if not db_path.exists():
        return {"exists": False}
    counts = {}
    with duckdb.connect(str(db_path), read_only=True) as con:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables order by all"
        ).fetchall()
        for schema, table in tables:
            name = f'"{schema}"."{table}"'
            counts[f"{schema}.{table}"] = con.execute(f"select count(*) from {name}").fetchone()[0]
    return {"exists": True, "tables": counts}


def file_digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


@pytest.fixture(scope="module")
def module_sim() -> Iterator[Simulator]:
    with run_simulator(SimulatorConfig(client_secret=CLIENT_SECRET, clock_start=SIM_CLOCK)) as running:
        yield running


@pytest.fixture(scope="module")
def loaded(module_sim: Simulator, tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """A workspace loaded for a few days at PT1H and built once (UTC; in-process: the cases are the
    subprocesses here)."""
    ws = make_workspace(module_sim, tmp_path_factory.mktemp("bad_input"))
    ok(ws.load(*RANGE))
    ok(ws.build_in_process())
    assert snapshot(ws.db_path)["tables"]["main.fct_queue_sla_daily"] > 0
    return ws


def target_db(ws: Workspace, case: Case, tmp_path: Path) -> Path:
    return tmp_path / "never_loaded.duckdb" if case.unloaded_db else ws.db_path


def run_case(ws: Workspace, case: Case, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {**ws.env, "GENESYS_DUCKDB_PATH": str(target_db(ws, case, tmp_path))}
    for key, value in case.env.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    if case.seed is not None:
        targets = tmp_path / "my_targets.csv"
        targets.write_text(case.seed)
        env["GENESYS_TARGETS_CSV"] = str(targets)
    cwd = REPO_ROOT
    if case.config_toml is not None:
        cwd = tmp_path / "project"
        (cwd / ".dlt").mkdir(parents=True)
        (cwd / ".dlt" / "config.toml").write_text(case.config_toml)
        env["PYTHONPATH"] = str(REPO_ROOT)
    module = "loader" if case.command == "loader" else "reporting"
    args = [case.command, *case.args] if module == "reporting" else list(case.args)
    if case.command == "export":
        args += ["--out-dir", str(tmp_path / "exports")]
    return subprocess.run(
        [sys.executable, "-m", module, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def assert_one_line_error(result: subprocess.CompletedProcess, case: Case) -> None:
    shown = f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert result.returncode == case.exit_code, shown
    assert "Traceback" not in result.stderr, shown
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines, shown
    assert case.fragment in lines[-1], shown
    assert lines[-1].startswith("error: "), shown


@pytest.mark.parametrize("case", [pytest.param(case, id=case.id) for case in CASES])
def test_bad_input_is_refused_and_changes_nothing(loaded: Workspace, case: Case, tmp_path: Path) -> None:
    db_path = target_db(loaded, case, tmp_path)
    before, digest = snapshot(db_path), file_digest(db_path)
    assert before["exists"] != case.unloaded_db
    result = run_case(loaded, case, tmp_path)
    assert_one_line_error(result, case)
    assert snapshot(db_path) == before
    assert file_digest(db_path) == digest, "the DuckDB file was written to"
    if case.command == "export":
        assert not (tmp_path / "exports").exists() or not any((tmp_path / "exports").iterdir())
