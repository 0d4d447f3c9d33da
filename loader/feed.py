"""WindowFeed: fetch and parse queue_intervals windows in worker threads, handed to dlt in window order."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

# How long close() waits for the workers: a request in flight ends at its timeout, and the threads are
# daemons, so an interrupted load never waits for a slow server.
CLOSE_WAIT_S = 2.0


@dataclass
class WindowDone:
    """Marks the end of one window in the feed: its rows, the requests it took and the queue ids it had."""

    index: int
    rows: int
    calls: int
    retries: int
    queue_ids: set[str] = field(default_factory=set)


class _Closed(Exception):
    """The consumer closed the feed; the producer stops at its next hand-over."""


class WindowFeed:
    """Produce windows start..stop-1 with `workers` threads; hand them over strictly in window order.

    Up to `workers` windows are fetched at once (their requests still pass the shared rate limiter). The
    work per window is an HTTP request (the socket wait) and Arrow's JSON parsing and compute (C++):
    both release the GIL, so they run beside dlt's extract, normalize and load of earlier windows in the
    main thread. At most ~max_rows rows wait unconsumed: a worker waits for room, except the one producing
    the window being handed over once its own rows are taken (so the feed cannot deadlock). A failure is
    handed over in order, after the windows before it, and no window after it is started.
    """

    def __init__(
        self,
        produce: Callable[[int, WindowDone], Iterable[pa.Table]],
        start: int,
        stop: int,
        max_rows: int,
        workers: int = 1,
    ) -> None:
        self._produce = produce
        self._claim = start  # next window a worker takes
        self._hand = start  # next window handed to the consumer
        self._stop = stop
        self._max_rows = max_rows
        self._items: dict[int, deque[tuple[Any, int]]] = {}
        self._complete: dict[int, int] = {}  # finished windows not yet handed over -> their rows
        self._rows = 0
        self._closed = False
        self._failed = False
        self._cond = threading.Condition()
        self._threads = [
            threading.Thread(target=self._run, name=f"genesys-window-{n}", daemon=True)
            for n in range(max(1, workers))
        ]
        for thread in self._threads:
            thread.start()

    def _take(self) -> int | None:
        with self._cond:
            if self._closed or self._failed or self._claim >= self._stop:
                return None
            index = self._claim
            self._claim += 1
            return index

    def _run(self) -> None:
        while (index := self._take()) is not None:
            done = WindowDone(index, 0, 0, 0)
            try:
                for table in self._produce(index, done):  # which records its requests and queue ids
                    done.rows += table.num_rows
                    self._put(index, table, table.num_rows)
                self._put(index, done, 0)
            except _Closed:
                return
            except BaseException as exc:  # handed to the consumer, which raises it in its own thread
                with self._cond:
                    self._failed = True
                try:
                    self._put(index, exc, 0)
                except _Closed:
                    return
                return

    def _put(self, index: int, item: Any, rows: int) -> None:
        with self._cond:
            # Wait for room; the window being handed over waits only while rows of its own are queued (the
            # consumer is taking those), so later windows filling the feed can never block it.
            while (
                rows
                and self._rows >= self._max_rows
                and not self._closed
                and (index != self._hand or self._items.get(index))
            ):
                self._cond.wait()
            if self._closed:
                raise _Closed
            self._items.setdefault(index, deque()).append((item, rows))
            self._rows += rows
            if not isinstance(item, pa.Table):
                self._complete[index] = sum(r for _, r in self._items[index])
            self._cond.notify_all()

    def window_rows(self, index: int) -> int:
        """Rows of window `index` once fully fetched (0 after a failure), to size a commit.

        When the feed is full before the window is (nobody consumes while this waits, so waiting for the
        rest would deadlock), its size is not known yet, only that it is more than is queued of it: it
        counts as a full feed, so a commit sized by it takes few windows (memory stays bounded)."""
        with self._cond:
            while index not in self._complete and index >= self._hand and not self._closed:
                if not any(t.is_alive() for t in self._threads):
                    return sum(rows for _, rows in self._items.get(index, ()))
                if self._rows >= self._max_rows:
                    return max(self._max_rows, sum(rows for _, rows in self._items.get(index, ())))
                self._cond.wait(timeout=1.0)
            return self._complete.get(index, 0)

    def get(self) -> pa.Table | WindowDone:
        """The next table or window marker, in order; raises the producer's error in its turn."""
        with self._cond:
            while not self._items.get(self._hand):
                if not any(t.is_alive() for t in self._threads) and not self._items.get(self._hand):
                    raise RuntimeError("the window feed stopped without handing over its windows")
                self._cond.wait(timeout=1.0)
            item, rows = self._items[self._hand].popleft()
            self._rows -= rows
            if not isinstance(item, pa.Table):
                del self._items[self._hand]
                self._complete.pop(self._hand, None)
                self._hand += 1
            self._cond.notify_all()
        if isinstance(item, BaseException):
            raise item
        return item  # type: ignore[no-any-return]

    def close(self) -> None:
        """Stop producing and let the workers go (a request in flight is abandoned, not awaited long)."""
        with self._cond:
            self._closed = True
            self._items.clear()
            self._rows = 0
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout=CLOSE_WAIT_S / len(self._threads))
