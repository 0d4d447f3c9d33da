"""What the HTML report shows, read from the built marts only (read-only DuckDB; no figure recomputed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb

from reporting.errors import MissingDataError
from reporting.options import ReportOptions

SIMULATOR_ORG = "simulator"  # the loader labels every simulated row with this org_id (design.md)
AT_RISK_POINTS = 2.0  # amber: below target by at most this many points
WORST_INTERVALS = 10
MIN_WORST_VOLUME = 10  # "real volume": an interval needs this many conversations in its SL denominator
REPORT_MARTS = (
    "dim_queues",
    "fct_queue_intervals",
    "fct_queue_sla_daily",
    "fct_queue_sla_period",
    "fct_queue_sla_interval_profile",
)

# red/amber/green from the period mart's own columns: met is target_met; NULL SL has no status
_STATUS_SQL = f"""
    case
        when service_level_pct is null then 'no data'
        when target_met then 'met'
        when service_level_pct >= target_pct - {AT_RISK_POINTS} then 'at risk'
        else 'missed'
    end
"""


@dataclass(frozen=True)
class QueueRow:
    """One queue x media row of fct_queue_sla_period, with its red/amber/green status."""

    key: str
    queue_id: str
    queue_name: str
    media_type: str
    is_deleted: bool
    offered: int
    service_level_pct: float | None
    target_pct: float | None
    status: str
    answer_rate_pct: float | None
    abandon_rate_pct: float | None
    asa_seconds: float | None
    aht_seconds: float | None
    days_below_target: int


@dataclass(frozen=True)
class Summary:
    """The headline tiles: sums over every queue x media row of the period mart."""

    service_level_pct: float | None
    target_pct: float | None
    offered: int
    answer_rate_pct: float | None
    abandon_rate_pct: float | None
    asa_seconds: float | None
    aht_seconds: float | None
    pairs_meeting: int
    pairs_with_sl: int
    pairs: int


@dataclass(frozen=True)
class WorstInterval:
    """One bucket of fct_queue_intervals among the lowest SL of the period."""

    queue_name: str
    media_type: str
    is_deleted: bool
    local_start: datetime
    offered: int
    sl_denominator: int
    service_level_pct: float
    target_pct: float | None


@dataclass
class ReportData:
    """Everything the template renders."""

    org_ids: list[str]
    period_start: date | None
    period_end: date | None
    report_tz: str
    sl_formula: str | None
    granularity: str | None
    last_bucket_end: datetime | None
    is_simulated: bool
    summary: Summary | None
    queues: list[QueueRow]
    worst: list[WorstInterval]
    # chart data keyed by QueueRow.key, each value a JSON object of arrays: daily series aligned on `dates`,
    # weekday x time-of-day grids aligned on `times`
    dates: list[str] = field(default_factory=list)
    daily: dict[str, str] = field(default_factory=dict)
    times: list[str] = field(default_factory=list)
    profile: dict[str, str] = field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        return not self.queues


def _check_marts(con: duckdb.DuckDBPyConnection, db_path: Path) -> None:
    built = {
        row[0]
        for row in con.execute(
            "select table_name from information_schema.tables where table_schema = 'main'"
        ).fetchall()
    }
    missing = [mart for mart in REPORT_MARTS if mart not in built]
    if missing:
        raise MissingDataError(
            f"error: {', '.join(missing)} not built in {db_path}; run 'make build' (or 'make report') first"
        )


def _granularity(seconds: float | None) -> str | None:
    if not seconds:
        return None
    minutes = int(seconds // 60)
    return "PT1H" if minutes == 60 else f"PT{minutes}M"


def _key(queue_id: str, media_type: str) -> str:
    return f"{queue_id}|{media_type}"


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def read_report_data(db_path: Path, options: ReportOptions) -> ReportData:
    """Read the built marts; the period, zone and formula shown are those the marts were built with."""
    if not db_path.is_file():
        raise MissingDataError(f"error: {db_path} does not exist; run 'make load && make build' first")
    with duckdb.connect(str(db_path), read_only=True) as con:
        con.execute("set TimeZone = 'UTC'")
        _check_marts(con, db_path)
        # settings are the same on every row (the mart is rebuilt when they change): read them off one row
        built_tz, sl_formula, bucket_seconds = con.execute(
            """
            select report_timezone, sl_formula, epoch(interval_end) - epoch(interval_start)
            from main.fct_queue_intervals
            limit 1
            """
        ).fetchone() or (None, None, None)
        (last_end,) = con.execute("select max(interval_end) from main.fct_queue_intervals").fetchone()
        report_tz = built_tz or options.report_tz
        first_day, last_day = con.execute(
            "select min(report_date), max(report_date) from main.fct_queue_sla_daily"
        ).fetchone()
        org_ids = [
            row[0] for row in con.execute("select distinct org_id from main.dim_queues order by 1").fetchall()
        ]
        queue_rows = con.execute(
            f"""
            select queue_id, queue_name, media_type, is_deleted, offered, service_level_pct, target_pct,
                   {_STATUS_SQL} as status, answer_rate_pct, abandon_rate_pct, asa_seconds, aht_seconds,
                   days_below_target
            from main.fct_queue_sla_period
            order by
                case {_STATUS_SQL} when 'missed' then 0 when 'at risk' then 1 when 'met' then 2 else 3 end,
                service_level_pct nulls last, lower(queue_name), queue_id, media_type
            """
        ).fetchall()
        queues = [
            QueueRow(_key(r[0], r[2]), r[0], r[1], r[2], r[3], r[4], *r[5:7], r[7], *r[8:12], r[12])
            for r in queue_rows
        ]
        summary = _summary(con) if queues else None
        worst = _worst_intervals(con, report_tz) if queues else []
        data = ReportData(
            org_ids=org_ids,
            period_start=options.start or first_day,
            period_end=options.end or last_day,
            report_tz=report_tz,
            sl_formula=sl_formula,
            granularity=_granularity(bucket_seconds),
            last_bucket_end=last_end,
            is_simulated=SIMULATOR_ORG in org_ids,
            summary=summary,
            queues=queues,
            worst=worst,
        )
        if queues:
            _read_daily(con, data)
            _read_profile(con, data)
    return data


def _summary(con: duckdb.DuckDBPyConnection) -> Summary:
    # Sums of the period mart's counts; ASA/AHT back to milliseconds via their own counts. The overall
    # target is weighted like SL: by each row's SL denominator.
    row = con.execute(
        """
        select
            100 * sum(sl_numerator)::double / nullif(sum(sl_denominator), 0),
            sum(target_pct * sl_denominator)
            / nullif(sum(sl_denominator) filter (where target_pct is not null), 0),
            sum(offered),
            100 * sum(answered)::double / nullif(sum(offered), 0),
            100 * sum(abandoned)::double / nullif(sum(offered), 0),
            sum(asa_seconds * answered) / nullif(sum(answered) filter (where asa_seconds is not null), 0),
            sum(aht_seconds * handled) / nullif(sum(handled) filter (where aht_seconds is not null), 0),
            count_if(target_met),
            count(service_level_pct),
            count(*)
        from main.fct_queue_sla_period
        """
    ).fetchone()
    return Summary(*row[:2], int(row[2] or 0), *row[3:])


def _worst_intervals(con: duckdb.DuckDBPyConnection, report_tz: str) -> list[WorstInterval]:
    # Buckets of the report: the period mart's queue x media pairs (period and deleted-queue rule applied)
    # within the daily mart's dates. The ten lowest are picked first (a top-N over millions of buckets),
    # then joined to the daily mart for the target each one was judged by.
    rows = con.execute(
        f"""
        with
        bounds as (
            select min(report_date) as first_day, max(report_date) as last_day from main.fct_queue_sla_daily
        ),
        worst as (
            select
                intervals.org_id, intervals.queue_id, intervals.media_type, intervals.report_date,
                intervals.interval_start, intervals.offered, intervals.sl_denominator,
                intervals.service_level_pct
            from main.fct_queue_intervals as intervals
            semi join main.fct_queue_sla_period as pairs
                on intervals.org_id = pairs.org_id and intervals.queue_id = pairs.queue_id
                and intervals.media_type = pairs.media_type
            where intervals.sl_denominator >= {MIN_WORST_VOLUME}
                and intervals.report_date
                    between (select first_day from bounds) and (select last_day from bounds)
            order by intervals.service_level_pct, intervals.sl_denominator desc, intervals.interval_start,
                     intervals.queue_id, intervals.media_type
            limit {WORST_INTERVALS}
        )
        select days.queue_name, worst.media_type, days.is_deleted,
               timezone($zone, worst.interval_start) as local_start,
               worst.offered, worst.sl_denominator, worst.service_level_pct, days.target_pct
        from worst
        inner join main.fct_queue_sla_daily as days
            on worst.org_id = days.org_id and worst.queue_id = days.queue_id
            and worst.media_type = days.media_type and worst.report_date = days.report_date
        order by worst.service_level_pct, worst.sl_denominator desc, worst.interval_start,
                 worst.queue_id, worst.media_type
        """,
        {"zone": report_tz},
    ).fetchall()
    return [WorstInterval(*row) for row in rows]


def _read_daily(con: duckdb.DuckDBPyConnection, data: ReportData) -> None:
    """Per queue x media: SL, target and offered of every local date of the period (null when absent).

    DuckDB aligns the series on the period's dates and writes their JSON itself: a year of 1000 pairs is
    365,000 values, which a Python loop would take seconds to reshape.
    """
    data.dates = [
        row[0]
        for row in con.execute(
            "select distinct strftime(report_date, '%Y-%m-%d') from main.fct_queue_sla_daily order by 1"
        ).fetchall()
    ]
    rows = con.execute(
        """
        with
        dates as (select distinct report_date from main.fct_queue_sla_daily),
        pairs as (select distinct org_id, queue_id, media_type from main.fct_queue_sla_daily),
        grid as (
            select pairs.queue_id, pairs.media_type, dates.report_date, days.service_level_pct,
                   days.target_pct, days.offered
            from pairs
            cross join dates
            left join main.fct_queue_sla_daily as days
                on pairs.org_id = days.org_id and pairs.queue_id = days.queue_id
                and pairs.media_type = days.media_type and dates.report_date = days.report_date
        ),
        -- one sort per series: the days as structs in date order, then one array per field
        series as (
            select queue_id, media_type, list(
                {'sl': round(service_level_pct, 2), 'target': round(target_pct, 2), 'offered': offered}
                order by report_date
            ) as days
            from grid
            group by queue_id, media_type
        )
        select queue_id, media_type, json_object(
            'sl', list_transform(days, day -> day.sl),
            'target', list_transform(days, day -> day.target),
            'offered', list_transform(days, day -> day.offered)
        )::varchar
        from series
        """
    ).fetchall()
    data.daily = {_key(queue_id, media): series for queue_id, media, series in rows}


def _read_profile(con: duckdb.DuckDBPyConnection, data: ReportData) -> None:
    """Per queue x media: weekday x time-of-day grids as JSON, cell (weekday - 1) x len(times) + time."""
    data.times = [
        row[0]
        for row in con.execute(
            "select distinct left(cast(local_time_of_day as varchar), 5)"
            " from main.fct_queue_sla_interval_profile order by 1"
        ).fetchall()
    ]
    rows = con.execute(
        """
        with
        slots as (
            select weekdays.local_weekday, times.local_time_of_day
            from range(1, 8) as weekdays (local_weekday)
            cross join (select distinct local_time_of_day from main.fct_queue_sla_interval_profile) as times
        ),
        pairs as (select distinct org_id, queue_id, media_type from main.fct_queue_sla_interval_profile),
        grid as (
            select pairs.queue_id, pairs.media_type, slots.local_weekday, slots.local_time_of_day,
                   profile.service_level_pct, profile.offered, profile.intervals,
                   profile.intervals_meeting_target
            from pairs
            cross join slots
            left join main.fct_queue_sla_interval_profile as profile
                on pairs.org_id = profile.org_id and pairs.queue_id = profile.queue_id
                and pairs.media_type = profile.media_type and slots.local_weekday = profile.local_weekday
                and slots.local_time_of_day = profile.local_time_of_day
        ),
        series as (
            select queue_id, media_type, list(
                {
                    'sl': round(service_level_pct, 2), 'offered': offered, 'intervals': intervals,
                    'meeting': intervals_meeting_target
                }
                order by local_weekday, local_time_of_day
            ) as cells
            from grid
            group by queue_id, media_type
        )
        select queue_id, media_type, json_object(
            'sl', list_transform(cells, cell -> cell.sl),
            'offered', list_transform(cells, cell -> cell.offered),
            'intervals', list_transform(cells, cell -> cell.intervals),
            'meeting', list_transform(cells, cell -> cell.meeting)
        )::varchar
        from series
        """
    ).fetchall()
    data.profile = {_key(queue_id, media): grid for queue_id, media, grid in rows}
