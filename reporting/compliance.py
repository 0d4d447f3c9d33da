"""The compact compliance table of the period that `make build` prints (from fct_queue_sla_period)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb

from reporting.build_state import require_success
from reporting.errors import ReportingError
from reporting.options import ReportOptions
from reporting.reader import reading

_MAX_NAME_WIDTH = 60


def _fmt_pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _fmt_utc(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def _fmt_met(value: bool | None) -> str:
    return "-" if value is None else ("yes" if value else "NO")


def compliance_table(db_path: Path, options: ReportOptions) -> str:
    """Render one line per queue and media type: queue, media, SL %, target, met, offered.

    Refuses (MissingDataError, exit 2) unless the last recorded build succeeded.
    """
    require_success(db_path)
    try:
        return _render(db_path, options)
    except duckdb.Error as exc:
        raise ReportingError(f"error: cannot read the marts of {db_path} ({exc})") from None  # DuckDB


def _render(db_path: Path, options: ReportOptions) -> str:
    with reading(db_path) as con:
        first, last = con.execute(
            "select min(report_date), max(report_date) from main.fct_queue_sla_daily"
        ).fetchone()
        # what the period's buckets really cover: a load that started mid-day leaves a partial first day
        covered_from, covered_to = (
            _fmt_utc(moment)
            for moment in con.execute(
                """
                select min(interval_start), max(interval_end)
                from main.fct_queue_intervals
                where report_date between ? and ?
                """,
                [first, last],
            ).fetchone()
        )
        rows = con.execute(
            """
            select queue_name, media_type, service_level_pct, target_pct, target_met, offered, is_deleted
            from main.fct_queue_sla_period
            order by lower(queue_name), queue_id, media_type
            """
        ).fetchall()
    start = options.start or first
    end = options.end or last
    lines = [
        f"Queue service level {start or '?'} .. {end or '?'} ({options.report_tz}), "
        f"{len(rows)} queue/media rows"
    ]
    if covered_from:
        lines.append(
            f"first and last bucket with activity: {covered_from} .. {covered_to} UTC"
            " (days at either end may be partial)"
        )
    labels = [f"{row[0]} (deleted)" if row[6] else str(row[0]) for row in rows]
    width = min(max([len("queue"), *map(len, labels)]), _MAX_NAME_WIDTH)
    header = f"{'queue':<{width}}  {'media':<8}  {'SL %':>7}  {'target':>6}  {'met':>3}  {'offered':>9}"
    lines += [header, "-" * len(header)]
    for label, (_name, media, sl_pct, target_pct, met, offered, _deleted) in zip(labels, rows, strict=True):
        if len(label) > width:
            label = label[: width - 1] + "…"
        lines.append(
            f"{label:<{width}}  {media:<8}  {_fmt_pct(sl_pct):>7}  {_fmt_pct(target_pct):>6}  "
            f"{_fmt_met(met):>3}  {offered:>9}"
        )
    if not rows:
        lines.append("(no buckets in this period)")
    return "\n".join(lines)
