"""The CLI end to end: embedded simulator by default (banner, org 'simulator'), progress and summary."""

from __future__ import annotations

import pytest

from loader.cli import main
from tests.loader.conftest import query

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
