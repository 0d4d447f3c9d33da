"""Exact windows: a re-pulled window replaces every row of its range in scope, a narrowed scope keeps its own
cursor, queue_ids go out in batches of <= 100 predicates, a filter 400 never splits, Lord_Howe is refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from loader.cli import main
from loader.errors import ConfigError, WindowError
from tests.loader.conftest import CLOCK, SEQUENTIAL, aggregate_requests, interval_rows, load

pytestmark = pytest.mark.timeout(120)
TWO_DAYS = (datetime(2026, 4, 1, tzinfo=UTC), datetime(2026, 4, 3, tzinfo=UTC))


def test_a_bucket_the_api_stopped_returning_disappears(sim, db):
    load(sim, db, start="2026-04-01", end="2026-04-02")
    queue = sim.org.queues[0]
    gone = (queue.id, next(iter(queue.media)))
    before = interval_rows(db)
    assert any((r["queue_id"], r["media_type"]) == gone for r in before)
    sim.faults.hidden_groups = {gone}
    load(sim, db, start="2026-04-01", end="2026-04-02")
    after = interval_rows(db)
    assert after == [r for r in sim.ground_truth(*TWO_DAYS) if (r["queue_id"], r["media_type"]) != gone]
    assert len(after) < len(before)


def test_rows_outside_the_scope_of_a_narrowed_reload_stay(sim, db):
    load(sim, db, start="2026-04-01", end="2026-04-02")
    queue = sim.org.queues[1]
    sim.faults.hidden_groups = {(queue.id, m) for m in queue.media}
    other = sim.org.queues[2]
    # a one-off reload of another queue: the hidden queue's rows are out of scope and stay
    load(sim, db, start="2026-04-01", end="2026-04-02", queue_ids=[other.id])
    sim.faults.hidden_groups = set()
    assert interval_rows(db) == sim.ground_truth(*TWO_DAYS)


def test_a_scope_narrowed_by_config_keeps_and_advances_its_own_cursor(sim, db):
    queue = sim.org.queues[0].id
    narrowed = {"queue_ids": [queue], "initial_days": 2, "lookback_hours": 0}
    whole_org = {"initial_days": 2, "lookback_hours": 0}
    first = load(sim, db, settings=narrowed)
    assert first.start == datetime(2026, 11, 18, tzinfo=UTC) and first.end == CLOCK
    sim.clock.advance(timedelta(hours=5))
    second = load(sim, db, settings=narrowed)
    assert second.start == CLOCK  # from its own cursor, not initial_days again
    # The whole org has no cursor yet: its first incremental load is the initial backfill.
    whole = load(sim, db, settings=whole_org)
    assert whole.start == datetime(2026, 11, 18, tzinfo=UTC)
    sim.clock.advance(timedelta(hours=2))
    # A one-off --queues load moves no cursor: the whole org's next load starts where it ended.
    load(sim, db, queue_ids=[queue], start="2026-11-20", end="2026-11-20")
    again = load(sim, db, settings=whole_org)
    assert again.start == CLOCK + timedelta(hours=5)
    # and the narrowed scope continues from its own cursor
    third = load(sim, db, settings=narrowed)
    assert third.start == CLOCK + timedelta(hours=5)


def test_queue_ids_go_out_in_batches_of_at_most_100_predicates(sim, db):
    sim.faults.max_filter_predicates = 100  # the server refuses more, as a filter 400
    real = [q.id for q in sim.org.queues]
    ids = real + [f"00000000-0000-0000-0000-{n:012d}" for n in range(250 - len(real))]
    load(sim, db, start="2026-04-01", end="2026-04-01", settings={"queue_ids": ids, "media_types": ["voice"]})
    bodies = [json.loads(r.body) for r in aggregate_requests(sim)]
    assert len(bodies) == 3  # 250 ids, 99 per query beside the one media predicate
    sent = []
    for body in bodies:
        queue_clause, media_clause = body["filter"]["clauses"]
        assert len(queue_clause["predicates"]) + len(media_clause["predicates"]) <= 100
        sent += [p["value"] for p in queue_clause["predicates"]]
    assert sorted(sent) == sorted(ids)
    assert interval_rows(db) == sim.ground_truth(
        datetime(2026, 4, 1, tzinfo=UTC), datetime(2026, 4, 2, tzinfo=UTC), media_types=["voice"]
    )


def test_a_filter_400_is_reported_as_such_and_never_splits_the_window(sim, db):
    sim.faults.max_filter_predicates = 1
    queues = [q.id for q in sim.org.queues[:2]]
    with pytest.raises(WindowError) as err:
        load(sim, db, start="2026-04-01", end="2026-04-02", settings={"queue_ids": queues, **SEQUENTIAL})
    message = str(err.value)
    assert "refused the query filter" in message and "queue_ids" in message and "\n" not in message
    assert message.startswith("window 2026-04-01T00:00:00.000Z/2026-04-02T00:00:00.000Z:")
    assert len(aggregate_requests(sim)) == 1  # no halves tried


def test_lord_howe_at_pt1h_is_refused_before_loading(sim, db, capsys):
    # Both ends at UTC+11 (daylight time); the range crosses UTC+10:30 in between.
    with pytest.raises(ConfigError, match="use --granularity PT30M") as err:
        load(sim, db, start="2026-03-30", end="2026-10-10", report_tz="Australia/Lord_Howe")
    assert "Australia/Lord_Howe" in str(err.value) and "UTC+10:30" in str(err.value)
    assert not db.exists() and not aggregate_requests(sim)
    code = main(["--start", "2026-03-30", "--end", "2026-10-10", "--report-tz", "Australia/Lord_Howe"])
    err_text = capsys.readouterr().err
    assert code == 2 and err_text.count("\n") == 1 and "use --granularity PT30M" in err_text
