"""The CLI end to end: embedded simulator by default (banner, org 'simulator'), progress and summary."""

from __future__ import annotations

import pytest

from loader.cli import main
from tests.loader.conftest import SECRET, query

pytestmark = pytest.mark.timeout(120)


def test_no_credentials_loads_the_embedded_simulator_with_a_banner(capsys, tmp_path):
    assert main(["--start", "2026-01-05", "--end", "2026-01-06", "--report-tz", "Europe/London"]) == 0
    out, err = capsys.readouterr()
    assert "SIMULATED DATA" in err and "SOURCES__GENESYS__CLIENT_ID" in err
    assert "window 1 of 2" in err and "window 2 of 2" in err and "API calls" in err and "retries" in err
    assert "Loaded SIMULATED Genesys data for org simulator" in out
    for word in (
        "queues",
        "queue_service_level_targets",
        "queue_intervals",
        "API calls",
        "retries",
        "split",
        "elapsed",
    ):
        assert word in out
    db = tmp_path / "genesys.duckdb"
    assert query(db, "select distinct org_id from genesys_raw.queue_intervals") == [("simulator",)]
    assert query(db, "select count(*) > 0 from genesys_raw.queues where org_id = 'simulator'") == [(True,)]


def test_simulator_flag_wins_over_configured_credentials(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("SOURCES__GENESYS__CLIENT_ID", "real-client")
    monkeypatch.setenv("SOURCES__GENESYS__CLIENT_SECRET", "real-secret")
    monkeypatch.setenv("SOURCES__GENESYS__REGION", "eu_west_1")
    assert main(["--simulator", "--start", "2026-01-05", "--end", "2026-01-05"]) == 0
    out, err = capsys.readouterr()
    assert "SIMULATED DATA" in err and "real-secret" not in out + err
    assert query(tmp_path / "genesys.duckdb", "select distinct org_id from genesys_raw.queues") == [
        ("simulator",)
    ]


def test_env_credentials_reach_the_simulator_and_a_rejected_secret_exits_1(sim, capsys, monkeypatch):
    monkeypatch.setenv("SOURCES__GENESYS__CLIENT_ID", sim.config.client_id)
    monkeypatch.setenv("SOURCES__GENESYS__CLIENT_SECRET", "wrong-secret-123")
    monkeypatch.setenv("SOURCES__GENESYS__API_BASE_URL", sim.base_url)
    monkeypatch.setenv("SOURCES__GENESYS__LOGIN_BASE_URL", sim.base_url)
    assert main(["--start", "2026-01-05", "--end", "2026-01-05"]) == 1
    out, err = capsys.readouterr()
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: Genesys rejected the OAuth client credentials") and out == ""
    assert "wrong-secret-123" not in err and "SIMULATED" not in err
    monkeypatch.setenv("SOURCES__GENESYS__CLIENT_SECRET", SECRET)
    assert main(["--start", "2026-01-05", "--end", "2026-01-05", "--now", sim.clock.now().isoformat()]) == 0
    out, err = capsys.readouterr()
    assert "Loaded Genesys data for org simulator" in out and "SIMULATED" not in out + err
