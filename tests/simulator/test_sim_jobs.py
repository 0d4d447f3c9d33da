"""Async aggregate jobs: submit, poll QUEUED -> FULFILLED, cursor paging, FAILED and EXPIRED outcomes."""

from __future__ import annotations

import time

import orjson
import pytest
from simhelpers import JOBS, SimClient, body, rows_of

from simulator import Simulator

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
