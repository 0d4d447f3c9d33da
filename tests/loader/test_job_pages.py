"""Async job results: the next page is asked for while the current one is decoded; the cursor read ahead of
a page is checked against the decoded one."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from loader import jobs
from loader.client import CallStats
from loader.contract import ContractError
from loader.jobs import job_results, peek_cursor
from loader.windows import Window

WINDOW = Window(datetime(2025, 3, 3, tzinfo=UTC), datetime(2025, 3, 4, tzinfo=UTC))
NINE = "2025-03-03T09:00:00.000Z/2025-03-03T10:00:00.000Z"


def _page(queue: str, cursor: str | None) -> bytes:
    doc: dict[str, Any] = {
        "results": [
            {
                "group": {"queueId": queue, "mediaType": "voice"},
                "data": [{"interval": NINE, "metrics": [{"metric": "nOffered", "stats": {"count": 1}}]}],
            }
        ]
    }
    if cursor is not None:
        doc["cursor"] = cursor
    return orjson.dumps(doc)


class _JobServer:
    """Stands in for GenesysHttp: a fulfilled job whose result pages are `pages` (raw bodies by cursor)."""

    def __init__(self, pages: dict[str | None, bytes]) -> None:
        self.pages = pages
        self.stats = CallStats()
        self.asked: list[tuple[str | None, float]] = []  # (cursor, when) of each results request
        self._lock = threading.Lock()

    def request_json(self, method: str, path: str, **_: Any) -> dict[str, Any]:
        return {"jobId": "job-1"} if method == "POST" else {"state": "FULFILLED"}

    def request_raw(self, method: str, path: str, *, params: dict | None = None, **_: Any) -> bytes:
        cursor = (params or {}).get("cursor")
        with self._lock:
            self.asked.append((cursor, time.monotonic()))
        return self.pages[cursor]


def _results(server: _JobServer) -> list[Any]:
    pages = job_results(server, {}, WINDOW, max_resubmits=0, poll_cap_s=0.01, timeout_s=5)  # type: ignore[arg-type]
    return [page.to_pylist() for page in pages]


@pytest.mark.parametrize(
    ("raw", "cursor"),
    [
        (b'{"results":[],"cursor":"abc"}', "abc"),
        (b'{"cursor" : "a\\"b",\n "results":[]}', 'a"b'),  # escaped quote, spaces, cursor first
        (b'{"results":[]}', None),
        (b'{"results":[],"cursor":null}', None),
        (b"null", None),
        (b"not json", None),
        (b'{"results":[{"group":{"queueId":"cursor"}}],"cursor":"c2"}', "c2"),
        (b'{"cursor":"c3","results":[{"group":{"queueId":"cursor"}}]}', "c3"),  # a value, not the key
    ],
)
def test_peek_cursor_reads_the_cursor_of_a_raw_page(raw: bytes, cursor: str | None) -> None:
    assert peek_cursor(raw) == cursor


def test_the_next_page_is_asked_for_while_the_current_one_is_decoded_one_page_ahead(monkeypatch) -> None:
    server = _JobServer({None: _page("q1", "c1"), "c1": _page("q2", "c2"), "c2": _page("q3", None)})
    decoded_at: list[float] = []
    real_decode = jobs.decode

    def slow_decode(raw: bytes, what: str):
        time.sleep(0.3)  # a large page on a loaded machine
        decoded_at.append(time.monotonic())
        return real_decode(raw, what)

    monkeypatch.setattr(jobs, "decode", slow_decode)
    pages = _results(server)

    assert [p[0]["group"]["queueId"] for p in pages] == ["q1", "q2", "q3"]
    assert [cursor for cursor, _ in server.asked] == [None, "c1", "c2"]
    # page 2 was asked for before page 1 was decoded, page 3 before page 2 was
    assert server.asked[1][1] < decoded_at[0] and server.asked[2][1] < decoded_at[1]
    # but never more than one page ahead: page 3 only once page 1 was done with (memory per job)
    assert server.asked[2][1] > decoded_at[0]


def test_a_cursor_that_differs_from_the_one_read_ahead_fails_the_window() -> None:
    # a nested key "cursor" after the real one misleads the read-ahead: the check catches it
    tricky = b'{"cursor":"c1","results":[{"group":{"queueId":"q1","mediaType":"voice"},"cursor":"c9"}]}'
    server = _JobServer({None: tricky})

    with pytest.raises(ContractError) as caught:
        _results(server)

    message = str(caught.value)
    assert message.startswith(f"the aggregates reply for window {WINDOW} breaks the API contract: ")
    assert "cursor = 'c1' is not the cursor read ahead of the page ('c9')" in message
    assert "\n" not in message


class _SharedCounter:
    """Raw pages held by several jobs at once: asked for and not yet decoded."""

    def __init__(self) -> None:
        self.held = 0
        self.most = 0
        self.lock = threading.Lock()

    def change(self, by: int) -> None:
        with self.lock:
            self.held += by
            self.most = max(self.most, self.held)


class _CountingServer(_JobServer):
    def __init__(self, pages: dict[str | None, bytes], counter: _SharedCounter) -> None:
        super().__init__(pages)
        self.counter = counter

    def request_raw(self, method: str, path: str, *, params: dict | None = None, **_: Any) -> bytes:
        self.counter.change(+1)
        return super().request_raw(method, path, params=params)


def _chain(job: str, pages: int) -> dict[str | None, bytes]:
    cursors = [None, *[f"{job}-c{n}" for n in range(1, pages)]]
    following = [*cursors[1:], None]
    return {cursor: _page(f"{job}-q{n}", following[n]) for n, cursor in enumerate(cursors)}


def _job(server: _JobServer, **options: Any) -> Any:
    return job_results(server, {}, WINDOW, max_resubmits=0, poll_cap_s=0.01, timeout_s=5, **options)  # type: ignore[arg-type]


def test_jobs_sharing_a_page_budget_hold_no_more_raw_pages_than_it_allows(monkeypatch) -> None:
    # Three jobs whose pages come faster than they are decoded: each alone would hold two pages (one being
    # decoded, one fetched ahead), six together; the shared budget of two holds them back.
    counter = _SharedCounter()
    real_decode = jobs.decode

    def slow_decode(raw: bytes, what: str):
        time.sleep(0.05)
        decoded = real_decode(raw, what)
        counter.change(-1)
        return decoded

    monkeypatch.setattr(jobs, "decode", slow_decode)
    budget = jobs.PageBudget(2)
    parsed_under_lock: list[bool] = []
    got: dict[str, list[str]] = {}

    def parse(results: Any) -> list[str]:
        parsed_under_lock.append(jobs.PAGE_WORK.locked())  # decoded and parsed in one hold of the lock
        return [r["group"]["queueId"] for r in results.to_pylist()]

    def run(job: str) -> None:
        server = _CountingServer(_chain(job, 5), counter)
        pages = _job(server, parse=parse, budget=budget)
        got[job] = [queue for page in pages for queue in page]

    threads = [threading.Thread(target=run, args=(job,), daemon=True) for job in ("a", "b", "c")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert not any(thread.is_alive() for thread in threads)

    assert got == {job: [f"{job}-q{n}" for n in range(5)] for job in ("a", "b", "c")}
    assert counter.most == 2
    assert parsed_under_lock == [True] * 15


def test_a_job_stopped_early_gives_its_pages_back_to_the_budget() -> None:
    # A caller that stops after one page (a failure, an interrupt) leaves no page counted: the next job
    # sharing a budget of one page still gets through.
    budget = jobs.PageBudget(1)
    first = _job(_JobServer(_chain("a", 5)), budget=budget)
    assert next(first).to_pylist()[0]["group"]["queueId"] == "a-q0"
    first.close()

    done: list[list[Any]] = []
    thread = threading.Thread(
        target=lambda: done.append(list(_job(_JobServer(_chain("b", 3)), budget=budget))), daemon=True
    )
    thread.start()
    thread.join(timeout=10)
    assert not thread.is_alive() and len(done[0]) == 3
