"""The simulator serves benchmark-sized queries whole (its speed is measured by `make bench`, not here)."""

from __future__ import annotations

from datetime import UTC, datetime

from simhelpers import SimClient, body

from simulator import SimulatorConfig, run_simulator


def test_one_day_of_500_queues_at_pt1h_is_served_whole() -> None:
    config = SimulatorConfig(queue_count=500, clock_start=datetime(2026, 11, 27, tzinfo=UTC))
    with run_simulator(config) as sim:
        client = SimClient(sim)
        query = body("2026-03-03T00:00:00Z/2026-03-04T00:00:00Z")
        reply = client.query(query)
        assert reply.status_code == 200
        rows = reply.content.count(b'"interval"')
        client.http.close()

    groups = sum(len(q.media) for q in sim.org.queues)
    assert groups >= 1000 - 20 and rows > 10_000
