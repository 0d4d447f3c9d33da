"""Hostile modes of the simulator: each breaks the API contract exactly as documented, over real HTTP."""

from __future__ import annotations

import base64
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
import requests
from simhelpers import AGGREGATES, TIMEOUT, SimClient

from simulator import Simulator
from simulator.hostile import HOSTILE_KINDS

REPO_ROOT = Path(__file__).resolve().parents[2]
QUERY = {
    "interval": "2026-11-20T00:00:00.000Z/2026-11-21T00:00:00.000Z",
    "granularity": "PT1H",
    "groupBy": ["queueId", "mediaType"],
    "metrics": ["nOffered", "oServiceLevel"],
}


def first_bucket(doc: dict) -> tuple[dict, dict]:
    group = doc["results"][0]
    return group, group["data"][0]


def stat(bucket: dict, metric: str) -> dict:
    return next(m["stats"] for m in bucket["metrics"] if m["metric"] == metric)


def hostile_reply(sim: Simulator, client: SimClient, *modes: str) -> requests.Response:
    sim.faults.hostile = modes
    return client.query(QUERY)


def test_honest_reply_first(client: SimClient) -> None:
    group, bucket = first_bucket(client.query_ok(QUERY))
    assert set(group["group"]) == {"queueId", "mediaType"} and stat(bucket, "nOffered")["count"] >= 0


def test_duplicate_and_conflicting_buckets(sim: Simulator, client: SimClient) -> None:
    honest = client.query_ok(QUERY)
    doc = hostile_reply(sim, client, "duplicate-bucket").json()
    assert doc["results"][0]["data"][0] == doc["results"][0]["data"][-1]
    assert len(doc["results"][0]["data"]) == len(honest["results"][0]["data"]) + 1
    doc = hostile_reply(sim, client, "conflicting-bucket").json()
    extra = doc["results"][-1]
    assert extra["group"] == doc["results"][0]["group"]
    assert extra["data"][0]["interval"] == doc["results"][0]["data"][0]["interval"]
    assert extra["data"][0] != doc["results"][0]["data"][0]


@pytest.mark.parametrize(
    ("mode", "metric", "field", "value"),
    [
        ("huge-count", "nOffered", "count", 1e30),
        ("negative-count", "nOffered", "count", -3),
        ("target-out-of-range", "oServiceLevel", "target", 7.5),
    ],
)
def test_bad_values(
    sim: Simulator, client: SimClient, mode: str, metric: str, field: str, value: float
) -> None:
    reply = hostile_reply(sim, client, mode)
    assert stat(first_bucket(reply.json())[1], metric)[field] == value
    if mode == "huge-count":
        assert b'"count":1e+30' in reply.content or b'"count":1e30' in reply.content


def test_sl_numerator_over(sim: Simulator, client: SimClient) -> None:
    stats = stat(first_bucket(hostile_reply(sim, client, "sl-numerator-over").json())[1], "oServiceLevel")
    assert stats["numerator"] == stats["denominator"] + 1


def test_misaligned_and_day_long_buckets(sim: Simulator, client: SimClient) -> None:
    honest = first_bucket(client.query_ok(QUERY))[1]["interval"]
    start = datetime.fromisoformat(honest.split("/")[0].replace("Z", "+00:00"))
    shifted = first_bucket(hostile_reply(sim, client, "misaligned-bucket").json())[1]["interval"]
    assert shifted.split("/")[0] == start.replace(minute=7).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    day = first_bucket(hostile_reply(sim, client, "day-bucket-as-hour").json())[1]["interval"]
    first, second = (datetime.fromisoformat(t.replace("Z", "+00:00")) for t in day.split("/"))
    assert (second - first).total_seconds() == 86400 and first == start.astimezone(UTC)


def test_groups_without_media_type_or_queue_id(sim: Simulator, client: SimClient) -> None:
    assert "mediaType" not in hostile_reply(sim, client, "no-media-type").json()["results"][0]["group"]
    groups = [r["group"] for r in hostile_reply(sim, client, "no-queue-id").json()["results"]]
    assert sum("queueId" not in g for g in groups) == 1 and all("mediaType" in g for g in groups)


@pytest.mark.parametrize(
    ("mode", "body"), [("null-body", b"null"), ("empty-body", b""), ("non-json-body", b"<html>")]
)
def test_bodies(sim: Simulator, client: SimClient, mode: str, body: bytes) -> None:
    reply = hostile_reply(sim, client, mode)
    assert reply.status_code == 200 and reply.content.startswith(body) and len(reply.content) >= len(body)
    if body in (b"null", b""):
        assert reply.content == body


def test_job_results_pages_are_tampered_too(sim: Simulator, client: SimClient) -> None:
    job = client.request("POST", AGGREGATES.replace("query", "jobs"), json=QUERY).json()["jobId"]
    time.sleep(sim.faults.job_delay_s + 0.05)
    sim.faults.hostile = ("huge-count",)
    page = client.get(f"{AGGREGATES.replace('query', 'jobs')}/{job}/results").json()
    assert stat(first_bucket(page)[1], "nOffered")["count"] == 1e30


def test_redirect_points_at_a_decoy_answering_empty(sim: Simulator, client: SimClient) -> None:
    sim.faults.hostile = ("redirect",)
    reply = client.query(QUERY, allow_redirects=False)
    location = reply.headers["Location"]
    assert reply.status_code == 307 and location == f"{sim.decoy().base_url}{AGGREGATES}"
    assert location.startswith("http://127.0.0.1:") and not location.startswith(sim.base_url)
    followed = requests.post(location, json=QUERY, timeout=TIMEOUT)
    assert followed.status_code == 200 and followed.json() == {} and sim.decoy().hits == 1


def test_slow_drip(sim: Simulator, client: SimClient) -> None:
    sim.faults.hostile = ("slow-drip",)
    sim.faults.drip_s = 0.05
    started = time.monotonic()
    with requests.post(
        sim.base_url + AGGREGATES,
        json=QUERY,
        headers={"Authorization": f"Bearer {client.token}"},
        stream=True,
        timeout=TIMEOUT,
    ) as reply:
        assert reply.status_code == 200
        got = reply.raw.read(10)
    assert got == b'{"results"' and time.monotonic() - started >= 0.45


def test_org_id_null(sim: Simulator, client: SimClient) -> None:
    sim.faults.hostile = ("org-id-null",)
    doc = client.get("/api/v2/organizations/me").json()
    assert "id" in doc and doc["id"] is None


def test_lying_page_counts(sim: Simulator, client: SimClient) -> None:
    honest = client.get("/api/v2/routing/queues", params={"pageSize": 5, "pageNumber": 1}).json()
    last = honest["pageCount"]
    sim.faults.hostile = ("lying-page-count",)
    past = client.get("/api/v2/routing/queues", params={"pageSize": 5, "pageNumber": last + 3}).json()
    final = client.get("/api/v2/routing/queues", params={"pageSize": 5, "pageNumber": last}).json()
    assert (
        past["pageCount"] == 1000
        and past["total"] == honest["total"]
        and past["entities"] == final["entities"]
    )
    sim.faults.hostile = ("lying-total",)
    past = client.get("/api/v2/routing/queues", params={"pageSize": 5, "pageNumber": last + 1}).json()
    assert past["pageCount"] == 1000 and past["total"] == 100_000 and past["entities"] == []


@pytest.mark.parametrize("status", [401, 403, 500])
def test_echo_credentials_on_the_api(sim: Simulator, client: SimClient, status: int) -> None:
    sim.faults.hostile = (f"echo-credentials-{status}",)
    reply = client.query(QUERY)
    assert reply.status_code == status
    assert f"Bearer {client.token}" in reply.json()["message"] and '"granularity"' in reply.json()["message"]


def test_echo_credentials_on_the_token_endpoint(sim: Simulator) -> None:
    sim.faults.hostile = ("echo-credentials-token",)
    cfg = sim.config
    reply = requests.post(
        f"{sim.base_url}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(cfg.client_id, cfg.client_secret),
        timeout=TIMEOUT,
    )
    basic = base64.b64encode(f"{cfg.client_id}:{cfg.client_secret}".encode()).decode()
    described = orjson.loads(reply.content)["error_description"]
    assert (
        reply.status_code == 401
        and f"Basic {basic}" in described
        and "grant_type=client_credentials" in described
    )


def test_unknown_mode_is_refused(sim: Simulator, client: SimClient) -> None:
    assert client.token
    sim.faults.hostile = ("no-such-mode",)
    reply = client.query(QUERY)
    assert reply.status_code == 500  # the simulator's own failure, never a silent honest reply


def test_cli_rejects_an_unknown_mode() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "simulator", "--port", "0", "--hostile", "huge-count,bogus"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "unknown hostile mode(s) bogus" in result.stderr
    assert "huge-count" in HOSTILE_KINDS
