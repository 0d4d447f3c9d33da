"""Edges of the report: empty period, one queue, a PT30M zone, a DST change, 500 queues, failures."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
import raw_fixture
from report_harness import (
    buckets_between,
    expected_status,
    fmt2,
    open_report,
    period_rows,
    profile_rows,
    report_in_process,
    run_report,
    write_raw,
)

from benchmarks.synthetic_raw import create_synthetic_raw
from reporting.report import write_atomically


def _assert_table_matches_mart(page, db_path: Path) -> None:
    expected = {(r["queue_id"], r["media_type"]): r for r in period_rows(db_path)}
    rows = page.locator("#compliance-table tbody tr")
    assert rows.count() == len(expected)
    for i in range(rows.count()):
        row = rows.nth(i)
        queue_id = row.get_attribute("data-queue-id")
        cells = row.locator("td").all_inner_texts()
        mart = expected[(queue_id, cells[1])]
        expected_cells = [fmt2(mart["service_level_pct"]), fmt2(mart["target_pct"]), expected_status(mart)]
        assert cells[2:5] == expected_cells


def test_empty_period_gives_a_no_data_report_not_an_error(tmp_path: Path, browser_context) -> None:
    db_path = tmp_path / "genesys.duckdb"
    raw_fixture.write_raw_tables(str(db_path), raw_fixture.make_buckets())
    run, html = report_in_process(db_path, tmp_path, "--start", "2027-01-01", "--end", "2027-01-31")
    assert run.returncode == 0, run.stderr
    with open_report(browser_context, html, wait_for_charts=False) as report:
        page = report.page
        page.screenshot(path=tmp_path / "empty.png", full_page=True)
        assert page.locator("#no-data h2").inner_text() == "No data for this period"
        assert page.locator("#meta-period").inner_text() == "2027-01-01 .. 2027-01-31"
        assert page.locator("#compliance-table").count() == 0
        assert report.console_errors == []
        assert report.foreign_requests() == []


def test_one_queue(tmp_path: Path, browser_context) -> None:
    db_path = tmp_path / "genesys.duckdb"
    buckets = [b for b in raw_fixture.make_buckets() if (b.queue_id, b.media_type) == ("q-support", "voice")]
    raw_fixture.write_raw_tables(str(db_path), buckets)
    run, html = report_in_process(db_path, tmp_path)
    assert run.returncode == 0, run.stderr
    with open_report(browser_context, html) as report:
        page = report.page
        page.screenshot(path=tmp_path / "one-queue.png", full_page=True)
        _assert_table_matches_mart(page, db_path)
        assert page.locator("#compliance-table tbody tr").count() == 1
        assert page.locator("[data-tile=meeting] .value").inner_text() in ("0 of 1", "1 of 1")
        assert page.locator("#heatmap-chart svg .mark-rect.role-mark path").count() > 0
        assert report.console_errors == []


def test_half_hour_zone_at_pt30m_shows_half_hour_slots(tmp_path: Path, browser_context) -> None:
    db_path = tmp_path / "genesys.duckdb"
    step = timedelta(minutes=30)
    first = datetime(2026, 3, 1, 18, 30, tzinfo=UTC)  # 2026-03-02 00:00 in Kolkata (UTC+5:30)
    buckets = buckets_between(first, first + timedelta(days=2) - step, step, [("q-sales", "voice")])
    write_raw(db_path, buckets, step)
    run, html = report_in_process(db_path, tmp_path, "--report-tz", "Asia/Kolkata")
    assert run.returncode == 0, run.stderr
    times = {str(r["local_time_of_day"])[:5] for r in profile_rows(db_path)}
    assert "09:30" in times and "09:00" in times  # half-hour slots, not hours
    with open_report(browser_context, html) as report:
        page = report.page
        page.screenshot(path=tmp_path / "kolkata.png", full_page=True)
        assert page.locator("#meta-zone").inner_text() == "Asia/Kolkata"
        assert page.locator("#meta-granularity").inner_text() == "PT30M"
        assert page.locator("#meta-period").inner_text() == "2026-03-02 .. 2026-03-03"
        _assert_table_matches_mart(page, db_path)
        with_sl = [r for r in profile_rows(db_path) if r["service_level_pct"] is not None]
        assert page.locator("#heatmap-chart svg .mark-rect.role-mark path").count() == len(with_sl)
        labels = page.locator("#heatmap-chart svg .role-axis-label text").all_text_contents()
        assert "09:30" in labels
        assert report.console_errors == []


def test_period_spanning_new_york_spring_forward(tmp_path: Path, browser_context) -> None:
    db_path = tmp_path / "genesys.duckdb"
    first = datetime(2026, 3, 7, 5, tzinfo=UTC)  # 2026-03-07 00:00 EST
    last = datetime(2026, 3, 10, 3, tzinfo=UTC)  # 2026-03-09 23:00 EDT
    buckets = buckets_between(first, last, timedelta(hours=1), [("q-sales", "voice"), ("q-support", "voice")])
    write_raw(db_path, buckets)
    run, html = report_in_process(
        db_path, tmp_path, "--report-tz", "America/New_York", "--start", "2026-03-07", "--end", "2026-03-09"
    )
    assert run.returncode == 0, run.stderr
    with duckdb.connect(str(db_path), read_only=True) as con:
        # the spring-forward day is the 23 hours 05:00Z .. 04:00Z(+1): exactly its buckets carry its date
        misplaced = con.execute(
            """
            select count(*) from main.fct_queue_intervals
            where (report_date = '2026-03-08') <> (
                interval_start >= timestamptz '2026-03-08 05:00:00+00'
                and interval_start < timestamptz '2026-03-09 04:00:00+00'
            )
            """
        ).fetchone()[0]
    assert misplaced == 0
    sunday = {str(r["local_time_of_day"])[:5] for r in profile_rows(db_path) if r["local_weekday"] == 7}
    assert "02:00" not in sunday and {"01:00", "03:00"} <= sunday
    with open_report(browser_context, html) as report:
        page = report.page
        page.screenshot(path=tmp_path / "dst.png", full_page=True)
        assert page.locator("#meta-period").inner_text() == "2026-03-07 .. 2026-03-09"
        _assert_table_matches_mart(page, db_path)
        assert page.locator("#daily-chart svg .mark-symbol.role-mark path").count() == 3
        assert report.console_errors == []


def test_500_queues_stay_usable(tmp_path: Path, browser_context) -> None:
    db_path = tmp_path / "genesys.duckdb"
    create_synthetic_raw(db_path, queues=500, days=3, first_day=datetime(2026, 3, 1).date())
    run, html = report_in_process(db_path, tmp_path)
    assert run.returncode == 0, run.stderr
    assert html.stat().st_size <= 5 * 1024 * 1024
    with open_report(browser_context, html) as report:
        page = report.page
        assert page.locator("#compliance-table tbody tr").count() == 1000
        assert page.locator("#queue-select option").count() == 1000
        # the table scrolls inside its box instead of pushing the charts 1000 rows down
        scroll = page.locator(".table-scroll").evaluate("el => [el.scrollHeight, el.clientHeight]")
        assert scroll[0] > scroll[1] and scroll[1] <= 600
        key = page.locator("#queue-select option").nth(617).get_attribute("value")
        page.select_option("#queue-select", key)
        page.wait_for_selector(f'html[data-charts="{key}"]', state="attached")
        assert page.locator("#heatmap-chart svg .mark-rect.role-mark path").count() > 0
        page.screenshot(path=tmp_path / "500-queues.png")
        _assert_table_matches_mart(page, db_path)
        assert report.console_errors == []


def test_missing_database_exits_2_with_one_line_and_writes_nothing(tmp_path: Path) -> None:
    db_path = tmp_path / "genesys.duckdb"
    run, html = run_report(db_path, tmp_path, "--no-build")
    assert run.returncode == 2
    assert run.stderr.startswith("error: ") and len(run.stderr.strip().splitlines()) == 1
    assert not html.exists() and not db_path.exists()


def test_unbuilt_marts_exit_2_naming_make_build(tmp_path: Path) -> None:
    db_path = tmp_path / "genesys.duckdb"
    raw_fixture.write_raw_tables(str(db_path), raw_fixture.make_buckets())
    run, html = run_report(db_path, tmp_path, "--no-build")
    assert run.returncode == 2
    assert "run 'make build'" in run.stderr and len(run.stderr.strip().splitlines()) == 1
    assert not html.exists()


def test_a_failed_write_keeps_the_previous_report_and_leaves_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "reports" / "service-level.html"
    write_atomically(target, "<p>previous</p>")
    with pytest.raises(TypeError):
        write_atomically(target, None)  # type: ignore[arg-type]  # fails half-way, inside the write
    assert target.read_text() == "<p>previous</p>"
    assert os.listdir(target.parent) == ["service-level.html"]
    assert oct(target.stat().st_mode & 0o777) == oct(0o666 & ~_umask())


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
