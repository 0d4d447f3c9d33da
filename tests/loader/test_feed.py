"""WindowFeed hands windows over in order, stays within its row bound, and raises a failure in its turn."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pyarrow as pa
import pytest

from loader.feed import WindowDone, WindowFeed
from loader.source import row_ids

pytestmark = pytest.mark.timeout(30)


def _table(window: int, part: int, rows: int = 10) -> pa.Table:
    return pa.table({"window": [window] * rows, "part": [part] * rows})


def _drain(feed: WindowFeed, windows: int) -> list[tuple[int, int] | WindowDone]:
    items: list[tuple[int, int] | WindowDone] = []
    while sum(isinstance(i, WindowDone) for i in items) < windows:
        item = feed.get()
        items.append(item if isinstance(item, WindowDone) else (item["window"][0].as_py(), item.num_rows))
    return items


def test_windows_arrive_in_order_with_their_markers():
    def produce(index: int, done: WindowDone) -> Iterator[pa.Table]:
        done.calls, done.queue_ids = 1, {f"q{index}"}
        for part in range(index):  # window 0 has no rows
            yield _table(index, part)

    feed = WindowFeed(produce, 0, 3, max_rows=1000)
    try:
        items = _drain(feed, 3)
    finally:
        feed.close()
    assert items == [
        WindowDone(0, 0, 1, 0, {"q0"}),
        (1, 10),
        WindowDone(1, 10, 1, 0, {"q1"}),
        (2, 10),
        (2, 10),
        WindowDone(2, 20, 1, 0, {"q2"}),
    ]


def test_a_failure_is_raised_after_the_windows_before_it_and_ends_the_feed():
    produced: list[int] = []

    def produce(index: int, done: WindowDone) -> Iterator[pa.Table]:
        produced.append(index)
        if index == 2:
            raise RuntimeError("window 2 refused")
        yield _table(index, 0)

    feed = WindowFeed(produce, 0, 5, max_rows=1000)
    try:
        assert [i for i in _drain(feed, 2) if isinstance(i, WindowDone)] == [
            WindowDone(0, 10, 0, 0),
            WindowDone(1, 10, 0, 0),
        ]
        with pytest.raises(RuntimeError, match="window 2 refused"):
            feed.get()
    finally:
        feed.close()
    assert produced == [0, 1, 2]  # nothing after the failure was requested


def test_the_producer_waits_when_max_rows_are_unconsumed():
    produced = 0
    lock = threading.Lock()

    def produce(index: int, done: WindowDone) -> Iterator[pa.Table]:
        nonlocal produced
        for part in range(10):
            with lock:
                produced += 1
            yield _table(index, part)

    feed = WindowFeed(produce, 0, 1, max_rows=25)
    try:
        deadline = time.monotonic() + 5
        while produced < 4 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)
        # 3 tables (30 rows) are queued and the 4th waits for room: nothing more was built.
        assert produced == 4
        feed.get()
        deadline = time.monotonic() + 5
        while produced < 5 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert produced == 5
    finally:
        feed.close()


def test_row_ids_are_unique_non_null_strings():
    ids = row_ids(50_000)
    assert ids.type == pa.string() and ids.null_count == 0 and len(ids) == 50_000
    values = ids.to_pylist()
    assert len(set(values)) == 50_000
    assert {len(v) for v in values} == {16}
    assert row_ids(0).to_pylist() == []


def test_the_size_of_a_window_larger_than_the_feed_is_known_without_consuming_it():
    def produce(index: int, done: WindowDone) -> Iterator[pa.Table]:
        for part in range(10):  # 100 rows, four times what the feed holds
            yield _table(index, part)

    feed = WindowFeed(produce, 0, 2, max_rows=25, workers=2)
    try:
        assert feed.window_rows(0) >= 25  # returns instead of waiting for rows nobody takes
        assert len(_drain(feed, 2)) == 22  # and the windows still arrive whole, in order
    finally:
        feed.close()


def test_a_window_is_not_sized_by_its_first_rows_when_a_later_window_filled_the_feed():
    later_window_queued = threading.Event()

    def produce(index: int, done: WindowDone) -> Iterator[pa.Table]:
        if index == 0:
            yield _table(index, 0)
            later_window_queued.wait(5)  # window 1 fills the feed meanwhile
            for part in range(1, 10):
                yield _table(index, part)
        else:
            for part in range(2):  # 10 + 20 rows queued: the feed (25) is full
                yield _table(index, part)
            later_window_queued.set()

    feed = WindowFeed(produce, 0, 2, max_rows=25, workers=2)
    try:
        assert later_window_queued.wait(5)
        # 10 rows of window 0 are queued, but it is bigger than that: it counts as a full feed.
        assert feed.window_rows(0) >= 25
        assert len(_drain(feed, 2)) == 14
    finally:
        feed.close()


def test_open_windows_are_handed_over_as_they_arrive_and_never_wait_for_room():
    window_0_may_send = threading.Event()
    window_1_sent = threading.Event()

    def produce(index: int, done: WindowDone) -> Iterator[pa.Table]:
        if index == 0:
            window_0_may_send.wait(5)
        for part in range(4):  # 40 rows a window, more than the feed holds (25)
            yield _table(index, part)
        if index == 1:
            window_1_sent.set()

    feed = WindowFeed(produce, 0, 3, max_rows=25, workers=3)
    try:
        feed.open_until(2)
        # Window 0 sends nothing yet; window 1 is open: it queues all its rows without waiting for room,
        # and they are handed over before window 0's.
        assert window_1_sent.wait(5)
        assert [feed.get()["window"][0].as_py() for _ in range(4)] == [1, 1, 1, 1]
        window_0_may_send.set()
        assert [feed.get()["window"][0].as_py() for _ in range(4)] == [0, 0, 0, 0]
        # The markers still come in window order, window 0's first although window 1 finished first;
        # window 2 (not open) comes after them.
        assert feed.get() == WindowDone(0, 40, 0, 0)
        assert feed.get() == WindowDone(1, 40, 0, 0)
        assert [i for i in _drain(feed, 1) if isinstance(i, WindowDone)] == [WindowDone(2, 40, 0, 0)]
    finally:
        feed.close()


def test_a_failure_of_an_open_window_comes_after_the_windows_before_it():
    release = threading.Event()

    def produce(index: int, done: WindowDone) -> Iterator[pa.Table]:
        if index == 1:
            raise RuntimeError("window 1 refused")
        release.wait(5)
        yield _table(index, 0)

    feed = WindowFeed(produce, 0, 2, max_rows=1000, workers=2)
    try:
        feed.open_until(2)
        time.sleep(0.2)  # window 1 has failed by now; window 0 is still fetching
        release.set()
        assert feed.get()["window"][0].as_py() == 0
        assert feed.get() == WindowDone(0, 10, 0, 0)
        with pytest.raises(RuntimeError, match="window 1 refused"):
            feed.get()
    finally:
        feed.close()


def test_a_full_feed_spills_to_disk_instead_of_waiting(tmp_path):
    spill = tmp_path / "spill"
    spill.mkdir()
    window_1_sent = threading.Event()

    def produce(index: int, done: WindowDone) -> Iterator[pa.Table]:
        for part in range(5):  # 50 rows a window, twice what the feed holds in memory
            yield _table(index, part)
        if index == 1:
            window_1_sent.set()

    feed = WindowFeed(produce, 0, 2, max_rows=25, workers=2, spill_dir=str(spill))
    try:
        # Nobody consumes, nothing is open, yet window 1 is fetched whole: what has no room is on disk.
        assert window_1_sent.wait(5)
        assert len(list(spill.iterdir())) >= 5
        assert feed.window_rows(0) == 50  # the exact size: a spilling feed cannot deadlock
        items = _drain(feed, 2)
        assert items == [*[(0, 10)] * 5, WindowDone(0, 50, 0, 0), *[(1, 10)] * 5, WindowDone(1, 50, 0, 0)]
        assert not spill.exists()  # each file went once read back, the folder with the last window
    finally:
        feed.close()


def test_spilled_tables_come_back_in_their_order_with_their_values(tmp_path):
    def produce(index: int, done: WindowDone) -> Iterator[pa.Table]:
        for part in range(6):
            yield _table(index, part)

    feed = WindowFeed(produce, 0, 1, max_rows=15, spill_dir=str(tmp_path))
    try:
        time.sleep(0.2)
        parts = []
        while not isinstance(item := feed.get(), WindowDone):
            parts.append(item["part"].to_pylist())
    finally:
        feed.close()
    assert parts == [[part] * 10 for part in range(6)]
