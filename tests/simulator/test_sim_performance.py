"""The simulator is fast enough not to distort loader benchmarks."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

from simhelpers import SimClient, body

from simulator import SimulatorConfig, run_simulator

log = logging.getLogger(__name__)


def test_one_day_of_500_queues_at_pt1h_is_served_in_about_a_second() -> None:
    config = SimulatorConfig(queue_count=500, clock_start=datetime(2026, 11, 27, tzinfo=UTC))
    with run_simulator(config) as sim:
        client = SimClient(sim)
        client.token  # noqa: B018 (fetch the token outside the timing)
        query = body("2026-03-03T00:00:00Z/2026-03-04T00:00:00Z")
        timings, rows = [], 0
        for _ in range(3):
            started = time.perf_counter()
            reply = client.query(query)
            payload = reply.content  # fully received
            timings.append(time.perf_counter() - started)
            assert reply.status_code == 200
            rows = payload.count(b'"interval"')
        client.http.close()

    groups = sum(len(q.media) for q in sim.org.queues)
    log.info(
        "500 queues (%s groups) x 1 day at PT1H: %s rows in %.3f s (best of 3)", groups, rows, min(timings)
    )
    assert groups >= 1000 - 20 and rows > 10_000
    assert min(timings) < 1.5, f"one day x 500 queues took {min(timings):.2f} s"
