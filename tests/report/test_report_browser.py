"""The report of the dbt fixture (UTC, PT1H) as a person sees it in Chromium: header, tiles, table, charts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest
import raw_fixture
from report_harness import expected_status, fmt2, open_report, period_rows, profile_rows, run_report

# a queue/media pair whose only conversations flowed out: offered but no SL denominator, so its SL is NULL
FLOW_OUTS_ONLY = raw_fixture.Bucket(
    "q-support", "message", raw_fixture.FIRST_BUCKET + timedelta(hours=10),
    3, None, None, None, None, 3, None, None, None, None, None, None,
)  # fmt: skip


@dataclass(frozen=True)
class Built:
    db_path: Path
    html: Path
    stdout: str


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """One load (the dbt fixture's raw tables) and one `python -m reporting report` for the whole module."""
    work_dir = tmp_path_factory.mktemp("report")
    db_path = work_dir / "genesys.duckdb"
    raw_fixture.write_raw_tables(str(db_path), [*raw_fixture.make_buckets(), FLOW_OUTS_ONLY])
    run, html = run_report(db_path, work_dir)
    assert run.returncode == 0, run.stderr
    return Built(db_path, html, run.stdout)


def _table(page) -> list[dict[str, str]]:
    headings = page.locator("#compliance-table thead th").all_inner_texts()
    rows = page.locator("#compliance-table tbody tr")
    return [
        dict(zip(headings, rows.nth(i).locator("td").all_inner_texts(), strict=True))
        for i in range(rows.count())
    ]


def test_prints_the_path_of_one_self_contained_file(built: Built) -> None:
    assert built.stdout.strip() == str(built.html.resolve())
    assert [p.name for p in built.html.parent.iterdir()] == ["service-level.html"]  # no temp file left
    text = built.html.read_text()
    assert "<script src" not in text and "<link" not in text and "@import" not in text


def test_table_shows_each_queues_period_sl_target_and_status_as_the_mart(
    built: Built, browser_context, tmp_path: Path
) -> None:
    expected = period_rows(built.db_path)
    with open_report(browser_context, built.html) as report:
        shown = _table(report.page)
        report.page.screenshot(path=tmp_path / "table.png", full_page=True)
        assert report.console_errors == []
        assert report.foreign_requests() == []
    assert len(shown) == len(expected) == 6
    by_queue = {(row["Queue"].replace("deleted", "").strip(), row["Media"]): row for row in shown}
    for row in expected:
        cells = by_queue[(row["queue_name"], row["media_type"])]
        assert cells["SL %"] == fmt2(row["service_level_pct"])
        assert cells["Target %"] == fmt2(row["target_pct"])
        assert cells["Status"] == expected_status(row)
        assert cells["Offered"] == f"{row['offered']:,}"
        assert cells["Queue"].endswith("deleted") == row["is_deleted"]
    # the fixture really exercises the colours, and a NULL SL shows as a dash with no status, never as 0
    assert {c["Status"] for c in shown} >= {"met", "missed", "no data"}
    no_sl = by_queue[("Support", "message")]
    assert (no_sl["SL %"], no_sl["Status"], no_sl["Offered"]) == ("–", "no data", "3")


def test_header_banner_and_tiles(built: Built, browser_context, tmp_path: Path) -> None:
    with duckdb.connect(str(built.db_path), read_only=True) as con:
        sl, offered, meeting, pairs = con.execute(
            "select 100 * sum(sl_numerator) / sum(sl_denominator), sum(offered), count_if(target_met),"
            " count(*) from main.fct_queue_sla_period"
        ).fetchone()
    with open_report(browser_context, built.html) as report:
        page = report.page
        page.screenshot(path=tmp_path / "header.png")
        assert page.locator("#simulated-banner").is_visible()
        assert "SIMULATED DATA" in page.locator("#simulated-banner").inner_text()
        assert page.locator("#meta-period").inner_text() == "2026-03-01 .. 2026-03-03"
        assert page.locator("#meta-zone").inner_text() == "UTC"
        assert page.locator("#meta-granularity").inner_text() == "PT1H"
        assert page.locator("#meta-last-bucket").inner_text() == "2026-03-04 00:00 UTC"
        assert page.locator("[data-tile=service-level] .value").inner_text() == f"{sl:.2f} %"
        assert page.locator("[data-tile=offered] .value").inner_text() == f"{offered:,}"
        assert page.locator("[data-tile=meeting] .value").inner_text() == f"{meeting} of {pairs}"
        assert "(1 without SL)" in page.locator("[data-tile=meeting] .sub").inner_text()
        assert report.console_errors == []


def test_charts_draw_the_selected_queue_and_follow_the_selector(
    built: Built, browser_context, tmp_path: Path
) -> None:
    profile = profile_rows(built.db_path)
    with duckdb.connect(str(built.db_path), read_only=True) as con:
        days = dict(
            con.execute(
                "select queue_id || '|' || media_type, count(service_level_pct) from main.fct_queue_sla_daily"
                " group by 1"
            ).fetchall()
        )
    with open_report(browser_context, built.html) as report:
        page = report.page
        keys = page.locator("#queue-select option").evaluate_all("options => options.map(o => o.value)")
        assert len(keys) == 6
        assert keys[-1] == "q-support|message"  # the pair without SL sorts last; it has nothing to colour
        for key in (keys[0], keys[-2]):
            page.select_option("#queue-select", key)
            page.wait_for_selector(f'html[data-charts="{key}"]', state="attached")
            queue_id, media = key.split("|")
            cells = [r for r in profile if (r["queue_id"], r["media_type"]) == (queue_id, media)]
            with_sl = [r for r in cells if r["service_level_pct"] is not None]
            assert with_sl
            # one rect per profile slot with an SL; one point per day with an SL; the SL and target lines
            assert page.locator("#heatmap-chart svg .mark-rect.role-mark path").count() == len(with_sl)
            assert page.locator("#daily-chart svg .mark-symbol.role-mark path").count() == days[key]
            assert page.locator("#daily-chart svg .mark-line.role-mark path").count() == 2
            page.screenshot(path=tmp_path / f"charts-{queue_id}-{media}.png", full_page=True)
        assert report.console_errors == []
        assert report.foreign_requests() == []


def test_sorting_and_row_click(built: Built, browser_context, tmp_path: Path) -> None:
    with open_report(browser_context, built.html) as report:
        page = report.page
        page.get_by_role("button", name="SL %").click()
        shown = [r["SL %"] for r in _table(page)]
        assert shown[-1] == "–"  # no SL sorts last, both ways
        ascending = [float(v) for v in shown[:-1]]
        assert ascending == sorted(ascending)
        page.get_by_role("button", name="SL %").click()
        shown = [r["SL %"] for r in _table(page)]
        assert shown[-1] == "–"
        assert [float(v) for v in shown[:-1]] == sorted(ascending, reverse=True)
        page.get_by_role("button", name="Queue").click()
        names = [r["Queue"].replace("deleted", "").strip().lower() for r in _table(page)]
        assert names == sorted(names)
        row = page.locator("#compliance-table tbody tr").nth(2)
        key = row.get_attribute("data-key")
        row.click()
        page.wait_for_selector(f'html[data-charts="{key}"]', state="attached")
        assert page.locator("#queue-select").input_value() == key
        page.screenshot(path=tmp_path / "sorted.png", full_page=True)
        assert report.console_errors == []


def test_ten_worst_intervals_lowest_sl_first_with_real_volume(
    built: Built, browser_context, tmp_path: Path
) -> None:
    with duckdb.connect(str(built.db_path), read_only=True) as con:
        expected = [
            fmt2(row[0])
            for row in con.execute(
                "select service_level_pct from main.fct_queue_intervals where sl_denominator >= 10"
                " order by service_level_pct limit 10"
            ).fetchall()
        ]
    with open_report(browser_context, built.html) as report:
        page = report.page
        rows = page.locator("#worst-table tbody tr")
        assert rows.count() == 10
        shown = [rows.nth(i).locator("td").nth(4).inner_text() for i in range(10)]
        page.locator("#worst").screenshot(path=tmp_path / "worst.png")
    assert shown == expected


def test_a_second_report_of_the_same_period_reuses_the_last_good_build(built: Built, tmp_path: Path) -> None:
    """`make report` builds only when the last good build does not cover its vars, targets and loads."""
    from reporting.options import build_options
    from reporting.report import needs_build

    def builds() -> int:
        with duckdb.connect(str(built.db_path), read_only=True) as con:
            return con.execute("select count(*) from genesys_build.build_runs").fetchone()[0]

    before = builds()
    run, html = run_report(built.db_path, tmp_path)
    assert run.returncode == 0, run.stderr
    assert html.is_file()
    assert builds() == before  # no dbt build: the module's build covers the same period and zone
    # another zone, period or formula is not covered by that build
    assert not needs_build(built.db_path, build_options(None, None, None, [], False))
    assert needs_build(built.db_path, build_options(None, None, "America/New_York", [], False))
    assert needs_build(built.db_path, build_options("2026-03-01", None, None, [], False))
    other_formula = build_options(None, None, None, ["sl_formula=include_flow_outs"], False)
    assert needs_build(built.db_path, other_formula)
