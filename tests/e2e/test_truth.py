"""End-to-end truth: simulator -> `python -m loader` -> dbt build -> CSV, against figures computed by hand.

Every row of fct_queue_sla_daily and fct_queue_sla_period is compared with tests/e2e/truth.py, which
works from the simulator's own per-bucket ground truth in plain Python.
"""

from __future__ import annotations

import csv
import math
import os
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from simulator import SIMULATOR_ORG_ID, Simulator
from tests.e2e.conftest import REPO_ROOT, Workspace, make_workspace, ok
from tests.e2e.truth import expected_daily, expected_period, local_day_bounds

pytestmark = pytest.mark.e2e

RAW_COLUMNS = (
    "queue_id, media_type, interval_start, interval_end, offered_count, answered_count, answered_ms_sum, "
    "abandoned_count, abandoned_ms_sum, short_abandoned_count, flow_out_count, handled_count, handle_ms_sum, "
    "wait_count, wait_ms_sum, over_sla_count, sl_numerator, sl_denominator, sl_target_ratio"
)
FLOAT_COLUMNS = ("service_level_pct", "answer_rate_pct", "abandon_rate_pct", "asa_seconds", "aht_seconds")
EXACT_COLUMNS = (
    "offered",
    "answered",
    "abandoned",
    "short_abandoned",
    "flow_outs",
    "handled",
    "sl_numerator",
    "sl_denominator",
    "target_met",
    "intervals_below_target",
)


def utc_range(first: date, last: date, report_tz: str) -> tuple[datetime, datetime]:
    zone = ZoneInfo(report_tz)
    return local_day_bounds(first, zone)[0], local_day_bounds(last, zone)[1]


def truth_rows(
    sim: Simulator, first: date, last: date, report_tz: str, granularity: str = "PT1H"
) -> list[dict]:
    start, end = utc_range(first, last, report_tz)
    return sim.ground_truth(start, end, granularity)


def raw_rows(ws: Workspace) -> list[dict]:
    return ws.rows(
        f"select {RAW_COLUMNS} from genesys_raw.queue_intervals order by queue_id, media_type, interval_start"
    )


def assert_raw_equals_truth(ws: Workspace, truth: list[dict]) -> None:
    """Every bucket loaded exactly once, with exactly the simulator's figures (NULL where the API omits)."""
    raw = raw_rows(ws)
    keys = [(r["queue_id"], r["media_type"], r["interval_start"]) for r in raw]
    assert len(keys) == len(set(keys)), "duplicate buckets in genesys_raw.queue_intervals"
    expected = sorted(truth, key=lambda r: (r["queue_id"], r["media_type"], r["interval_start"]))
    assert len(raw) == len(expected)
    for got, want in zip(raw, expected, strict=True):
        assert got == want


def _close(got: float | None, want: float | None) -> bool:
    if got is None or want is None:
        return got is None and want is None
    return math.isclose(got, want, rel_tol=1e-12, abs_tol=1e-12)


def assert_figures(got: dict, want: dict, where: str) -> None:
    for column in EXACT_COLUMNS:
        if column in want:
            assert got[column] == want[column], f"{where}: {column} {got[column]!r} != {want[column]!r}"
    for column in FLOAT_COLUMNS:
        assert _close(got[column], want[column]), f"{where}: {column} {got[column]!r} != {want[column]!r}"
    assert _close(got["target_pct"], want["target_pct"]), f"{where}: target_pct"


def assert_marts_equal_truth(ws: Workspace, truth: list[dict], report_tz: str) -> None:
    daily_expected = expected_daily(truth, report_tz)
    daily = ws.rows("select * from main.fct_queue_sla_daily")
    got_keys = {(r["queue_id"], r["media_type"], r["report_date"]) for r in daily}
    assert got_keys == set(daily_expected)
    for row in daily:
        key = (row["queue_id"], row["media_type"], row["report_date"])
        assert row["org_id"] == SIMULATOR_ORG_ID
        assert_figures(row, daily_expected[key], f"daily {key}")

    period_expected = expected_period(truth, report_tz)
    period = ws.rows("select * from main.fct_queue_sla_period")
    assert {(r["queue_id"], r["media_type"]) for r in period} == set(period_expected)
    for row in period:
        key = (row["queue_id"], row["media_type"])
        want = period_expected[key]
        assert_figures(row, want, f"period {key}")
        assert row["days_below_target"] == want["days_below_target"], f"period {key}: days_below_target"


def load_and_build(ws: Workspace, first: date, last: date, report_tz: str, *load_args: str) -> None:
    """The loader CLI as a subprocess, then the build in-process: these scenarios check the data; the CLI's
    own build runs in test_fourteen_utc_days_match_ground_truth_through_csv and tests/e2e/test_secrets.py."""
    dates = ("--start", first.isoformat(), "--end", last.isoformat(), "--report-tz", report_tz)
    ok(ws.load(*dates, *load_args))
    ok(ws.build_in_process(*dates))


def test_fourteen_utc_days_match_ground_truth_through_csv(sim: Simulator, workspace: Workspace) -> None:
    first, last = date(2026, 11, 1), date(2026, 11, 14)
    dates = ("--start", first.isoformat(), "--end", last.isoformat(), "--report-tz", "UTC")
    ok(workspace.load(*dates))
    ok(workspace.build(*dates))  # `python -m reporting build` itself, as `make build` runs it
    truth = truth_rows(sim, first, last, "UTC")
    assert_raw_equals_truth(workspace, truth)
    assert_marts_equal_truth(workspace, truth, "UTC")

    ok(workspace.export("--no-build"))
    with (workspace.exports_dir / "fct_queue_sla_daily.csv").open(newline="") as handle:
        exported = list(csv.DictReader(handle))
    expected = expected_daily(truth, "UTC")
    assert len(exported) == len(expected)
    for row in exported:
        want = expected[(row["queue_id"], row["media_type"], date.fromisoformat(row["report_date"]))]
        sl = want["service_level_pct"]
        if sl is None:
            assert row["service_level_pct"] == ""
        else:  # rounded to 2 decimals in the CSV only
            assert len(row["service_level_pct"].partition(".")[2]) <= 2
            assert abs(float(row["service_level_pct"]) - sl) <= 0.005 + 1e-9


@pytest.mark.parametrize(
    ("first", "last", "dst_day", "hours"),
    [
        (date(2026, 10, 25), date(2026, 11, 7), date(2026, 11, 1), 25),
        (date(2026, 3, 1), date(2026, 3, 14), date(2026, 3, 8), 23),
    ],
    ids=["fall-back", "spring-forward"],
)
def test_new_york_dst_fortnights_match_ground_truth(
    sim: Simulator, workspace: Workspace, first: date, last: date, dst_day: date, hours: int
) -> None:
    tz = "America/New_York"
    load_and_build(workspace, first, last, tz)
    truth = truth_rows(sim, first, last, tz)
    assert_raw_equals_truth(workspace, truth)
    assert_marts_equal_truth(workspace, truth, tz)
    # the DST day is cut at local midnights: its buckets span 23 or 25 hours
    day_start, day_end = local_day_bounds(dst_day, ZoneInfo(tz))
    assert (day_end - day_start) == timedelta(hours=hours)
    hours_in_mart = workspace.rows(
        "select count(distinct interval_start) as n from main.fct_queue_intervals"
        f" where report_date = '{dst_day}'"
    )[0]["n"]
    assert hours_in_mart == len(
        {r["interval_start"] for r in truth if day_start <= r["interval_start"] < day_end}
    )


def test_kolkata_at_pt30m_matches_and_pt1h_is_refused(sim: Simulator, workspace: Workspace) -> None:
    tz, first, last = "Asia/Kolkata", date(2026, 11, 2), date(2026, 11, 8)
    refused = workspace.load("--start", first.isoformat(), "--end", last.isoformat(), "--report-tz", tz)
    assert refused.returncode == 2
    assert "PT30M" in refused.stderr
    assert not workspace.db_path.exists() or not workspace.rows(
        "select table_name from information_schema.tables where table_schema = 'genesys_raw'"
        " and table_name = 'queue_intervals'"
    )

    load_and_build(workspace, first, last, tz, "--granularity", "PT30M")
    truth = truth_rows(sim, first, last, tz, "PT30M")
    assert_raw_equals_truth(workspace, truth)
    assert_marts_equal_truth(workspace, truth, tz)


def test_deleted_and_new_queues_keep_names_and_history(sim: Simulator, workspace: Workspace) -> None:
    tz, first, last = "America/New_York", date(2026, 3, 1), date(2026, 3, 14)
    by_name = {q.name: q for q in sim.org.queues}
    legacy, concierge = by_name["Legacy Billing"], by_name["Chat Concierge"]
    # first load while Legacy Billing still exists, second after it was deleted
    sim.clock.set(datetime(2026, 3, 9, tzinfo=UTC))
    ok(workspace.load("--start", first.isoformat(), "--end", "2026-03-08", "--report-tz", tz))
    sim.clock.set(datetime(2026, 3, 20, tzinfo=UTC))
    load_and_build(workspace, first, last, tz)

    truth = truth_rows(sim, first, last, tz)
    assert_raw_equals_truth(workspace, truth)
    assert_marts_equal_truth(workspace, truth, tz)
    queues = {r["queue_id"]: r for r in workspace.rows("select * from main.dim_queues")}
    assert queues[legacy.id]["queue_name"] == "Legacy Billing"
    assert queues[legacy.id]["is_deleted"] is True
    assert queues[concierge.id]["is_deleted"] is False
    concierge_days = workspace.rows(
        "select min(report_date) as first_day from main.fct_queue_sla_daily"
        f" where queue_id = '{concierge.id}'"
    )[0]["first_day"]
    assert concierge_days == concierge.created_at.astimezone(ZoneInfo(tz)).date()
    legacy_last = workspace.rows(
        f"select max(interval_start) as last from main.fct_queue_intervals where queue_id = '{legacy.id}'"
    )[0]["last"]
    assert legacy_last < legacy.deleted_at

    active = ok(
        workspace.build_in_process(
            "--start", first.isoformat(), "--end", last.isoformat(), "--report-tz", tz, "--active-queues-only"
        )
    )
    assert active.returncode == 0
    ids = {r["queue_id"] for r in workspace.rows("select distinct queue_id from main.fct_queue_sla_period")}
    assert legacy.id not in ids and concierge.id in ids


def test_fault_storm_loses_and_duplicates_nothing(sim: Simulator, workspace: Workspace) -> None:
    first, last = date(2026, 10, 1), date(2026, 10, 20)
    sim.faults.token_lifetime_s = 300
    sim.faults.schedule = {
        2: "429",
        3: "429-no-retry-after",
        5: "503",
        6: "504",
        8: "drop",
        9: "502",
        11: "429",
        14: "drop",
        16: "503",
    }
    workspace.env.update(SOURCES__GENESYS__BACKOFF_BASE_S="0.05", SOURCES__GENESYS__BACKOFF_CAP_S="1")
    tokens_before = len(sim.issued_tokens)
    stop = threading.Event()

    def disturb() -> None:
        """Mid-run: move the simulator clock past the 300 s token lifetime, later revoke every token."""
        deadline = time.monotonic() + 120
        step = 0
        tokens_at_expiry = 0
        while not stop.is_set() and time.monotonic() < deadline:
            api_calls = sum(1 for r in sim.requests if r.path.startswith("/api/v2/analytics"))
            if step == 0 and api_calls >= 7:
                tokens_at_expiry = len(sim.issued_tokens)
                sim.clock.advance(timedelta(seconds=400))
                step = 1
            elif step == 1 and len(sim.issued_tokens) > tokens_at_expiry:
                # Revoke once the newest token has served 3 requests of its own: a revocation racing the
                # renewal would revoke a token before it ever worked (a credentials failure, rightly).
                newest, _ = sim.tokens.check(sim.issued_tokens[-1], sim.clock.now())
                if newest is not None and newest.requests >= 3:
                    sim.revoke_all_tokens()
                    step = 2
            time.sleep(0.01)

    sim.faults.latency_s = 0.05
    watcher = threading.Thread(target=disturb, daemon=True)
    watcher.start()
    dates = ("--start", first.isoformat(), "--end", last.isoformat())
    try:
        loaded = ok(workspace.load(*dates))
    finally:
        stop.set()
        watcher.join(timeout=5)
    ok(workspace.build_in_process(*dates))
    assert len(sim.issued_tokens) - tokens_before >= 3, "expected new tokens after expiry and revocation"
    summary = re.search(r"retries (\d+), re-auths (\d+)", loaded.stdout)
    assert summary, loaded.stdout
    assert int(summary.group(1)) >= 6, "each injected 429/5xx/drop should have been retried"
    assert int(summary.group(2)) >= 2, "token expiry and revocation should each force one re-authentication"
    truth = truth_rows(sim, first, last, "UTC")
    assert_raw_equals_truth(workspace, truth)
    assert_marts_equal_truth(workspace, truth, "UTC")


def test_killed_backfill_rerun_is_complete(sim: Simulator, workspace: Workspace) -> None:
    first, last = date(2026, 9, 1), date(2026, 9, 30)
    args = ["-m", "loader", "--start", first.isoformat(), "--end", last.isoformat()]
    sim.faults.latency_s = 0.15
    workspace.env["SOURCES__GENESYS__COMMIT_ROWS"] = "1500"
    proc = subprocess.Popen(
        [sys.executable, *args],
        cwd=REPO_ROOT,
        env=workspace.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if sum(1 for r in sim.requests if r.path.startswith("/api/v2/analytics")) >= 15:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the load finished before it could be killed; slow the simulator further"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    sim.faults.latency_s = 0.0

    load_and_build(workspace, first, last, "UTC")
    truth = truth_rows(sim, first, last, "UTC")
    assert_raw_equals_truth(workspace, truth)
    assert_marts_equal_truth(workspace, truth, "UTC")


def test_late_metrics_are_corrected_by_the_lookback(sim: Simulator, workspace: Workspace) -> None:
    first_now = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)
    later_now = first_now + timedelta(hours=9)
    workspace.env["SOURCES__GENESYS__INITIAL_DAYS"] = "3"
    sim.clock.set(first_now)
    ok(workspace.load("--now", first_now.isoformat()))
    start = workspace.rows("select min(interval_start) as s from genesys_raw.queue_intervals")[0]["s"]
    partial = sim.ground_truth(start, first_now, "PT1H", as_of=first_now)
    assert_raw_equals_truth(workspace, partial)
    # built once on the partial figures, so the second build goes through the incremental path
    ok(workspace.build_in_process())
    assert_marts_equal_truth(workspace, partial, "UTC")
    final_then = sim.ground_truth(start, first_now, "PT1H")
    assert partial != final_then, "the simulator should report growing late buckets near its clock"

    sim.clock.set(later_now)
    ok(workspace.load("--now", later_now.isoformat()))
    ok(workspace.build_in_process())
    truth = sim.ground_truth(start, later_now, "PT1H", as_of=later_now)
    assert_raw_equals_truth(workspace, truth)
    # every bucket that was partial at the first load is final now
    final_keys = {(r["queue_id"], r["media_type"], r["interval_start"]): r for r in final_then}
    loaded = {(r["queue_id"], r["media_type"], r["interval_start"]): r for r in raw_rows(workspace)}
    assert all(loaded[key] == row for key, row in final_keys.items())
    assert_marts_equal_truth(workspace, truth, "UTC")


def test_async_jobs_and_sync_queries_give_identical_marts(sim: Simulator, tmp_path) -> None:
    first, last = date(2026, 8, 1), date(2026, 8, 10)
    sync_ws = make_workspace(sim, tmp_path, "sync")
    async_ws = make_workspace(sim, tmp_path, "async")
    load_and_build(sync_ws, first, last, "UTC")
    sim.reset_counters()
    load_and_build(async_ws, first, last, "UTC", "--async-jobs")
    assert any(r.path.endswith("/aggregates/jobs") for r in sim.requests), "the async path was not used"
    assert not any(r.path.endswith("/aggregates/query") for r in sim.requests)
    for table in ("genesys_raw.queue_intervals", "main.fct_queue_sla_daily", "main.fct_queue_sla_period"):
        columns = RAW_COLUMNS if table.startswith("genesys_raw") else "* exclude (org_id)"
        query = f"select {columns} from {table} order by all"
        assert sync_ws.rows(query) == async_ws.rows(query), table


def test_reload_at_another_granularity_rebuilds_the_marts_exactly(
    sim: Simulator, workspace: Workspace
) -> None:
    first, last = date(2026, 11, 2), date(2026, 11, 4)
    load_and_build(workspace, first, last, "UTC")
    # PT1H -> PT30M: the incremental fact must not keep the hourly buckets beside the half-hours
    load_and_build(workspace, first, last, "UTC", "--granularity", "PT30M", "--full-refresh")
    truth = truth_rows(sim, first, last, "UTC", "PT30M")
    assert_raw_equals_truth(workspace, truth)
    assert_marts_equal_truth(workspace, truth, "UTC")
    # back to PT1H over a shorter range: nothing of the longer PT30M load may remain
    shorter = date(2026, 11, 3)
    load_and_build(workspace, shorter, last, "UTC", "--granularity", "PT1H", "--full-refresh")
    truth = truth_rows(sim, shorter, last, "UTC")
    assert_raw_equals_truth(workspace, truth)
    assert_marts_equal_truth(workspace, truth, "UTC")
    assert workspace.rows("select count(*) as n from main.fct_queue_intervals")[0]["n"] == len(truth)
