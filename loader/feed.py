"""WindowFeed: fetch and parse queue_intervals windows in a background thread, ahead of dlt."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa


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
    """Produce windows start..stop-1 in order in a thread, holding at most ~max_rows rows unconsumed.

    The work per window is an HTTP request (the socket wait) and Arrow's JSON parsing and compute (C++):
    both release the GIL, so they run beside dlt's extract, normalize and load of earlier windows in the
    main thread, also across the pipeline runs that commit a long load. A failure is handed over in
    order, after the windows before it, and ends the feed.
    """

    def __init__(
        self,
        produce: Callable[[int, WindowDone], Iterable[pa.Table]],
        start: int,
        stop: int,
        max_rows: int,
    ) -> None:
        self._produce = produce
        self._next = start
        self._stop = stop
        self._max_rows = max_rows
        self._items: deque[tuple[Any, int]] = deque()
        self._rows = 0
        self._closed = False
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="genesys-feed", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            for index in range(self._next, self._stop):
                done = WindowDone(index, 0, 0, 0)
                for table in self._produce(index, done):  # which records its requests and queue ids
                    done.rows += table.num_rows
                    self._put(table, table.num_rows)
                self._put(done, 0)
        except _Closed:
            return
        except BaseException as exc:  # handed to the consumer, which raises it in its own thread
            try:
                self._put(exc, 0)
            except _Closed:
                return

    def _put(self, item: Any, rows: int) -> None:
        with self._cond:
            while rows and self._rows >= self._max_rows and not self._closed:
                self._cond.wait()
            if self._closed:
                raise _Closed
            self._items.append((item, rows))
            self._rows += rows
            self._cond.notify_all()

    def get(self) -> pa.Table | WindowDone:
        """The next table or window marker, in order; raises the producer's error in its turn."""
        with self._cond:
            while not self._items:
                if not self._thread.is_alive():
                    raise RuntimeError("the window feed stopped without handing over its windows")
                self._cond.wait(timeout=1.0)
            item, rows = self._items.popleft()
            self._rows -= rows
            self._cond.notify_all()
        if isinstance(item, BaseException):
            raise item
        return item  # type: ignore[no-any-return]

    def close(self) -> None:
        """Stop producing and wait for the thread (an in-flight request finishes first)."""
        with self._cond:
            self._closed = True
            self._items.clear()
            self._rows = 0
            self._cond.notify_all()
        self._thread.join()
