"""Exact requests on the wire, OAuth (Basic + form, renewal, 401 re-auth, revocation) and secret hygiene."""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from loader.aggregates import METRICS
from loader.errors import AuthError
from loader.pipeline import pipelines_dir_for, run_load
from simulator import SimulatorConfig, run_simulator
from tests.loader.conftest import SECRET, SEQUENTIAL, aggregate_requests, interval_rows, load, sim_settings

pytestmark = pytest.mark.timeout(120)


def test_exact_requests_and_headers(sim, db):
    load(sim, db, start="2026-04-01", end="2026-04-02", queue_ids=["q-1", "q-2"], media_types=["voice"])
    token, org, *rest = sim.requests
    assert (token.method, token.path, token.body) == (
        "POST",
        "/oauth/token",
        b"grant_type=client_credentials",
    )
    basic = base64.b64encode(f"{sim.config.client_id}:{SECRET}".encode()).decode()
    assert token.headers["Authorization"] == f"Basic {basic}"
    assert token.headers["Content-Type"] == "application/x-www-form-urlencoded"
    bearer = f"Bearer {sim.issued_tokens[0]}"
    assert (org.method, org.path, org.headers["Authorization"]) == ("GET", "/api/v2/organizations/me", bearer)
    listing = [r for r in rest if r.path == "/api/v2/routing/queues"]
    assert listing and listing[0].query == {"pageSize": "100", "pageNumber": "1"}
    queries = aggregate_requests(sim)
    assert [json.loads(r.body) for r in queries] == [
        {
            "interval": interval,
            "granularity": "PT1H",
            "groupBy": ["queueId", "mediaType"],
            "metrics": METRICS,
            "filter": {
                "type": "and",
                "clauses": [
                    {
                        "type": "or",
                        "predicates": [
                            {"dimension": "queueId", "value": "q-1"},
                            {"dimension": "queueId", "value": "q-2"},
                        ],
                    },
                    {"type": "or", "predicates": [{"dimension": "mediaType", "value": "voice"}]},
                ],
            },
        }
        for interval in (
            "2026-04-01T00:00:00.000Z/2026-04-02T00:00:00.000Z",
            "2026-04-02T00:00:00.000Z/2026-04-03T00:00:00.000Z",
        )
    ]
    assert all(r.headers["Authorization"] == bearer and r.status == 200 for r in queries)
    assert all(r.headers["Content-Type"] == "application/json" for r in queries)
    assert len(sim.issued_tokens) == 1  # one token for the whole run


def test_queue_listing_pages_through_everything(db):
    config = SimulatorConfig(queue_count=230, clock_start=datetime(2026, 11, 20, tzinfo=UTC))
    with run_simulator(config) as sim:
        load(sim, db, start="2026-04-01", end="2026-04-01", settings={"queue_page_size": 100})
        pages = [r.query["pageNumber"] for r in sim.requests if r.path == "/api/v2/routing/queues"]
        listed = [q for q in sim.org.queues if q.deleted_at is None or q.deleted_at > sim.clock.now()]
    assert pages == ["1", "2", "3"]
    assert len(listed) > 200


def test_short_token_lifetime_is_renewed_before_expiry(db):
    # Real-time simulator clock: a 2 s token is renewed 0.2 s early (proportional margin), never used expired
    # (the margin is what is left of 0.2 s after the token reply's latency: room for a loaded CI machine).
    config = SimulatorConfig(client_secret=SECRET)
    config.faults.token_lifetime_s = 2
    config.faults.latency_s = 0.06
    with run_simulator(config) as sim:
        # one request at a time, so the load outlasts a token whatever the machine's speed
        load(sim, db, start="2026-04-01", end="2026-04-25", now=datetime.now(UTC), settings=SEQUENTIAL)
        statuses = [r.status for r in sim.requests if r.path.startswith("/api/")]
        tokens = list(sim.issued_tokens)
        truth = sim.ground_truth(datetime(2026, 4, 1, tzinfo=UTC), datetime(2026, 4, 26, tzinfo=UTC))
    assert len(tokens) >= 2
    assert 401 not in statuses
    assert interval_rows(db) == truth


def test_token_expiring_mid_run_gets_one_new_token(sim, db):
    sim.faults.token_lifetime_s = 300
    sim.faults.latency_s = 0.02

    def expire_after_five_requests() -> None:
        deadline = time.monotonic() + 30
        while len(sim.requests) < 5 and time.monotonic() < deadline:
            time.sleep(0.005)
        sim.clock.advance(timedelta(seconds=301))

    thread = threading.Thread(target=expire_after_five_requests)
    thread.start()
    # one request at a time: with several in flight, each would meet the expired token once
    summary = load(sim, db, start="2026-04-01", end="2026-04-10", now=sim.clock.now(), settings=SEQUENTIAL)
    thread.join()
    assert summary.reauths == 1 and len(sim.issued_tokens) == 2
    assert [r.status for r in sim.requests].count(401) == 1
    assert interval_rows(db) == sim.ground_truth(
        datetime(2026, 4, 1, tzinfo=UTC), datetime(2026, 4, 11, tzinfo=UTC)
    )


def test_revocation_mid_run(sim, db):
    sim.faults.revoke_token_after_requests = 3
    summary = load(sim, db, start="2026-04-01", end="2026-04-08")
    assert summary.reauths >= 2 and len(sim.issued_tokens) == summary.reauths + 1
    assert interval_rows(db) == sim.ground_truth(
        datetime(2026, 4, 1, tzinfo=UTC), datetime(2026, 4, 9, tzinfo=UTC)
    )


def test_two_401_in_a_row_stop_the_run(sim, db):
    sim.faults.schedule = {3: "401", 4: "401"}
    with pytest.raises(AuthError, match="credentials were rejected or lack permission"):
        load(sim, db, start="2026-04-01", end="2026-04-08", settings=SEQUENTIAL)
    assert len(sim.requests) < 10 and len(sim.issued_tokens) == 2


def test_wrong_secret_is_rejected_clearly(sim, db):
    settings = sim_settings(sim, client_secret="not-the-secret")
    with pytest.raises(AuthError, match="rejected the OAuth client credentials") as err:
        run_load(db_path=db, settings=settings, start="2026-04-01", end="2026-04-01", now=sim.clock.now())
    assert "not-the-secret" not in str(err.value)
    assert not [r for r in sim.requests if r.path.startswith("/api/")]


def test_no_secret_or_token_in_logs_stderr_state_or_duckdb(sim, db, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    sim.faults.revoke_token_after_requests = 4  # several tokens, 401s and re-auths in the logs
    sim.faults.schedule = {3: "429", 6: "503"}
    load(sim, db, start="2026-04-01", end="2026-04-06")
    load(sim, db)  # incremental run too
    out, err = capsys.readouterr()
    texts = [caplog.text, out, err]
    blobs = [db.read_bytes()]
    blobs += [p.read_bytes() for p in pipelines_dir_for(db).rglob("*") if p.is_file()]
    wal = db.with_name(db.name + ".wal")
    if wal.exists():
        blobs.append(wal.read_bytes())
    assert len(sim.issued_tokens) >= 2
    basic = base64.b64encode(f"{sim.config.client_id}:{SECRET}".encode()).decode()
    for needle in [SECRET, basic, *sim.issued_tokens]:
        assert all(needle not in text for text in texts), needle
        assert all(needle.encode() not in blob for blob in blobs), needle
