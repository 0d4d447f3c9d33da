"""Each fault knob: rate limit, scheduled and random faults, dropped connections, latency, headers."""

from __future__ import annotations

import time

import pytest
import requests
from simhelpers import TIMEOUT, SimClient, body

from simulator import Simulator

ORG = "/api/v2/organizations/me"


def test_every_response_carries_correlation_and_rate_limit_headers(sim: Simulator, client: SimClient) -> None:
    replies = [
        client.get(ORG),
        client.get("/api/v2/routing/queues"),
        client.get("/api/v2/routing/queues/no-such-queue"),
        client.query({"interval": "bad"}),
        client.get(ORG, token="unknown"),
        requests.post(f"{sim.base_url}/oauth/token", data={"grant_type": "x"}, timeout=TIMEOUT),
    ]

    assert [r.status_code for r in replies] == [200, 200, 404, 400, 401, 401]
    ids = {r.headers["inin-correlation-id"] for r in replies}
    assert len(ids) == len(replies)
    for reply in replies:
        assert reply.headers["inin-ratelimit-allowed"] == "300"
        assert int(reply.headers["inin-ratelimit-reset"]) > 0
    assert [r.headers["inin-ratelimit-count"] for r in replies[:4]] == ["1", "2", "3", "4"]


def test_rate_limit_per_token_gives_429_with_retry_after(sim: Simulator, client: SimClient) -> None:
    sim.faults.rate_limit_per_minute = 5
    token = client.new_token()

    replies = [client.get(ORG, token=token) for _ in range(7)]

    assert [r.status_code for r in replies] == [200] * 5 + [429, 429]
    limited = replies[5]
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert limited.headers["inin-ratelimit-count"] == "6"
    assert limited.headers["inin-ratelimit-allowed"] == "5"
    doc = limited.json()
    assert doc["code"] == "too.many.requests.retry.after" and doc["status"] == 429
    assert doc["limit"]["key"] == "client.credentials.token.rate.per.minute"
    # The limit is per token: a fresh token has its own window.
    assert client.get(ORG, token=client.new_token()).status_code == 200


def test_rate_limit_zero_means_unlimited(sim: Simulator, client: SimClient) -> None:
    sim.faults.rate_limit_per_minute = 0

    replies = [client.get(ORG) for _ in range(20)]

    assert {r.status_code for r in replies} == {200}
    assert replies[-1].headers["inin-ratelimit-allowed"] == "1000000"
    assert replies[-1].headers["inin-ratelimit-count"] == "20"


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [
        ("429", 429, "too.many.requests.retry.after"),
        ("429-no-retry-after", 429, "too.many.requests"),
        ("500", 500, "internal.server.error"),
        ("502", 502, "bad.gateway"),
        ("503", 503, "service.unavailable"),
        ("504", 504, "gateway.timeout"),
        ("401", 401, "bad.credentials"),
        ("400", 400, "bad.request"),
        ("403", 403, "missing.permissions"),
        ("404", 404, "not.found"),
    ],
)
def test_scheduled_fault_hits_exactly_that_request(
    sim: Simulator, client: SimClient, kind, status, code
) -> None:
    sim.faults.schedule = {2: kind}

    replies = [client.get(ORG) for _ in range(3)]

    assert replies[0].status_code == 200
    assert replies[1].status_code == status
    assert replies[1].json()["code"] == code
    assert replies[1].json()["contextId"] == replies[1].headers["inin-correlation-id"]
    assert ("Retry-After" in replies[1].headers) == (kind == "429")
    # A 401 fault revokes the token, as a real revocation would; other faults leave it valid.
    assert replies[2].status_code == (401 if kind == "401" else 200)
    assert [r.status for r in sim.requests if r.path == ORG] == [r.status_code for r in replies]


def test_dropped_connection_sends_no_response(sim: Simulator, client: SimClient) -> None:
    sim.faults.schedule = {1: "drop"}

    with pytest.raises(requests.ConnectionError):
        client.get(ORG)

    assert client.get(ORG).status_code == 200
    assert [r.status for r in sim.requests if r.path == ORG] == [0, 200]


def test_slow_fault_delays_the_answer(sim: Simulator, client: SimClient) -> None:
    client.get(ORG)
    sim.faults.schedule = {2: "slow"}

    started = time.monotonic()
    reply = client.get(ORG)

    assert reply.status_code == 200
    assert time.monotonic() - started >= 2.0


def test_reset_counters_restarts_the_schedule(sim: Simulator, client: SimClient) -> None:
    sim.faults.schedule = {1: "503"}
    assert client.get(ORG).status_code == 503
    assert client.get(ORG).status_code == 200

    sim.reset_counters()

    assert sim.requests == []
    assert client.get(ORG).status_code == 503


def test_random_faults_are_seeded_and_repeatable(sim: Simulator, client: SimClient) -> None:
    sim.faults.rate_limit_per_minute = 0
    sim.faults.random_rate = 0.3
    sim.faults.random_kinds = ("502", "503", "504", "429")
    sim.faults.random_seed = 7

    first = [client.get(ORG).status_code for _ in range(60)]
    sim.reset_counters()
    second = [client.get(ORG).status_code for _ in range(60)]
    sim.reset_counters()
    sim.faults.random_seed = 8
    third = [client.get(ORG).status_code for _ in range(60)]

    assert first == second
    assert first != third
    failures = [s for s in first if s != 200]
    assert 8 <= len(failures) <= 30
    assert set(failures) <= {502, 503, 504, 429} and len(set(failures)) >= 3


def test_latency_per_request(sim: Simulator, client: SimClient) -> None:
    client.get(ORG)
    sim.faults.latency_s = 0.3

    started = time.monotonic()
    client.get(ORG)

    assert time.monotonic() - started >= 0.3


def test_latency_per_returned_row(sim: Simulator, client: SimClient) -> None:
    query = body("2026-03-03T00:00:00Z/2026-03-04T00:00:00Z")
    rows = sum(len(r["data"]) for r in client.query_ok(query)["results"])
    sim.faults.latency_per_row_s = 0.002
    sim.faults.latency_s = 0.2

    started = time.monotonic()
    client.query_ok(query)

    assert rows > 100
    assert time.monotonic() - started >= 0.2 + rows * 0.002  # modelled work adds to the latency


def test_latency_includes_the_simulators_own_computing(
    sim: Simulator, client: SimClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The latency is the server's response time: the simulator's rendering, done on the client's machine
    # where a real server would use its own, is inside it, not added to it.
    client.get(ORG)
    org_reply = sim.api._org

    def slow_org():
        time.sleep(0.4)  # the simulator computing a reply
        return org_reply()

    monkeypatch.setattr(sim.api, "_org", slow_org)
    sim.faults.latency_s = 0.6

    started = time.monotonic()
    reply = client.get(ORG)
    elapsed = time.monotonic() - started

    assert reply.status_code == 200
    assert 0.6 <= elapsed < 0.95  # 1.0 s if the computing came on top of the latency


def test_injected_403_names_the_missing_permission(sim: Simulator, client: SimClient) -> None:
    sim.faults.schedule = {1: "403", 2: "403"}

    queues = client.get("/api/v2/routing/queues")
    aggregates = client.query(body("2026-03-03T00:00:00Z/2026-03-04T00:00:00Z"))

    assert queues.status_code == aggregates.status_code == 403
    assert "routing:queue:view" in queues.json()["message"]
    assert "analytics:conversationAggregate:view" in aggregates.json()["message"]
