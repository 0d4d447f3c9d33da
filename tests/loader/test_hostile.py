"""The loader against a hostile simulator: each contract violation fails its window with one line, writes
nothing and leaves the cursor where it was; redirects, slow drips and lying page counts are bounded."""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from dlt.pipeline.state_sync import decompress_state

from loader.cli import main
from simulator import Simulator, SimulatorConfig, run_simulator
from tests.loader.conftest import CLOCK, SECRET

pytestmark = pytest.mark.timeout(180)

REPO_ROOT = Path(__file__).resolve().parents[2]
FIRST_NOW = "2026-11-19T00:00:00Z"  # the baseline load: 2026-11-18 (initial_days 1)
NEXT_NOW = "2026-11-20T00:00:00Z"  # the hostile load: re-pulls the lookback and loads 2026-11-19
TABLES = ("queue_intervals", "queues", "queue_service_level_targets")


@pytest.fixture(scope="module")
def hsim() -> Iterator[Simulator]:
    """One simulator for the module; each test sets its hostile modes and the fixture clears them."""
    config = SimulatorConfig(client_secret=SECRET, clock_start=CLOCK)
    with run_simulator(config) as simulator:
        yield simulator


@pytest.fixture(autouse=True)
def _peaceful(hsim: Simulator) -> Iterator[None]:
    hsim.faults.hostile = ()
    hsim.reset_counters()
    yield
    hsim.faults.hostile = ()


def env_for(sim: Simulator, **extra: Any) -> dict[str, str]:
    values = {
        "CLIENT_ID": sim.config.client_id,
        "CLIENT_SECRET": SECRET,
        "API_BASE_URL": sim.base_url,
        "LOGIN_BASE_URL": sim.base_url,
        "INITIAL_DAYS": "1",
        "MAX_RETRIES": "1",
        "BACKOFF_BASE_S": "0.01",
        "BACKOFF_CAP_S": "0.05",
        **{key.upper(): str(value) for key, value in extra.items()},
    }
    return {f"SOURCES__GENESYS__{key}": value for key, value in values.items()}


@pytest.fixture(scope="module")
def baseline(hsim: Simulator, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding a database (and its dlt working dir) after one good incremental load."""
    folder = tmp_path_factory.mktemp("baseline")
    env = {**env_for(hsim), "GENESYS_DUCKDB_PATH": str(folder / "genesys.duckdb")}
    result = subprocess.run(
        [sys.executable, "-m", "loader", "--now", FIRST_NOW],
        cwd=REPO_ROOT,
        env={**_base_env(), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return folder


def _base_env() -> dict[str, str]:
    import os

    keep = {k: v for k, v in os.environ.items() if not k.startswith(("SOURCES__", "GENESYS_"))}
    return {**keep, "RUNTIME__DLTHUB_TELEMETRY": "false"}


@pytest.fixture
def db(baseline: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the baseline database, which GENESYS_DUCKDB_PATH points at."""
    folder = tmp_path / "work"
    shutil.copytree(baseline, folder)
    path = folder / "genesys.duckdb"
    monkeypatch.setenv("GENESYS_DUCKDB_PATH", str(path))
    return path


def run_cli(
    sim: Simulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
    *args: str,
    **settings: Any,
) -> tuple[int, str, str]:
    for key, value in env_for(sim, **settings).items():
        monkeypatch.setenv(key, value)
    code = main(["--now", NEXT_NOW, *args])
    out, err = capsys.readouterr()
    return code, out, err


def fingerprint(db: Path) -> dict[str, Any]:
    """Every row of the loaded tables (their dlt bookkeeping columns aside) and the stored cursor."""
    found: dict[str, Any] = {}
    with duckdb.connect(str(db), read_only=True) as con:
        for table in TABLES:
            columns = [
                name
                for (name,) in con.execute(
                    "select column_name from information_schema.columns "
                    "where table_schema = 'genesys_raw' and table_name = ? order by 1",
                    [table],
                ).fetchall()
                if not name.startswith("_dlt")
            ]
            found[table] = con.execute(
                f"select {', '.join(columns)} from genesys_raw.{table} order by all"
            ).fetchall()
        (state,) = con.execute(
            "select state from genesys_raw._dlt_pipeline_state order by version desc limit 1"
        ).fetchone()
    found["cursor"] = decompress_state(state)["sources"]["genesys"]["cursor"]
    return found


def one_error_line(err: str) -> str:
    """The last stderr line, which must be the only error line and carry no traceback."""
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, err
    assert err.strip().splitlines()[-1] == errors[0]
    return errors[0]


VIOLATIONS = [
    ("conflicting-bucket", ["nOffered.count", "conflicts with", "repeated in the reply"]),
    ("huge-count", ["nOffered.count", "= 1e+30", "not a non-negative integer within int64"]),
    ("negative-count", ["nOffered.count", "= -3", "not a non-negative integer"]),
    ("sl-numerator-over", ["oServiceLevel.numerator", "exceeds oServiceLevel.denominator"]),
    ("target-out-of-range", ["oServiceLevel.target", "= 7.5", "not a ratio in [0, 1]"]),
    ("misaligned-bucket", ["data.interval", ":07:00.000Z", "not aligned to the PT1H granularity"]),
    ("day-bucket-as-hour", ["data.interval", "not one PT1H bucket long"]),
    ("no-media-type", ["group.mediaType", "is missing"]),
    ("null-body", ["the reply body is null"]),
    ("empty-body", ["the reply body is empty"]),
    ("non-json-body", ["not a JSON object", "<html>"]),
]


@pytest.mark.parametrize(("mode", "expected"), VIOLATIONS, ids=[mode for mode, _ in VIOLATIONS])
def test_a_contract_violation_fails_its_window_and_writes_nothing(
    hsim: Simulator, db: Path, monkeypatch, capsys, mode: str, expected: list[str]
) -> None:
    before = fingerprint(db)
    hsim.faults.hostile = (mode,)
    code, out, err = run_cli(hsim, monkeypatch, capsys)
    assert code == 1 and out == ""
    line = one_error_line(err)
    assert "the aggregates reply for window 20" in line and "breaks the API contract" in line
    assert "nothing of this window was written and the cursor stays before it" in line
    for text in expected:
        assert text in line, line
    assert fingerprint(db) == before  # no row changed, the cursor did not move


@pytest.mark.parametrize(
    ("mode", "expected"),
    [("huge-count", ["nOffered.count", "= 1e+30"]), ("null-body", ["the reply body is null"])],
)
def test_async_job_pages_are_checked_too(
    hsim: Simulator, db: Path, monkeypatch, capsys, mode: str, expected: list[str]
) -> None:
    before = fingerprint(db)
    hsim.faults.hostile = (mode,)
    code, _out, err = run_cli(hsim, monkeypatch, capsys, "--async-jobs")
    assert code == 1
    line = one_error_line(err)
    assert "the aggregates reply for window 20" in line and "nothing of this window was written" in line
    for text in expected:
        assert text in line, line
    assert any(r.path.endswith("/results") for r in hsim.requests)
    assert fingerprint(db) == before


def test_a_null_body_never_crashes_the_process(hsim: Simulator, db: Path) -> None:
    """pyarrow's JSON reader segfaults on `null`: in a separate process, so a crash shows as such."""
    before = fingerprint(db)
    hsim.faults.hostile = ("null-body",)
    result = subprocess.run(
        [sys.executable, "-m", "loader", "--now", NEXT_NOW],
        cwd=REPO_ROOT,
        env={**_base_env(), **env_for(hsim), "GENESYS_DUCKDB_PATH": str(db)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, (result.returncode, result.stderr[-2000:])
    assert "the reply body is null" in one_error_line(result.stderr)
    assert fingerprint(db) == before


def test_identical_repeated_buckets_collapse(hsim: Simulator, db: Path, monkeypatch, capsys) -> None:
    hsim.faults.hostile = ("duplicate-bucket",)
    code, _out, err = run_cli(hsim, monkeypatch, capsys)
    assert code == 0, err
    with duckdb.connect(str(db), read_only=True) as con:
        dupes = con.execute(
            "select count(*) from (select org_id, queue_id, media_type, interval_start, count(*) as n "
            "from genesys_raw.queue_intervals group by all having n > 1)"
        ).fetchone()
    assert dupes == (0,)
    assert fingerprint(db)["cursor"].startswith("2026-11-20T00:00:00")


def test_groups_without_queue_id_are_skipped_and_counted(
    hsim: Simulator, db: Path, monkeypatch, capsys
) -> None:
    before = fingerprint(db)["queue_intervals"]
    hsim.faults.hostile = ("no-queue-id",)
    code, out, err = run_cli(hsim, monkeypatch, capsys)
    assert code == 0, err
    windows = len([r for r in hsim.requests if r.path.endswith("/aggregates/query") and r.status == 200])
    assert windows >= 2
    # one extra queue-less group per reply, each counted, none stored
    assert f"skipped {windows:,} result groups without a queueId" in out
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute(
            "select count(*) from genesys_raw.queue_intervals where queue_id is null"
        ).fetchone() == (0,)
    assert len(fingerprint(db)["queue_intervals"]) > len(before)


def test_org_id_null_is_refused_before_anything_is_written(
    hsim: Simulator, db: Path, monkeypatch, capsys
) -> None:
    before = fingerprint(db)
    hsim.faults.hostile = ("org-id-null",)
    code, _out, err = run_cli(hsim, monkeypatch, capsys)
    assert code == 1
    line = one_error_line(err)
    assert "organizations/me breaks the API contract: id = None is not a non-empty string" in line
    assert not any(r.path.endswith("/aggregates/query") for r in hsim.requests[-3:])
    assert fingerprint(db) == before


def test_a_redirect_is_not_followed(hsim: Simulator, db: Path, monkeypatch, capsys) -> None:
    """A 307 to another host answering {} was recorded as an empty window; now one line names it."""
    before = fingerprint(db)
    hsim.faults.hostile = ("redirect",)
    code, _out, err = run_cli(hsim, monkeypatch, capsys)
    assert code == 1
    line = one_error_line(err)
    decoy = hsim.decoy()
    assert f"answered HTTP 307 redirecting to {decoy.base_url}/api/v2/analytics" in line
    assert "redirects are not followed" in line
    assert decoy.hits == 0
    assert fingerprint(db) == before


def test_a_slow_drip_times_out_at_the_total_deadline(hsim: Simulator, db: Path, monkeypatch, capsys) -> None:
    before = fingerprint(db)
    hsim.faults.hostile = ("slow-drip",)
    hsim.faults.drip_s = 0.2  # one byte each 0.2 s: never a per-read timeout (request_timeout_s is 5)
    started = time.monotonic()
    code, _out, err = run_cli(
        hsim, monkeypatch, capsys, request_deadline_s=1.5, request_timeout_s=5, max_retries=0
    )
    elapsed = time.monotonic() - started
    assert code == 1
    line = one_error_line(err)
    assert "did not complete within its total deadline of 1.5 s" in line
    assert elapsed < 15, elapsed
    assert fingerprint(db) == before


def queue_page_requests(sim: Simulator) -> list[int]:
    return [int(r.query["pageNumber"]) for r in sim.requests if r.path == "/api/v2/routing/queues"]


@pytest.mark.parametrize(
    ("mode", "extra_pages"),
    [("lying-page-count", 0), ("lying-total", 1)],
    ids=["pageCount-1000-repeating-pages", "total-100000-then-empty-page"],
)
def test_queue_paging_is_bounded_whatever_page_count_claims(
    hsim: Simulator, db: Path, monkeypatch, capsys, mode: str, extra_pages: int
) -> None:
    """Every page claims pageCount 1000. Pages past the end repeating the last one: paging stops after
    ceil(total / pageSize) pages. A lying total as well: it stops at the first empty page."""
    listed = len([q for q in hsim.org.queues if q.exists_at(hsim.clock.now())])
    real_pages = math.ceil(listed / 5)
    assert real_pages >= 2
    hsim.faults.hostile = (mode,)
    code, _out, err = run_cli(hsim, monkeypatch, capsys, queue_page_size=5)
    assert code == 0, err
    assert queue_page_requests(hsim) == list(range(1, real_pages + extra_pages + 1))
    with duckdb.connect(str(db), read_only=True) as con:
        found = con.execute("select count(distinct queue_id) from genesys_raw.queues").fetchone()[0]
    assert found >= listed
