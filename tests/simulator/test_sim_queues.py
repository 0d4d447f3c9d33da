"""Routing queues: listing shape, paging, filters, deleted and newly created queues, target changes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from simhelpers import SimClient

from simulator import SimulatorConfig, run_simulator
from simulator.org import build_org

QUEUES = "/api/v2/routing/queues"


def test_listing_pages_with_page_count_and_next_uri(client: SimClient) -> None:
    first = client.get(QUEUES, params={"pageSize": 3}).json()

    assert (first["pageSize"], first["pageNumber"], first["total"], first["pageCount"]) == (3, 1, 10, 4)
    assert first["nextUri"] == f"{QUEUES}?pageSize=3&pageNumber=2"
    assert "previousUri" not in first
    names = [q["name"] for q in first["entities"]]
    page = 2
    while "nextUri" in first:
        first = client.get(first["nextUri"]).json()
        names += [q["name"] for q in first["entities"]]
        page += 1
    assert first["pageNumber"] == 4 and len(first["entities"]) == 1
    assert names == sorted(names, key=str.lower)
    assert len(names) == 10


def test_queue_shape_media_settings_and_divisions(client: SimClient, sim) -> None:
    entities = client.get(QUEUES, params={"pageSize": 100}).json()["entities"]

    assert {q["division"]["name"] for q in entities} == {"Sales", "Customer Care", "Technical Support"}
    tier1 = next(q for q in entities if q["name"] == "Tech Support Tier 1")
    assert set(tier1["mediaSettings"]) == {"call", "chat", "message"}
    assert tier1["mediaSettings"]["call"]["serviceLevel"] == {"percentage": 0.8, "durationMs": 30000}
    assert tier1["mediaSettings"]["message"]["serviceLevel"] == {"percentage": 0.9, "durationMs": 60000}
    claims = next(q for q in entities if q["name"] == "Claims - Email")
    assert claims["mediaSettings"] == {
        "email": {
            "alertingTimeoutSeconds": 300,
            "enableAutoAnswer": False,
            "serviceLevel": {"percentage": 0.8, "durationMs": 86400000},
        }
    }
    assert all(set(q["mediaSettings"]) <= {"call", "callback", "chat", "email", "message"} for q in entities)
    assert tier1["selfUri"] == f"{QUEUES}/{tier1['id']}"


def test_name_filter_with_wildcards_and_id_filter(client: SimClient, sim) -> None:
    tech = client.get(QUEUES, params={"name": "tech*"}).json()
    claims = client.get(QUEUES, params={"name": "*claims*"}).json()
    exact = client.get(QUEUES, params={"name": "Retention"}).json()
    ids = [q.id for q in sim.org.queues[:2]]
    by_id = client.get(QUEUES, params=[("id", ids[0]), ("id", ids[1])]).json()

    assert [q["name"] for q in tech["entities"]] == ["Tech Support Tier 1", "Tech Support Tier 2"]
    assert [q["name"] for q in claims["entities"]] == ["Claims - Email", "Claims - Voice"]
    assert [q["name"] for q in exact["entities"]] == ["Retention"]
    assert sorted(q["id"] for q in by_id["entities"]) == sorted(ids)


def test_queue_by_id_and_404_for_deleted_queue(client: SimClient, sim) -> None:
    legacy = next(q for q in sim.org.queues if q.name == "Legacy Billing")
    live = next(q for q in sim.org.queues if q.name == "Retention")

    assert client.get(f"{QUEUES}/{live.id}").json()["name"] == "Retention"
    reply = client.get(f"{QUEUES}/{legacy.id}")
    assert reply.status_code == 404
    assert reply.json()["code"] == "not.found"


@pytest.mark.parametrize(
    ("clock", "listed"),
    [
        ("2026-03-05T08:59:59Z", {"Legacy Billing", "Holiday Overflow"}),  # Chat Concierge not yet created
        ("2026-03-05T09:00:00Z", {"Legacy Billing", "Holiday Overflow", "Chat Concierge"}),
        ("2026-03-10T15:00:00Z", {"Holiday Overflow", "Chat Concierge"}),  # Legacy Billing deleted
        ("2026-11-04T12:00:00Z", {"Chat Concierge"}),  # Holiday Overflow deleted
    ],
)
def test_history_events_follow_the_clock(client: SimClient, sim, clock: str, listed: set[str]) -> None:
    sim.clock.set(datetime.fromisoformat(clock))

    names = {q["name"] for q in client.get(QUEUES, params={"pageSize": 100}).json()["entities"]}

    assert names & {"Legacy Billing", "Holiday Overflow", "Chat Concierge"} == listed


def test_listing_shows_the_target_in_force_at_the_clock(client: SimClient, sim) -> None:
    inbound = next(q for q in sim.org.queues if q.name == "Sales - Inbound")
    sim.clock.set(datetime(2026, 5, 31, 23, 59, tzinfo=UTC))
    before = client.get(f"{QUEUES}/{inbound.id}").json()["mediaSettings"]["call"]["serviceLevel"]
    sim.clock.set(datetime(2026, 6, 1, tzinfo=UTC))
    after = client.get(f"{QUEUES}/{inbound.id}").json()["mediaSettings"]["call"]["serviceLevel"]

    assert before == {"percentage": 0.8, "durationMs": 20000}
    assert after == {"percentage": 0.85, "durationMs": 20000}


def test_bad_page_size_is_400(client: SimClient) -> None:
    assert client.get(QUEUES, params={"pageSize": 0}).status_code == 400
    assert client.get(QUEUES, params={"pageSize": "ten"}).status_code == 400
    assert client.get(QUEUES, params={"pageSize": 501}).status_code == 400


def test_generated_queues_and_stable_ids() -> None:
    big = build_org(42, 30)
    again = build_org(42, 30)
    other_seed = build_org(43, 30)

    assert len(big.queues) == 30
    assert big.queues[12].name == "Queue 0013" and set(big.queues[12].media) == {"voice", "message"}
    assert len({q.division_name for q in big.queues[12:]}) == 3
    assert [q.id for q in big.queues] == [q.id for q in again.queues]
    assert not {q.id for q in big.queues} & {q.id for q in other_seed.queues}
    with run_simulator(SimulatorConfig(queue_count=30, clock_start=datetime(2026, 1, 1, tzinfo=UTC))) as sim:
        assert len(sim.org.queues) == 30
