"""Async aggregate jobs for large backfills: submit, poll with backoff, page through the cursor, resubmit
FAILED/EXPIRED jobs a bounded number of times."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

from loader import contract
from loader.aggregates import decode
from loader.client import GenesysHttp
from loader.errors import WindowError
from loader.windows import Window

logger = logging.getLogger(__name__)

JOBS_PATH = "/analytics/conversations/aggregates/jobs"
JOB_PAGE_SIZE = 25  # result groups per page: ~18k rows of a 31-day PT1H job, a few MB of JSON
DONE = {"FULFILLED", "FAILED", "CANCELLED", "EXPIRED"}


def job_results(
    http: GenesysHttp,
    query: dict[str, Any],
    window: Window,
    *,
    max_resubmits: int,
    poll_cap_s: float,
    timeout_s: float,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[Any]:
    """Yield the `results` of each page of a fulfilled job for `query`; resubmit failed or expired jobs.

    `sleep` waits between polls (the rate limiter's, which an interrupt cuts short)."""
    body = {**query, "pageSize": JOB_PAGE_SIZE}
    last_state = "?"
    for attempt in range(max_resubmits + 1):
        job_id = _job_id(http.request_json("POST", JOBS_PATH, json=body), window)
        status = _wait(http, job_id, window, poll_cap_s, timeout_s, sleep)
        last_state = status.get("state", "?")
        if last_state == "FULFILLED":
            yield from _pages(http, job_id, window)
            return
        logger.warning(
            "async job for window %s ended %s (%s); resubmitting (%d of %d)",
            window,
            last_state,
            status.get("errorMessage") or "no message",
            attempt + 1,
            max_resubmits,
        )
    raise WindowError(
        f"window {window}: the async aggregates job ended {last_state} {max_resubmits + 1} times; "
        "re-run later or load smaller ranges (sync queries)"
    )


def _job_id(reply: dict[str, Any], window: Window) -> str:
    """The submitted job's id: a non-empty string, or a one-line ContractError naming the window."""
    job_id = reply.get("jobId")
    if not isinstance(job_id, str) or not job_id.strip():
        raise contract.violation(
            f"the async job reply for window {window}", "jobId", job_id, "is not a non-empty string"
        )
    return job_id


def _pages(http: GenesysHttp, job_id: str, window: Window) -> Iterator[Any]:
    """Follow `cursor` through the results. Not dlt's cursor paginator: it would parse every (large) page a
    second time with the stdlib json module, which costs more than the whole load of the page."""
    cursor: str | None = None
    seen: set[str] = set()
    while True:
        params = {"cursor": cursor} if cursor else None
        raw = http.request_raw("GET", f"{JOBS_PATH}/{job_id}/results", params=params)
        page = decode(raw, f"the aggregates reply for window {window}")
        yield page.results
        cursor = page.cursor
        if not cursor or cursor in seen:
            return
        seen.add(cursor)


def _wait(
    http: GenesysHttp,
    job_id: str,
    window: Window,
    poll_cap_s: float,
    timeout_s: float,
    sleep: Callable[[float], None],
) -> dict:
    delay = 0.05
    deadline = time.monotonic() + timeout_s
    while True:
        status = http.request_json("GET", f"{JOBS_PATH}/{job_id}")
        if status.get("state") in DONE:
            return status
        if time.monotonic() > deadline:
            raise WindowError(
                f"window {window}: async job still {status.get('state')} after {timeout_s:.0f} s; "
                "re-run later"
            )
        sleep(delay)
        delay = min(poll_cap_s, delay * 2)
