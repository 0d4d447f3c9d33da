"""Async aggregate jobs for large backfills: submit, poll with backoff, page through the cursor, resubmit
FAILED/EXPIRED jobs a bounded number of times."""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from loader import contract
from loader.aggregates import decode
from loader.client import GenesysHttp
from loader.errors import WindowError
from loader.windows import Window

logger = logging.getLogger(__name__)
_T = TypeVar("_T")

JOBS_PATH = "/analytics/conversations/aggregates/jobs"
JOB_PAGE_SIZE = 25  # result groups per page: ~18k rows of a 31-day PT1H job, a few MB of JSON
DONE = {"FULFILLED", "FAILED", "CANCELLED", "EXPIRED"}
# One results page decoded and parsed at a time in the process, in one hold of the lock: Arrow's JSON reader
# holds several times a page's ~5 MB while it parses, and a decoded page waiting for its turn to be parsed
# held as much again. With every job in flight decoding at once that was ~65 MB of the peak memory of a
# 365-day load (measured: 3 jobs in flight vs 1). Decoding takes ~0.15 s of a page's 1.5 s or more.
PAGE_WORK = threading.Lock()
# `"cursor"` followed by its value: a JSON string or null (the key itself is found with rfind)
_CURSOR_VALUE = re.compile(rb'\s*:\s*("(?:[^"\\]|\\.)*"|null)')


class PageBudget:
    """Raw results pages held at once by all the jobs that share it: a page counts from the moment its
    request is sent until its body is decoded (and dropped).

    Without it each job holds up to two pages (~5 MB each, one being decoded and one fetched ahead), so the
    jobs in flight held ~6 pages whenever decoding was slower than fetching (no latency, a loaded machine),
    which is exactly when fetching ahead gains nothing. A job's fetcher waits for room (back-pressure), so
    no job is dropped and the requests in flight stay as many."""

    def __init__(self, pages: int) -> None:
        self._free = threading.Semaphore(max(1, pages))

    def take(self, stop: threading.Event) -> bool:
        """Wait for room for one page; False once `stop` is set (the job's caller stopped listening)."""
        while not stop.is_set():
            if self._free.acquire(timeout=0.2):
                return True
        return False

    def give(self) -> None:
        """A page taken earlier is decoded or dropped."""
        self._free.release()


def job_results(
    http: GenesysHttp,
    query: dict[str, Any],
    window: Window,
    *,
    max_resubmits: int,
    poll_cap_s: float,
    timeout_s: float,
    sleep: Callable[[float], None] = time.sleep,
    parse: Callable[[Any], _T] = lambda results: results,
    budget: PageBudget | None = None,
) -> Iterator[_T]:
    """Yield `parse(results)` for each page of a fulfilled job for `query`; resubmit failed or expired jobs.

    `sleep` waits between polls (the rate limiter's, which an interrupt cuts short). `parse` runs in the
    same hold of PAGE_WORK as the page's decoding. `budget` bounds the raw pages held with other jobs
    (default: this job's own, two pages)."""
    body = {**query, "pageSize": JOB_PAGE_SIZE}
    last_state = "?"
    for attempt in range(max_resubmits + 1):
        job_id = _job_id(http.request_json("POST", JOBS_PATH, json=body), window)
        status = _wait(http, job_id, window, poll_cap_s, timeout_s, sleep)
        last_state = status.get("state", "?")
        if last_state == "FULFILLED":
            yield from _pages(http, job_id, window, parse, budget or PageBudget(2))
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


def _pages(
    http: GenesysHttp, job_id: str, window: Window, parse: Callable[[Any], _T], budget: PageBudget
) -> Iterator[_T]:
    """Follow `cursor` through the results. Not dlt's cursor paginator: it would parse every (large) page a
    second time with the stdlib json module, which costs more than the whole load of the page.

    The next page is requested while the caller decodes and checks this one (a thread of its own, one page
    ahead): the pages of a job come one after another, so the time between two of them is the job's
    critical path. The fetcher reads only the cursor from the raw body (peek_cursor) and asks for the next
    page as soon as the caller has taken this one; decoding the page (~0.1-0.15 s for 25 groups x 31 days,
    longer on a loaded machine) happens in the caller's thread, which also checks that the decoded cursor
    is the one followed. Each page takes room in `budget` before its request and gives it back once
    decoded."""
    ahead: queue.Queue[tuple[Any, BaseException | None]] = queue.Queue(maxsize=1)
    stop = threading.Event()
    # Set when the caller takes a page: the fetcher asks for the next one only then, so a job holds at
    # most the page being decoded and the one being fetched (3 pages of ~5 MB when the caller was slower).
    taken = threading.Event()
    made = [0, 0]  # the fetcher's requests and retries, credited to the caller's thread (the window's)
    what = f"the aggregates reply for window {window}"

    def fetch() -> None:
        cursor: str | None = None
        seen: set[str] = set()
        try:
            while budget.take(stop):
                params = {"cursor": cursor} if cursor else None
                try:
                    raw = http.request_raw("GET", f"{JOBS_PATH}/{job_id}/results", params=params)
                except BaseException:
                    budget.give()
                    raise
                finally:
                    made[:] = http.stats.snapshot()
                cursor = peek_cursor(raw)
                last = not cursor or cursor in seen
                taken.clear()
                if not _hand(ahead, stop, ((raw, cursor), None)):
                    budget.give()  # the caller stopped: the page is dropped
                    return
                del raw
                if last:
                    _hand(ahead, stop, (_END, None))
                    return
                seen.add(cursor)  # type: ignore[arg-type]  # not None: `last` otherwise
                while not stop.is_set() and not taken.wait(0.2):
                    pass
        except BaseException as exc:  # raised in the caller's thread, in its turn
            _hand(ahead, stop, (None, exc))

    fetcher = threading.Thread(target=fetch, name=f"genesys-job-{job_id[:8]}", daemon=True)
    fetcher.start()
    try:
        while True:
            item, error = ahead.get()
            taken.set()
            if error is not None:
                raise error
            if item is _END:
                return
            raw, followed = item
            del item
            with PAGE_WORK:
                try:
                    page = decode(raw, what)
                finally:
                    del raw  # the page's bytes (~5 MB) are not kept while its rows are checked and stored
                    budget.give()
                if page.cursor != followed:
                    wrong = f"is not the cursor read ahead of the page ({followed!r})"
                    raise contract.violation(what, "cursor", page.cursor, wrong)
                parsed = parse(page.results)
                del page
            yield parsed
    finally:
        stop.set()  # the caller stopped early (a failure, an interrupt): the fetcher gives up
        _drop_handed(ahead, budget)  # frees a fetcher waiting to hand over
        fetcher.join(timeout=1.0)
        _drop_handed(ahead, budget)  # a page handed over just as the caller stopped
        http.stats.credit(*made)


def _drop_handed(ahead: queue.Queue, budget: PageBudget) -> None:
    """Drop a page handed over and never taken, giving its room back to the budget."""
    with contextlib.suppress(queue.Empty):
        item, _ = ahead.get_nowait()
        if isinstance(item, tuple):  # a page, not the end marker nor an error
            budget.give()


def peek_cursor(raw: bytes) -> str | None:
    """The `cursor` of a raw results page, read without parsing the page: the value of the last `"cursor"`
    key (None when there is none, or it is null). The aggregates results have no nested key of that name,
    so only a reply that breaks the contract could mislead this; _pages then finds that the decoded cursor
    differs and fails the window (a contract error), so a wrong guess never goes unnoticed."""
    end = len(raw)
    while (at := raw.rfind(b'"cursor"', 0, end)) >= 0:
        found = _CURSOR_VALUE.match(raw, at + len(b'"cursor"'))
        if found is not None:
            break
        end = at  # a string value "cursor", not the key: look further back
    else:
        return None
    if found.group(1) == b"null":
        return None
    try:
        value = json.loads(found.group(1))
    except ValueError:
        return None
    return value if isinstance(value, str) else None


_END = object()  # the last page was handed over


def _hand(ahead: queue.Queue, stop: threading.Event, item: tuple[Any, BaseException | None]) -> bool:
    """Put `item` for the caller; False when it stopped listening first."""
    while not stop.is_set():
        with contextlib.suppress(queue.Full):
            ahead.put(item, timeout=0.2)
            return True
    return False


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
