"""Secret-leak checks: a full load, build and export leaves the client secret and every issued token nowhere
(output, logs, dlt state and working dir, the DuckDB file, the exports); insecure overrides are refused."""

from __future__ import annotations

import base64
import gzip
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from dlt.pipeline.state_sync import decompress_state

from reporting.paths import database_key
from simulator import Simulator, SimulatorConfig, run_simulator
from tests.e2e.conftest import REPO_ROOT, SIM_CLOCK, Workspace, make_workspace, ok

# Distinctive, and not the shared CLIENT_SECRET, so that only this module's run can put it anywhere.
LEAK_SECRET = "leakcheck-Zq81vR5x0TnW3m-SECRET"
PIPELINES_DIRNAME = ".dlt_pipelines"  # loader/pipeline.py keeps dlt's working dir beside the DuckDB file


@pytest.fixture(scope="module")
def run() -> Iterator[tuple[Workspace, Simulator, list[subprocess.CompletedProcess]]]:
    """A full verbose load, build and export with LEAK_SECRET; the simulator records every token issued."""
    config = SimulatorConfig(client_secret=LEAK_SECRET, clock_start=SIM_CLOCK)
    with run_simulator(config) as sim, tempfile.TemporaryDirectory(prefix="secrets-") as folder:
        ws = make_workspace(sim, Path(folder))
        results = [
            ok(ws.load("--start", "2026-11-21", "--end", "2026-11-22", "-v")),
            ok(ws.load("-v", "--now", "2026-11-23T06:00:00Z")),  # incremental: a second token, state reused
            ok(ws.build("-v")),
            ok(ws.export()),
        ]
        yield ws, sim, results


def needles(ws: Workspace, sim: Simulator) -> dict[str, bytes]:
    """What must never be written: the secret, each issued token, and the Basic credentials as sent."""
    client_id = ws.env["SOURCES__GENESYS__CLIENT_ID"]
    basic = base64.b64encode(f"{client_id}:{LEAK_SECRET}".encode()).decode()
    found = {"client secret": LEAK_SECRET, "basic credentials": basic}
    found |= {f"token {i}": token for i, token in enumerate(sim.issued_tokens)}
    return {label: value.encode() for label, value in found.items()}


def readable_bytes(path: Path) -> bytes:
    """The bytes of a file as a reader would see them: gzip and parquet files decoded too."""
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data += gzip.decompress(data)
    elif data[:4] == b"PAR1":
        data += repr(pq.read_table(path).to_pylist()).encode()
    return data


def duckdb_contents(db_path: Path) -> bytes:
    """Every row of every table (strings may be compressed on disk), and dlt's decompressed pipeline state."""
    parts = []
    with duckdb.connect(str(db_path), read_only=True) as con:
        tables = con.execute("select table_schema, table_name from information_schema.tables").fetchall()
        for schema, table in tables:
            parts.append(repr(con.execute(f'select * from "{schema}"."{table}"').fetchall()))
        for (state,) in con.execute("select state from genesys_raw._dlt_pipeline_state").fetchall():
            parts.append(repr(decompress_state(state)))
    return "\n".join(parts).encode()


def assert_absent(where: str, data: bytes, secrets: dict[str, bytes]) -> None:
    leaked = [label for label, value in secrets.items() if value in data]
    assert not leaked, f"{', '.join(leaked)} found in {where}"


def test_tokens_were_issued_and_used(run) -> None:
    """Guards the other checks: they mean something only if tokens exist and the data went through."""
    ws, sim, _results = run
    assert len(sim.issued_tokens) >= 2
    assert ws.rows("select count(*) as n from main.fct_queue_sla_daily")[0]["n"] > 0
    assert (ws.exports_dir / "fct_queue_sla_daily.csv").is_file()
    basic = "Basic " + needles(ws, sim)["basic credentials"].decode()
    token_requests = [r for r in sim.requests if r.path.endswith("/oauth/token")]
    assert token_requests and all(
        {k.lower(): v for k, v in r.headers.items()}.get("authorization") == basic for r in token_requests
    )


def test_secret_and_tokens_absent_from_output(run) -> None:
    ws, sim, results = run
    secrets = needles(ws, sim)
    for result in results:
        assert_absent(f"stdout of {result.args[1:4]}", result.stdout.encode(), secrets)
        assert_absent(f"stderr of {result.args[1:4]}", result.stderr.encode(), secrets)
    # the verbose load did log its requests, so the check covered DEBUG output
    assert "oauth/token" in results[0].stderr or "POST" in results[0].stderr


def test_secret_and_tokens_absent_from_files(run) -> None:
    ws, sim, _results = run
    secrets = needles(ws, sim)
    folder = ws.db_path.parent
    assert (folder / PIPELINES_DIRNAME).is_dir(), "the dlt working dir moved: update PIPELINES_DIRNAME"
    scanned = [path for path in folder.rglob("*") if path.is_file()]
    assert ws.db_path in scanned and any(PIPELINES_DIRNAME in str(path) for path in scanned)
    assert len([p for p in scanned if p.parent == ws.exports_dir]) == 5  # one CSV per public mart
    for path in scanned:
        assert_absent(str(path), readable_bytes(path), secrets)
    assert_absent(f"tables of {ws.db_path}", duckdb_contents(ws.db_path), secrets)


def test_secret_and_tokens_absent_from_logs_and_dbt_artifacts(run) -> None:
    ws, sim, _results = run
    secrets = needles(ws, sim)
    dbt_log = REPO_ROOT / "logs" / database_key(ws.db_path) / "dbt.log"  # one log folder per DuckDB file
    assert dbt_log.is_file()
    places = [REPO_ROOT / "logs", REPO_ROOT / "target", Path.home() / ".dlt", REPO_ROOT / ".dlt"]
    for place in places:
        if place.is_dir():
            for path in place.rglob("*"):
                if path.is_file():
                    assert_absent(str(path), readable_bytes(path), secrets)


def test_secrets_toml_is_git_ignored() -> None:
    result = subprocess.run(
        ["git", "check-ignore", "-q", ".dlt/secrets.toml"], cwd=REPO_ROOT, capture_output=True, timeout=30
    )
    assert result.returncode == 0, ".dlt/secrets.toml is not git-ignored"


@pytest.mark.parametrize(
    "key", ["SOURCES__GENESYS__API_BASE_URL", "SOURCES__GENESYS__LOGIN_BASE_URL"], ids=["api", "login"]
)
def test_http_override_to_non_loopback_host_is_refused(run, key: str) -> None:
    """The Basic credentials and tokens would cross the network in clear text: refused before any request."""
    ws, sim, _results = run
    requests_before, tokens_before = len(sim.requests), len(sim.issued_tokens)
    refused = subprocess.run(
        [sys.executable, "-m", "loader", "--start", "2026-11-22", "--end", "2026-11-22"],
        cwd=REPO_ROOT,
        env={**ws.env, key: "http://example.com"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode == 2, refused.stderr
    assert "http:// is allowed only for loopback hosts" in refused.stderr.strip().splitlines()[-1]
    assert (len(sim.requests), len(sim.issued_tokens)) == (requests_before, tokens_before)


ECHO_MODES = (
    "echo-credentials-401",
    "echo-credentials-403",
    "echo-credentials-500",
    "echo-credentials-token",
)


@pytest.fixture(scope="module")
def echoed() -> Iterator[tuple[Workspace, Simulator, list[subprocess.CompletedProcess]]]:
    """A good verbose load, then one failing verbose load per mode of a server that quotes the Authorization
    header and the request body in its 401/403/500 replies (tokens, the Basic pair and the form body)."""
    config = SimulatorConfig(client_secret=LEAK_SECRET, clock_start=SIM_CLOCK)
    with run_simulator(config) as sim, tempfile.TemporaryDirectory(prefix="secrets-echo-") as folder:
        ws = make_workspace(sim, Path(folder))
        results = [ok(ws.load("--start", "2026-11-21", "--end", "2026-11-21", "-v"))]
        for mode in ECHO_MODES:
            sim.faults.hostile = (mode,)
            results.append(ws.load("--start", "2026-11-22", "--end", "2026-11-22", "-v"))
        sim.faults.hostile = ()
        yield ws, sim, results


def test_echoed_credentials_fail_with_one_scrubbed_line(echoed) -> None:
    """Guards the checks below: the server did quote live credentials, and the error line shows the quote
    with every secret masked."""
    _ws, sim, results = echoed
    rejected = [r for r in sim.requests if r.status in (401, 403, 500)]
    assert {r.status for r in rejected} == {401, 403, 500}
    sent = [{k.lower(): v for k, v in r.headers.items()}.get("authorization", "") for r in rejected]
    assert any(value.startswith("Bearer ") and value[7:] in sim.issued_tokens for value in sent)
    assert any(value.startswith("Basic ") for value in sent)
    for mode, result in zip(ECHO_MODES, results[1:], strict=True):
        assert result.returncode == 1, (mode, result.stderr[-1000:])
        last = result.stderr.strip().splitlines()[-1]
        assert last.startswith("error: ") and "Traceback" not in result.stderr
        assert "Request rejected. Authorization: " in last and "***" in last, (mode, last)


def test_echoed_credentials_reach_no_output_log_state_trace_or_database(echoed) -> None:
    ws, sim, results = echoed
    secrets = needles(ws, sim)
    for result in results:
        assert_absent(f"stdout of {result.args[1:]}", result.stdout.encode(), secrets)
        assert_absent(f"stderr of {result.args[1:]}", result.stderr.encode(), secrets)
    folder = ws.db_path.parent
    scanned = [path for path in folder.rglob("*") if path.is_file()]
    traces = [path for path in scanned if path.name.startswith("trace")]
    assert traces, "dlt saved no trace of the failed runs: the trace check would prove nothing"
    for path in scanned:
        assert_absent(str(path), readable_bytes(path), secrets)
    assert_absent(f"tables of {ws.db_path}", duckdb_contents(ws.db_path), secrets)
