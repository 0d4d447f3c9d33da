"""`python -m reporting report`: build when needed, then write reports/service-level.html atomically."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from datetime import datetime
from pathlib import Path

import duckdb

from common import warehouse
from common.names import RAW_DATASET
from reporting.build_state import last_build
from reporting.errors import ReportingError
from reporting.options import ReportOptions
from reporting.reader import reading
from reporting.targets import targets_csv_path

log = logging.getLogger(__name__)

DEFAULT_REPORT_PATH = Path("reports") / "service-level.html"


def needs_build(db_path: Path, options: ReportOptions) -> bool:
    """Whether the marts must be (re)built first: not when the last good build covers exactly `options`.

    The last recorded build (reporting.build_state) must have succeeded with the same dbt vars (period, zone,
    formula and the rest), and nothing may have changed since it started: no load into the raw tables and no
    edit of the targets file. Otherwise the report would show another period, zone or older data.
    """
    record = last_build(db_path)
    if record is None or record.status != "success":
        return True
    if record.build_vars != json.loads(json.dumps(options.dbt_vars())):
        return True
    started = record.started_at.timestamp()
    targets = targets_csv_path()
    if targets.is_file() and targets.stat().st_mtime > started:
        return True
    return _loaded_since(db_path, record.started_at)


def _loaded_since(db_path: Path, moment: datetime) -> bool:
    """True when the raw tables may have changed at or after `moment` (or the file cannot tell).

    dlt records every load in `_dlt_loads`, which also covers a re-pull that only deleted buckets; raw tables
    written by other means (tests, benchmarks) fall back to the newest `loaded_at`.
    """
    queries = (
        f"select max(inserted_at) from {RAW_DATASET}._dlt_loads",
        f"select max(loaded_at) from {RAW_DATASET}.queue_intervals",
    )
    with contextlib.suppress(duckdb.Error, ReportingError), reading(db_path) as con:
        for query in queries:
            table = query.rsplit(".", 1)[1]
            if con.table_exists(RAW_DATASET, table):
                last_change = con.execute(query).fetchone()[0]
                return last_change is None or last_change >= moment
    return True  # no raw table at all: let the build say what is missing


def write_atomically(path: Path, text: str) -> None:
    """Write text to path via a temporary file in the same folder and os.replace; no temp file survives."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        # mkstemp creates the file 0600; a report is for sharing: the usual umask-based mode instead
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_name, 0o666 & ~umask)
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


def make_report(
    db_path: Path,
    options: ReportOptions,
    out_path: Path = DEFAULT_REPORT_PATH,
    *,
    build: bool | None = None,
    full_refresh: bool = False,
    verbose: bool = False,
) -> Path:
    """Build the marts when due (or as `build` says), then render and write the page; return its path."""
    from reporting.pg_snapshot import snapshot
    from reporting.report_data import REPORT_MARTS, read_report_data
    from reporting.report_html import render_report

    if build if build is not None else needs_build(db_path, options):
        from reporting.build import build as run_build  # imports dbt: only when a build is due

        run_build(options, full_refresh=full_refresh, verbose=verbose)
    try:
        if warehouse.is_postgres():  # the same reading code, on a DuckDB copy of the marts
            with snapshot(db_path, REPORT_MARTS) as copy:
                data = read_report_data(copy, options)
        else:
            data = read_report_data(db_path, options)
        html = render_report(data)
        write_atomically(out_path, html)
    except (duckdb.Error, OSError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ReportingError(f"error: report failed ({first_line}); {out_path} was not changed") from exc
    log.info("wrote %s (%d bytes)", out_path, len(html.encode()))
    return out_path.resolve()
