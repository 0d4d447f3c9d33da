"""Loads against the simulator over HTTP equal its ground truth: DST days, odd offsets, re-runs,
incremental cursor and lookback, async jobs, queues history."""

from __future__ import annotations

import json
import shutil
import tempfile
from datetime import UTC, date, datetime, timedelta

import duckdb
import pytest

from loader.errors import ConfigError
from loader.pipeline import pipelines_dir_for
from loader.windows import local_dates_to_utc, parse_timezone
from tests.loader.conftest import CLOCK, aggregate_requests, interval_rows, load, query

pytestmark = pytest.mark.timeout(120)


def truth(sim, start_date, end_date, tz="UTC", granularity="PT1H", **kw):
    start, end = local_dates_to_utc(start_date, end_date, parse_timezone(tz), granularity)
    return sim.ground_truth(start, end, granularity, **kw)


def test_spring_forward_week_equals_ground_truth_and_rerun_is_idempotent(sim, db):
    summary = load(sim, db, start="2026-03-07", end="2026-03-09", report_tz="America/New_York")
    expected = truth(sim, date(2026, 3, 7), date(2026, 3, 9), "America/New_York")
    assert expected and interval_rows(db) == expected
    assert summary.rows["queue_intervals"] == len(expected)
    assert summary.windows == 3 and summary.org_id == "simulator"
    # 2026-03-08 in New York is 23 hours: the second window, one request.
    # (windows are fetched side by side, so the requests arrive in any order)
    intervals = sorted(json.loads(r.body)["interval"] for r in aggregate_requests(sim))
    assert len(intervals) == 3
    assert intervals[1] == "2026-03-08T05:00:00.000Z/2026-03-09T04:00:00.000Z"
    again = load(sim, db, start="2026-03-07", end="2026-03-09", report_tz="America/New_York")
    assert interval_rows(db) == expected  # merged, never duplicated
    assert again.rows["queue_intervals"] == len(expected)
    assert query(db, "select count(distinct _dlt_load_id), count(*) from genesys_raw.queue_intervals") == [
        (1, len(expected))
    ]


def test_fall_back_day_is_25_hours(sim, db):
    load(sim, db, start="2026-11-01", end="2026-11-01", report_tz="America/New_York")
    rows = interval_rows(db)
    assert rows == truth(sim, date(2026, 11, 1), date(2026, 11, 1), "America/New_York")
    assert rows and min(r["interval_start"] for r in rows) >= datetime(2026, 11, 1, 4, tzinfo=UTC)
    (request,) = aggregate_requests(sim)
    assert json.loads(request.body)["interval"] == "2026-11-01T04:00:00.000Z/2026-11-02T05:00:00.000Z"


def test_kolkata_at_pt30m(sim, db):
    with pytest.raises(ConfigError, match="PT30M"):
        load(sim, db, start="2026-02-02", end="2026-02-03", report_tz="Asia/Kolkata")
    assert not db.exists()
    load(sim, db, start="2026-02-02", end="2026-02-03", report_tz="Asia/Kolkata", granularity="PT30M")
    expected = truth(sim, date(2026, 2, 2), date(2026, 2, 3), "Asia/Kolkata", "PT30M")
    assert interval_rows(db) == expected
    assert min(r["interval_start"] for r in expected) >= datetime(2026, 2, 1, 18, 30, tzinfo=UTC)
    # Granularity is pinned per dataset.
    with pytest.raises(ConfigError, match="--full-refresh"):
        load(sim, db, start="2026-02-02", end="2026-02-02")
    load(sim, db, start="2026-02-02", end="2026-02-02", full_refresh=True)
    assert interval_rows(db) == truth(sim, date(2026, 2, 2), date(2026, 2, 2))


def test_filters_restrict_the_query(sim, db):
    queue = sim.org.queues[0].id
    load(sim, db, start="2026-04-01", end="2026-04-01", queue_ids=[queue], media_types=["voice"])
    assert interval_rows(db) == truth(
        sim, date(2026, 4, 1), date(2026, 4, 1), queue_ids=[queue], media_types=["voice"]
    )
    # The queue listing stays complete.
    listed = [q for q in sim.org.queues if q.deleted_at is None or q.deleted_at > CLOCK]
    assert query(db, "select count(*) from genesys_raw.queues where name is not null")[0][0] == len(listed)


def test_reloading_an_older_range_or_a_subset_keeps_every_other_row(sim, db):
    load(sim, db, start="2026-04-01", end="2026-04-04")
    everything = truth(sim, date(2026, 4, 1), date(2026, 4, 4))
    assert interval_rows(db) == everything
    # An older sub-range, then one queue and medium only: the merge replaces these keys and nothing else.
    load(sim, db, start="2026-04-01", end="2026-04-02")
    assert interval_rows(db) == everything
    queue = sim.org.queues[0].id
    load(sim, db, start="2026-04-02", end="2026-04-03", queue_ids=[queue], media_types=["voice"])
    assert interval_rows(db) == everything
    ids = "select count(*), count(distinct _dlt_id), count(_dlt_id) from genesys_raw.queue_intervals"
    assert query(db, ids) == [(len(everything), len(everything), len(everything))]


def test_incremental_lookback_corrects_late_metrics_and_backfill_keeps_cursor(sim, db):
    settings = {"initial_days": 2, "lookback_hours": 12}
    first = load(sim, db, settings=settings)
    # whole days: from the midnight two days before the clock's date, not from 2 x 24 h ago
    assert (first.start, first.end) == (datetime(2026, 11, 18, tzinfo=UTC), CLOCK)
    as_of_first = sim.ground_truth(first.start, CLOCK, as_of=CLOCK)
    assert interval_rows(db) == as_of_first
    # Late metrics: 10 hours later the recent buckets have grown.
    sim.clock.advance(timedelta(hours=10))
    later = sim.clock.now()
    second = load(sim, db, settings=settings)
    assert (second.start, second.end) == (CLOCK - timedelta(hours=12), later)
    final = sim.ground_truth(first.start, later, as_of=later)
    assert interval_rows(db) == final
    assert final != sim.ground_truth(first.start, later, as_of=CLOCK)  # something really changed
    # An explicit older backfill does not move the cursor back.
    load(sim, db, settings=settings, start="2026-10-01", end="2026-10-01")
    third = load(sim, db, settings=settings)
    assert third.start == later - timedelta(hours=12)


def test_a_filtered_incremental_run_does_not_move_the_cursor_for_everyone(sim, db):
    settings = {"initial_days": 2, "lookback_hours": 6}
    load(sim, db, settings=settings)
    sim.clock.advance(timedelta(days=2))
    # One queue catches up; the others must not be skipped by the next full run.
    load(sim, db, settings=settings, queue_ids=[sim.org.queues[0].id])
    full = load(sim, db, settings=settings)
    assert full.start == CLOCK - timedelta(hours=6)
    assert interval_rows(db) == sim.ground_truth(
        datetime(2026, 11, 18, tzinfo=UTC), sim.clock.now(), as_of=sim.clock.now()
    )


def test_async_jobs_load_exactly_the_sync_rows(sim, db, tmp_path):
    sim.faults.job_delay_s = 0.05
    sim.faults.job_outcomes = ["FAILED", "EXPIRED"]
    summary = load(sim, db, start="2026-05-01", end="2026-05-06", async_jobs=True)
    assert summary.async_jobs
    submits = [r for r in sim.requests if r.method == "POST" and r.path.endswith("/aggregates/jobs")]
    assert len(submits) == 3  # FAILED and EXPIRED were resubmitted
    sync_db = tmp_path / "sync.duckdb"
    load(sim, sync_db, start="2026-05-01", end="2026-05-06")
    assert interval_rows(db) == interval_rows(sync_db) == truth(sim, date(2026, 5, 1), date(2026, 5, 6))


def test_queue_history_deleted_unlisted_and_target_changes(sim, db):
    sim.clock.set(datetime(2026, 5, 20, 12, tzinfo=UTC))
    load(sim, db, start="2026-03-01", end="2026-03-12")
    names = dict(query(db, "select queue_id, name from genesys_raw.queues"))
    legacy = next(q for q in sim.org.queues if q.name == "Legacy Billing")  # deleted 2026-03-10
    concierge = next(q for q in sim.org.queues if q.name == "Chat Concierge")  # created mid-range
    assert legacy.id in names and names[legacy.id] is None  # in analytics, never listed: NULL name
    assert names[concierge.id] == "Chat Concierge"
    # Holiday Overflow gets deleted later: it keeps its last name and an older last_seen_at.
    sim.clock.set(datetime(2026, 11, 10, 12, tzinfo=UTC))
    load(sim, db, start="2026-11-01", end="2026-11-02")
    rows = {
        r[0]: r[1:]
        for r in query(db, "select queue_id, name, first_seen_at, last_seen_at from genesys_raw.queues")
    }
    holiday = next(q for q in sim.org.queues if q.name == "Holiday Overflow")
    latest = max(r[2] for r in rows.values() if r[2] is not None)
    assert rows[holiday.id][0] == "Holiday Overflow" and rows[holiday.id][2] < latest
    assert rows[concierge.id][1] < rows[concierge.id][2]  # first_seen kept from the first listing
    # The target change of 2026-06-01 became a second scd2 version.
    sales = next(q for q in sim.org.queues if q.name == "Sales - Inbound")
    versions = query(
        db,
        "select target_ratio, _dlt_valid_to is null from genesys_raw.queue_service_level_targets "
        f"where queue_id = '{sales.id}' and media_type = 'voice' order by _dlt_valid_from",
    )
    assert [v[1] for v in versions] == [False, True] and versions[-1][0] == 0.85

    # --full-refresh reloads the buckets only: the deleted queue's name and the target history stay.
    targets_before = query(db, "select * from genesys_raw.queue_service_level_targets order by all")
    load(sim, db, start="2026-11-01", end="2026-11-02", granularity="PT30M", full_refresh=True)
    names = dict(query(db, "select queue_id, name from genesys_raw.queues"))
    assert names[holiday.id] == "Holiday Overflow"
    assert query(db, "select * from genesys_raw.queue_service_level_targets order by all") == targets_before
    assert interval_rows(db) == sim.ground_truth(
        datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 3, tzinfo=UTC), "PT30M"
    )


def test_a_database_holds_one_org(sim, db):
    load(sim, db, start="2026-04-02", end="2026-04-02")
    with duckdb.connect(str(db)) as con:  # as if an earlier load had come from another tenant
        con.execute("update genesys_raw.queues set org_id = 'another-org'")
    before = query(db, "select count(*) from genesys_raw.queue_intervals")
    with pytest.raises(ConfigError, match="holds data of org 'another-org'"):
        load(sim, db, start="2026-04-03", end="2026-04-03")
    assert query(db, "select count(*) from genesys_raw.queue_intervals") == before


def test_pipelines_dir_is_beside_the_database(sim, db):
    load(sim, db, start="2026-04-02", end="2026-04-02")
    assert pipelines_dir_for(db) == db.parent / ".dlt_pipelines" / db.name
    assert (pipelines_dir_for(db) / "genesys").is_dir()
    # The window feed's spill folder lives there during the load, and is gone after it.
    assert not list(pipelines_dir_for(db).glob("window-feed-*"))


def test_state_follows_the_database_file(sim, db):
    settings = {"initial_days": 1, "lookback_hours": 6}
    first = load(sim, db, settings=settings)
    assert first.start == datetime(2026, 11, 19, tzinfo=UTC)
    # dlt's local working dir lost: the cursor comes back from the state stored in DuckDB.
    shutil.rmtree(pipelines_dir_for(db))
    again = load(sim, db, settings=settings)
    assert again.start == CLOCK - timedelta(hours=6)
    # The database deleted (e.g. make clean): stale local state must not skip the first backfill.
    db.unlink()
    fresh = load(sim, db, settings=settings)
    assert fresh.start == datetime(2026, 11, 19, tzinfo=UTC)
    assert interval_rows(db) == sim.ground_truth(datetime(2026, 11, 19, tzinfo=UTC), CLOCK, as_of=CLOCK)


def test_source_used_directly_with_dlt_config(sim, tmp_path, monkeypatch):
    import dlt

    from loader.source import genesys

    for key, value in {
        "CLIENT_ID": sim.config.client_id,
        "CLIENT_SECRET": sim.config.client_secret,
        "API_BASE_URL": sim.base_url,
        "LOGIN_BASE_URL": sim.base_url,
        "INITIAL_DAYS": "2",
        "NOW": CLOCK.isoformat(),
    }.items():
        monkeypatch.setenv(f"SOURCES__GENESYS__{key}", value)
    db = tmp_path / "direct.duckdb"
    temp = tmp_path / "temp"  # where the window feed's spill folder goes
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    pipeline = dlt.pipeline(
        "genesys_direct",
        destination=dlt.destinations.duckdb(str(db)),
        dataset_name="genesys_raw",
        pipelines_dir=str(tmp_path / "pipelines"),
    )
    pipeline.run(genesys())
    assert interval_rows(db) == sim.ground_truth(datetime(2026, 11, 18, tzinfo=UTC), CLOCK, as_of=CLOCK)
    assert list(temp.iterdir()) == []  # nobody closes the run here: the feed removed its folder itself


def test_building_the_source_makes_no_network_call(sim, monkeypatch):
    from loader.source import genesys

    for key, value in {
        "CLIENT_ID": sim.config.client_id,
        "CLIENT_SECRET": sim.config.client_secret,
        "API_BASE_URL": sim.base_url,
        "LOGIN_BASE_URL": sim.base_url,
        "NOW": CLOCK.isoformat(),
    }.items():
        monkeypatch.setenv(f"SOURCES__GENESYS__{key}", value)
    source = genesys()
    assert sorted(source.resources) == ["queue_intervals", "queue_service_level_targets", "queues"]
    assert sim.requests == []  # no token, no org id, no queue listing until the pipeline runs
