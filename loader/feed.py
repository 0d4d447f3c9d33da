"""WindowFeed: fetch and parse queue_intervals windows in worker threads, handed to dlt in window order."""

from __future__ import annotations

import os
import shutil
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.ipc as pa_ipc

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


@dataclass
class _Spilled:
    """A table written to the spill folder (Arrow IPC) because the feed was full: rows kept on disk."""

    path: str
    rows: int


def _holds_rows(item: Any) -> bool:
    return isinstance(item, pa.Table | _Spilled)


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

    The consumer may open windows up to a stop (open_until: the windows of one commit, whose order does
    not matter to it): their tables are then handed over as they arrive, window by window interleaved, and
    their workers never wait for room, so several windows (async jobs) stay in flight while one is
    consumed instead of stalling behind it. Each window's own tables keep their order, and the markers and
    a failure still come in window order.

    With a `spill_dir`, a worker that finds the feed full writes its table there (Arrow IPC, read back
    in its turn) instead of waiting: memory holds ~max_rows rows whatever the windows in flight fetch
    while dlt commits, and the requests never pause for the consumer.
    """

    def __init__(
        self,
        produce: Callable[[int, WindowDone], Iterable[pa.Table]],
        start: int,
        stop: int,
        max_rows: int,
        workers: int = 1,
        spill_dir: str | None = None,
    ) -> None:
        self._produce = produce
        self._spill_dir = spill_dir
        self._spilled = 0  # tables written to spill_dir so far (their file names)
        self._claim = start  # next window a worker takes
        self._hand = start  # first window not yet fully handed to the consumer
        self._open = start  # windows before this one are handed over interleaved (open_until)
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

    def _must_wait(self, index: int, rows: int) -> bool:
        """Whether a table of `rows` rows of window `index` finds no room (the lock is held). The window
        being handed over waits only while rows of its own are queued (the consumer is taking those), so
        later windows filling the feed can never block it; an open window is taken as it arrives."""
        return bool(
            rows
            and self._rows >= self._max_rows
            and not self._closed
            and index >= self._open
            and (index != self._hand or self._items.get(index))
        )

    def _put(self, index: int, item: Any, rows: int) -> None:
        if self._spill_dir is not None and isinstance(item, pa.Table):
            with self._cond:
                spill = self._must_wait(index, rows)
                self._spilled += spill
                name = self._spilled
            if spill:  # written outside the lock: the consumer goes on meanwhile
                path = os.path.join(self._spill_dir, f"{index}-{name}.arrow")
                with pa_ipc.new_file(path, item.schema) as writer:
                    writer.write_table(item)
                item, rows = _Spilled(path, item.num_rows), 0
        with self._cond:
            while self._must_wait(index, rows):
                self._cond.wait()
            if self._closed:
                raise _Closed
            self._items.setdefault(index, deque()).append((item, rows))
            self._rows += rows
            if isinstance(item, WindowDone):
                self._complete[index] = item.rows  # its tables may be taken already (an open window)
            elif not _holds_rows(item):
                self._complete[index] = sum(r for _, r in self._items[index])
            self._cond.notify_all()

    def window_rows(self, index: int) -> int:
        """Rows of window `index` once fully fetched (0 after a failure), to size a commit.

        When the feed is full before the window is (nobody consumes while this waits, so waiting for the
        rest would deadlock), its size is not known yet, only that it is more than is queued of it: it
        counts as a full feed, so a commit sized by it takes few windows (memory stays bounded). A feed
        that spills never deadlocks: it waits for the window's exact size."""
        with self._cond:
            while index not in self._complete and index >= self._hand and not self._closed:
                if not any(t.is_alive() for t in self._threads):
                    return sum(rows for _, rows in self._items.get(index, ()))
                if self._spill_dir is None and self._rows >= self._max_rows:
                    return max(self._max_rows, sum(rows for _, rows in self._items.get(index, ())))
                self._cond.wait(timeout=1.0)
            return self._complete.get(index, 0)

    def open_until(self, stop: int) -> None:
        """Hand windows before `stop` over as they arrive (interleaved); their workers never wait for room."""
        with self._cond:
            self._open = max(self._open, stop)
            self._cond.notify_all()

    def _next_index(self) -> int | None:
        """The window whose next item is handed over: the window in turn, else the first open window with a
        table ready (markers and failures come from the window in turn only, so in window order)."""
        if self._items.get(self._hand):
            return self._hand
        for index in range(self._hand + 1, self._open):
            queued = self._items.get(index)
            if queued and _holds_rows(queued[0][0]):
                return index
        return None

    def get(self) -> pa.Table | WindowDone:
        """The next table or window marker (in window order, or interleaved among open windows); raises the
        producer's error in its turn."""
        with self._cond:
            while (index := self._next_index()) is None:
                if not any(t.is_alive() for t in self._threads):
                    raise RuntimeError("the window feed stopped without handing over its windows")
                self._cond.wait(timeout=1.0)
            item, rows = self._items[index].popleft()
            self._rows -= rows
            if not _holds_rows(item):
                del self._items[index]
                self._complete.pop(index, None)
                self._hand += 1
                if self._hand >= self._stop and self._spill_dir is not None:
                    # The last window is handed over: a source run without close() leaves no folder.
                    shutil.rmtree(self._spill_dir, ignore_errors=True)
            self._cond.notify_all()
        if isinstance(item, BaseException):
            raise item
        if isinstance(item, _Spilled):
            with pa_ipc.open_file(item.path) as reader:
                table = reader.read_all()
            os.unlink(item.path)
            return table
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
        if self._spill_dir is not None:
            shutil.rmtree(self._spill_dir, ignore_errors=True)
