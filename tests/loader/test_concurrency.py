"""Windows in flight under max_concurrent_requests, one shared limiter that keeps the per-minute allowance,
and concurrency halved on repeated 429s; the data stays exact."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from tests.loader.conftest import aggregate_requests, interval_rows, load

pytestmark = pytest.mark.timeout(150)
SIX_DAYS = (datetime(2026, 4, 1, tzinfo=UTC), datetime(2026, 4, 7, tzinfo=UTC))


def _peak_in_flight(requests) -> int:
    """Most requests the server was handling at one instant (from arrival and answer times)."""
    events = sorted([(r.received_at, 1) for r in requests] + [(r.answered_at, -1) for r in requests])
    peak = current = 0
    for _, step in events:  # an answer sorts before an arrival at the same instant (-1 < 1)
        current += step
        peak = max(peak, current)
    return peak


@pytest.mark.parametrize("concurrency", [1, 3])
def test_windows_in_flight_up_to_max_concurrent_requests(sim, db, concurrency):
    sim.faults.latency_s = 0.25
    summary = load(
        sim, db, start="2026-04-01", end="2026-04-06", settings={"max_concurrent_requests": concurrency}
    )
    assert summary.windows == 6
    assert _peak_in_flight(aggregate_requests(sim)) == concurrency
    assert interval_rows(db) == sim.ground_truth(*SIX_DAYS)  # committed in window order, exactly


def test_limiter_never_exceeds_the_per_minute_allowance(sim, db):
    # 8 requests a minute and 14 API requests (org, queues, 12 half-day windows): the load must wait for
    # the next minute instead of meeting a 429, with 3 windows in flight.
    sim.faults.rate_limit_per_minute = 8
    summary = load(
        sim,
        db,
        start="2026-04-01",
        end="2026-04-06",
        settings={"window_days": 0.5, "max_concurrent_requests": 3, "backoff_cap_s": 5},
    )
    api = [r for r in sim.requests if r.path.startswith("/api/")]
    assert len(api) == 14 and summary.retries == 0
    assert all(r.status != 429 for r in api)
    arrivals = sorted(r.received_at for r in api)
    for i, first in enumerate(arrivals):
        assert sum(1 for t in arrivals[i:] if t < first + 60) <= 8
    assert arrivals[-1] - arrivals[0] >= 60  # it really waited for the next minute
    assert interval_rows(db) == sim.ground_truth(*SIX_DAYS)


def test_repeated_429s_halve_the_requests_in_flight(sim, db, caplog):
    sim.faults.latency_s = 0.2
    sim.faults.schedule = {n: "429" for n in range(3, 7)}  # the first aggregates requests
    with caplog.at_level(logging.WARNING, logger="loader.ratelimit"):
        summary = load(sim, db, start="2026-04-01", end="2026-04-06", settings={"max_concurrent_requests": 4})
    assert "repeated HTTP 429: now at most 2 request(s) in flight" in caplog.text
    requests = aggregate_requests(sim)
    last_429 = max(r.answered_at for r in requests if r.status == 429)
    after = [r for r in requests if r.received_at > last_429]
    assert after and _peak_in_flight(after) <= 2
    assert summary.retries >= 4
    assert interval_rows(db) == sim.ground_truth(*SIX_DAYS)


def test_async_jobs_are_bounded_by_max_concurrent_requests(sim, db):
    sim.faults.latency_s = 0.15
    summary = load(
        sim,
        db,
        start="2026-04-01",
        end="2026-04-06",
        async_jobs=True,
        settings={"async_window_days": 1, "max_concurrent_requests": 2},
    )
    assert summary.async_jobs and summary.windows == 6
    job_requests = [r for r in sim.requests if "/aggregates/jobs" in r.path]
    assert sum(1 for r in job_requests if r.method == "POST") == 6
    assert _peak_in_flight(job_requests) == 2
    assert interval_rows(db) == sim.ground_truth(*SIX_DAYS)
