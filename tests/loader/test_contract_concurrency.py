"""Contract checks under concurrent windows and in-order commits: a broken reply in a later window keeps
every window before it committed, writes nothing of its own and stops the cursor at its start; groups
without queueId are counted exactly while windows are parsed side by side."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest
from dlt.pipeline.state_sync import decompress_state

from loader.errors import LoaderError
from tests.loader.conftest import aggregate_requests, interval_rows, load, query

pytestmark = pytest.mark.timeout(180)

NOW = datetime(2026, 11, 20, tzinfo=UTC)
# Twelve one-day windows, three in flight, each committed on its own (commit_rows 1).
CONCURRENT = {"initial_days": 12, "max_concurrent_requests": 3, "commit_rows": 1}


def stored_cursor(db) -> str:
    (state,) = query(db, "select state from genesys_raw._dlt_pipeline_state order by version desc limit 1")[0]
    return decompress_state(state)["sources"]["genesys"]["cursor"]


def turn_hostile_after(sim, replies: int, mode: str) -> threading.Thread:
    """Break every aggregates reply built after the first `replies` ones (recorded once built)."""

    def watch() -> None:
        deadline = time.monotonic() + 60
        while len(aggregate_requests(sim)) < replies and time.monotonic() < deadline:
            time.sleep(0.002)
        sim.faults.hostile = (mode,)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def test_a_violation_in_a_later_window_keeps_the_windows_before_it(sim, db) -> None:
    sim.faults.latency_s = 0.05  # windows overlap in flight
    watcher = turn_hostile_after(sim, 3, "huge-count")
    with pytest.raises(LoaderError) as caught:
        load(sim, db, now=NOW, settings=CONCURRENT)
    watcher.join()
    message = str(caught.value)
    assert "breaks the API contract: nOffered.count" in message and "= 1e+30" in message
    assert "nothing of this window was written" in message
    # The window the error names: the first broken one in window order (never one of the first three).
    failed = message.split("the aggregates reply for window ", 1)[1].split("/", 1)[0]
    failed_start = datetime.fromisoformat(failed.replace("Z", "+00:00"))
    assert datetime(2026, 11, 11, tzinfo=UTC) <= failed_start < NOW
    # The cursor stops exactly at its start: every window before it was committed, none after it.
    assert datetime.fromisoformat(stored_cursor(db)) == failed_start
    rows = interval_rows(db)
    assert rows and all(row["interval_start"] < failed_start for row in rows)
    truth = sim.ground_truth(datetime(2026, 11, 8, tzinfo=UTC), failed_start)
    assert rows == truth

    # The next run (the API fixed) resumes from that window and completes the range.
    sim.faults.hostile = ()
    load(sim, db, now=NOW, settings=CONCURRENT)
    assert interval_rows(db) == sim.ground_truth(datetime(2026, 11, 8, tzinfo=UTC), NOW)


def test_groups_without_queue_id_are_counted_exactly_under_concurrency(sim, db) -> None:
    sim.faults.latency_s = 0.02
    sim.faults.hostile = ("no-queue-id",)
    summary = load(sim, db, now=NOW, settings={**CONCURRENT, "commit_rows": 250_000})
    replies = [r for r in aggregate_requests(sim) if r.status == 200]
    assert len(replies) == 12
    assert summary.groups_without_queue == 12  # one queue-less group per reply, none lost to a race
    assert f"skipped {len(replies)} result groups without a queueId" in summary.render()
    assert interval_rows(db) == sim.ground_truth(datetime(2026, 11, 8, tzinfo=UTC), NOW)
