"""Async aggregate jobs: submit, poll QUEUED -> FULFILLED, cursor paging, FAILED and EXPIRED outcomes."""

from __future__ import annotations

import base64
import time

import orjson
import pytest
from simhelpers import JOBS, SimClient, body, rows_of

from simulator import Simulator
from simulator.query import parse_query
from simulator.render import render_groups

INTERVAL = "2026-03-02T00:00:00Z/2026-03-04T00:00:00Z"


def _submit(client: SimClient, **extra) -> str:
    reply = client.request("POST", JOBS, data=orjson.dumps(body(INTERVAL, **extra)))
    assert reply.status_code == 202, reply.text
    return reply.json()["jobId"]


def _wait(client: SimClient, job_id: str) -> list[str]:
    states = []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        states.append(client.get(f"{JOBS}/{job_id}").json()["state"])
        if states[-1] not in ("QUEUED", "PENDING"):
            return states
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} still {states[-1]} after 10 s")


def test_job_goes_queued_to_fulfilled_and_pages_by_cursor(client: SimClient, sim: Simulator) -> None:
    sim.faults.job_delay_s = 0.4
    job_id = _submit(client, pageSize=5)

    states = _wait(client, job_id)
    pages, cursor = [], None
    for _ in range(50):
        reply = client.get(f"{JOBS}/{job_id}/results", params={"cursor": cursor} if cursor else None)
        assert reply.status_code == 200, reply.text
        pages.append(reply.json())
        cursor = pages[-1].get("cursor")
        if not cursor:
            break

    assert states[0] == "QUEUED" and states[-1] == "FULFILLED"
    assert [len(p["results"]) for p in pages[:-1]] == [5] * (len(pages) - 1)
    merged = rows_of({"results": [r for p in pages for r in p["results"]]})
    assert merged == rows_of(client.query_ok(body(INTERVAL)))
    status = client.get(f"{JOBS}/{job_id}").json()
    assert {"submissionDate", "expirationDate", "completionDate"} <= set(status)


def test_results_before_fulfilment_are_refused(client: SimClient, sim: Simulator) -> None:
    sim.faults.job_delay_s = 30
    job_id = _submit(client)

    reply = client.get(f"{JOBS}/{job_id}/results")

    assert reply.status_code == 400
    assert "QUEUED" in reply.json()["message"]


@pytest.mark.parametrize(("outcome", "status"), [("FAILED", 400), ("EXPIRED", 404)])
def test_configured_outcomes(client: SimClient, sim: Simulator, outcome: str, status: int) -> None:
    sim.faults.job_delay_s = 0.05
    sim.faults.job_outcomes = [outcome]

    failed = _submit(client)
    states = _wait(client, failed)
    reply = client.get(f"{JOBS}/{failed}/results")
    next_job = _submit(client)

    assert states[-1] == outcome
    assert reply.status_code == status
    assert _wait(client, next_job)[-1] == "FULFILLED"  # outcomes apply to the next jobs in order
    if outcome == "FAILED":
        assert client.get(f"{JOBS}/{failed}").json()["errorMessage"]


def test_unknown_job_bad_cursor_and_bad_body(client: SimClient, sim: Simulator) -> None:
    sim.faults.job_delay_s = 0
    job_id = _submit(client)

    assert client.get(f"{JOBS}/no-such-job").status_code == 404
    assert client.get(f"{JOBS}/{job_id}/results", params={"cursor": "garbage"}).status_code == 400
    reply = client.request(
        "POST", JOBS, data=orjson.dumps({"interval": INTERVAL, "metrics": ["nOffered"], "pageSize": 0})
    )
    assert reply.status_code == 400
    assert "pageSize" in reply.json()["message"]
    reply = client.request("POST", JOBS, data=orjson.dumps({"metrics": ["nOffered"]}))
    assert reply.status_code == 400


def test_jobs_are_not_bound_by_the_sync_row_limit(client: SimClient, sim: Simulator) -> None:
    sim.faults.max_result_rows = 10
    sim.faults.job_delay_s = 0

    assert client.query(body(INTERVAL)).status_code == 400
    job_id = _submit(client, pageSize=1000)
    assert _wait(client, job_id)[-1] == "FULFILLED"
    assert client.get(f"{JOBS}/{job_id}/results").json()["results"]


def _eager_pages(sim: Simulator, job_body: dict, job_id: str) -> list[bytes]:
    """The result pages as the simulator served them when it rendered the whole job on submission."""
    query = parse_query(orjson.dumps(job_body), sim.faults.max_interval_days, is_job=True)
    containers, _ = render_groups(sim.api._figures(query, sim.clock.now()), query.metrics)
    size = query.page_size or 100
    pages = []
    for offset in range(0, len(containers), size):
        page = b'{"results":[' + b",".join(containers[offset : offset + size]) + b"]"
        if offset + size < len(containers):
            cursor = base64.urlsafe_b64encode(f"{job_id[:8]}:{offset + size}".encode()).decode()
            page += b',"cursor":' + orjson.dumps(cursor)
        pages.append(page + b"}")
    return pages


@pytest.mark.parametrize(
    "extra",
    [
        {"pageSize": 4},  # a deleted queue's groups are empty in April: pages skip them
        {"pageSize": 3, "granularity": "P1D", "groupBy": ["mediaType", "queueId"]},
        {"pageSize": 1, "groupBy": ["mediaType"]},  # a group sums many queues
        {"pageSize": 2, "granularity": "PT15M", "filter": {"type": "or", "predicates": [
            {"dimension": "mediaType", "value": "voice"}, {"dimension": "mediaType", "value": "chat"}]}},
    ],
)  # fmt: skip
def test_job_pages_are_rendered_lazily_and_match_the_eager_render(
    client: SimClient, sim: Simulator, extra: dict
) -> None:
    sim.faults.job_delay_s = 0
    job_body = body("2026-04-01T00:00:00Z/2026-04-03T00:00:00Z", **extra)
    reply = client.request("POST", JOBS, data=orjson.dumps(job_body))
    job_id = reply.json()["jobId"]
    results = sim.api.jobs[job_id].results
    rendered_at_submission = results.rendered_groups
    served, rendered_after_page, cursor = [], [], None
    for _ in range(60):
        page = client.get(f"{JOBS}/{job_id}/results", params={"cursor": cursor} if cursor else None)
        assert page.status_code == 200, page.text
        served.append(page.content)
        rendered_after_page.append(results.rendered_groups)
        cursor = page.json().get("cursor")
        if not cursor:
            break

    expected = _eager_pages(sim, job_body, job_id)
    assert served == expected  # byte for byte, cursors included
    assert len(expected) >= 3
    size = extra["pageSize"]
    assert rendered_at_submission == 0
    assert rendered_after_page[0] <= 2 * size  # the first page renders its groups and one chunk ahead
    assert rendered_after_page == sorted(rendered_after_page)
    assert rendered_after_page[0] < rendered_after_page[-1]  # later pages rendered when asked for


def test_a_job_renders_its_empty_groups_without_serving_them(client: SimClient, sim: Simulator) -> None:
    sim.faults.job_delay_s = 0
    job_body = body("2026-04-01T00:00:00Z/2026-04-03T00:00:00Z", pageSize=100)
    job_id = client.request("POST", JOBS, data=orjson.dumps(job_body)).json()["jobId"]
    served = client.get(f"{JOBS}/{job_id}/results").json()["results"]
    legacy = next(q for q in sim.org.queues if q.name == "Legacy Billing")  # deleted 2026-03-10

    groups = sum(len(q.media) for q in sim.org.queues)
    assert sim.api.jobs[job_id].results.rendered_groups == groups
    assert len(served) == groups - len(legacy.media)
    assert all(r["group"]["queueId"] != legacy.id for r in served)
