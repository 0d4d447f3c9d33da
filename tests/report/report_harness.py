"""Report test helpers: raw data sets, `python -m reporting report` (subprocess or in-process), headless
Chromium."""

from __future__ import annotations

import random
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "dbt"))  # reuse the dbt tests' raw tables and CLI environment

import raw_fixture  # noqa: E402
from dbt_harness import CliRun, clean_env  # noqa: E402

from tests.inprocess import run_main  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
# Without these, chromium's own background connections (updates, sync, safe browsing) are attempted and
# refused by a closed network; a fresh profile keeps every run independent.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
REPORT_TIMEOUT_S = 300
CHART_TIMEOUT_MS = 30_000


def run_report(db_path: Path, work_dir: Path, *args: str) -> tuple[CliRun, Path]:
    """`python -m reporting report --out <work_dir>/reports/service-level.html ...` from the repo root."""
    out = work_dir / "reports" / "service-level.html"
    proc = subprocess.run(
        [sys.executable, "-m", "reporting", "report", "--out", str(out), *args],
        cwd=REPO,
        env=clean_env(db_path, work_dir),
        capture_output=True,
        text=True,
        timeout=REPORT_TIMEOUT_S,
        check=False,
    )
    return CliRun(proc.returncode, proc.stdout, proc.stderr), out


def report_in_process(db_path: Path, work_dir: Path, *args: str) -> tuple[CliRun, Path]:
    """What run_report does, in this process (no Python start, no dbt import): for tests of what the page
    shows; run_report stays for the exit codes and for the browser tests' one report (test_report_browser)."""
    from reporting.__main__ import main

    out = work_dir / "reports" / "service-level.html"
    run = run_main(main, ["report", "--out", str(out), *args], clean_env(db_path, work_dir), REPO)
    return CliRun(run.returncode, run.stdout, run.stderr), out


def buckets_between(
    first: datetime, last: datetime, step: timedelta, groups: list[tuple[str, str]], seed: int = 11
) -> list[raw_fixture.Bucket]:
    """Deterministic raw buckets (same rules as the dbt fixture) every `step` from first to last."""
    rng = random.Random(seed)
    buckets = []
    for queue_id, media in groups:
        start = first
        while start <= last:
            bucket = raw_fixture._bucket(rng, queue_id, media, start)
            if bucket is not None:
                buckets.append(bucket)
            start += step
    return buckets


def write_raw(db_path: Path, buckets: list[raw_fixture.Bucket], step: timedelta = timedelta(hours=1)) -> None:
    """The dbt fixture's three raw tables with these buckets; interval_end = start + step (PT30M etc.)."""
    raw_fixture.write_raw_tables(str(db_path), buckets)
    with duckdb.connect(str(db_path)) as con:
        con.execute(
            "update genesys_raw.queue_intervals set interval_end = interval_start + to_microseconds(?)",
            [int(step.total_seconds() * 1_000_000)],
        )


def period_rows(db_path: Path) -> list[dict]:
    """fct_queue_sla_period as dicts, read independently of the report code."""
    with duckdb.connect(str(db_path), read_only=True) as con:
        cursor = con.execute("select * from main.fct_queue_sla_period")
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def profile_rows(db_path: Path) -> list[dict]:
    with duckdb.connect(str(db_path), read_only=True) as con:
        cursor = con.execute("select * from main.fct_queue_sla_interval_profile")
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def expected_status(row: dict) -> str:
    """Red/amber/green as the README defines it, from the mart's own columns."""
    if row["service_level_pct"] is None:
        return "no data"
    if row["target_met"]:
        return "met"
    return "at risk" if row["service_level_pct"] >= row["target_pct"] - 2 else "missed"


def fmt2(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


@dataclass
class OpenedReport:
    """A report page open in Chromium, with everything the page logged and requested."""

    page: object
    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def foreign_requests(self) -> list[str]:
        return [url for url in self.requests if not url.startswith("file://")]


@contextmanager
def chromium(profile_dir: Path) -> Iterator[object]:
    """A headless Debian chromium driven by Playwright, with a fresh profile."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile_dir),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
        )
        try:
            yield context
        finally:
            context.close()


@contextmanager
def open_report(context, html: Path, *, wait_for_charts: bool = True) -> Iterator[OpenedReport]:
    """Open html from file:// in a new tab; requests to anything but file:// are recorded and aborted."""
    page = context.new_page()
    opened = OpenedReport(page)
    page.on("console", lambda msg: opened.console_errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: opened.console_errors.append(str(exc)))
    page.on("request", lambda request: opened.requests.append(request.url))
    page.route(
        "**/*",
        lambda route: route.continue_() if route.request.url.startswith("file://") else route.abort(),
    )
    try:
        page.goto(html.as_uri())
        if wait_for_charts:
            page.wait_for_selector("html[data-charts]", state="attached", timeout=CHART_TIMEOUT_MS)
        yield opened
    finally:
        page.close()
