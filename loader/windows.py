"""Dates, time zones, granularity and the split of a UTC range into query windows."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from common.dates import parse_local_date, parse_timezone
from common.errors import ConfigError
from common.names import GRANULARITIES

__all__ = ["GRANULARITIES", "parse_granularity", "parse_local_date", "parse_timezone"]


def parse_granularity(text: str) -> timedelta:
    """Bucket size for `PT1H`, `PT30M` or `PT15M`."""
    try:
        return GRANULARITIES[(text or "").strip().upper()]
    except KeyError:
        raise ConfigError(
            f"granularity '{text}' is not supported; use one of {', '.join(GRANULARITIES)}"
        ) from None


def floor_to(moment: datetime, step: timedelta) -> datetime:
    """Floor an aware datetime to a multiple of `step` since the Unix epoch (UTC)."""
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return epoch + ((moment - epoch) // step) * step


def ceil_to(moment: datetime, step: timedelta) -> datetime:
    """Ceil an aware datetime to a multiple of `step` since the Unix epoch (UTC)."""
    floored = floor_to(moment, step)
    return floored if floored == moment else floored + step


def local_midnight_utc(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant at which local `day` starts in `zone` (DST-aware)."""
    local = datetime(day.year, day.month, day.day, tzinfo=zone)
    # A nonexistent local midnight (DST jump at 00:00) normalises forward through UTC.
    return local.astimezone(UTC)


def _granularity_name(step: timedelta) -> str:
    return next(name for name, value in GRANULARITIES.items() if value == step)


def check_zone_granularity(zone: ZoneInfo, granularity: str, instants: list[datetime]) -> None:
    """Raise ConfigError when the zone's offset at any of `instants` is not whole buckets long."""
    step = parse_granularity(granularity)
    for instant in instants:
        offset = instant.astimezone(zone).utcoffset() or timedelta(0)
        if offset % step:
            usable = [name for name, value in GRANULARITIES.items() if offset % value == timedelta(0)]
            hours, rest = divmod(abs(int(offset.total_seconds())) // 60, 60)
            sign = "-" if offset < timedelta(0) else "+"
            raise ConfigError(
                f"time zone {zone.key} is UTC{sign}{hours:02d}:{rest:02d}, not a whole number of "
                f"{granularity} buckets; use --granularity {usable[0] if usable else 'PT15M'}"
            )


def _fmt_offset(offset: timedelta) -> str:
    hours, rest = divmod(abs(int(offset.total_seconds())) // 60, 60)
    return f"UTC{'-' if offset < timedelta(0) else '+'}{hours:02d}:{rest:02d}"


def check_zone_range(zone: ZoneInfo, granularity: str, start: datetime, end: datetime) -> None:
    """Refuse a range in which the zone's UTC offset changes by an amount that is not whole buckets.

    Australia/Lord_Howe moves by 30 minutes: at PT1H its local days would start mid-bucket on one side of
    the change. Offsets last for months, so one sample per day (and the range's ends) sees every change.
    """
    step = parse_granularity(granularity)
    offsets: list[timedelta] = []
    moment = start
    while True:
        offset = moment.astimezone(zone).utcoffset() or timedelta(0)
        if not offsets or offsets[-1] != offset:
            offsets.append(offset)
        if moment >= end:
            break
        moment = min(end, moment + timedelta(days=1))
    for before, after in itertools.pairwise(offsets):
        change = after - before
        if change % step:
            usable = [name for name, value in GRANULARITIES.items() if change % value == timedelta(0)]
            raise ConfigError(
                f"time zone {zone.key} changes from {_fmt_offset(before)} to {_fmt_offset(after)} inside "
                f"the range, not a whole number of {granularity} buckets; "
                f"use --granularity {usable[0] if usable else 'PT15M'}"
            )


def local_dates_to_utc(start: date, end: date, zone: ZoneInfo, granularity: str) -> tuple[datetime, datetime]:
    """Exact UTC range [start 00:00, end+1 00:00) local, checked against the granularity."""
    if end < start:
        raise ConfigError(f"END {end.isoformat()} is before START {start.isoformat()}; swap them")
    utc_start = local_midnight_utc(start, zone)
    utc_end = local_midnight_utc(end + timedelta(days=1), zone)
    check_zone_granularity(zone, granularity, [utc_start, utc_end])
    return utc_start, utc_end


@dataclass(frozen=True)
class Window:
    """One query window [start, end) in UTC, aligned to the granularity."""

    start: datetime
    end: datetime

    @property
    def interval(self) -> str:
        """ISO-8601 interval as Genesys expects it."""
        return f"{iso_z(self.start)}/{iso_z(self.end)}"

    def __str__(self) -> str:
        return self.interval

    def halves(self, step: timedelta) -> tuple[Window, Window] | None:
        """Split in two bucket-aligned halves; None when the window is a single bucket."""
        buckets = (self.end - self.start) // step
        if buckets <= 1:
            return None
        middle = self.start + (buckets // 2) * step
        return Window(self.start, middle), Window(middle, self.end)


def iso_z(moment: datetime) -> str:
    """UTC ISO-8601 with milliseconds and Z, the form Genesys documents."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def split_windows(
    start: datetime, end: datetime, zone: ZoneInfo, days: float = 1.0, step: timedelta | None = None
) -> Iterator[Window]:
    """Cut [start, end) at local midnights of `zone`, every `days` days (a local day may be 23/25 h).

    Windows that are not whole days (an incremental start mid-day) are cut at the next local midnight.
    """
    if end <= start:
        return
    if days < 1:
        # Sub-day windows: plain fixed steps in UTC, aligned to the bucket size.
        size = timedelta(hours=max(1.0, days * 24))
        if step:
            size = max(step, (size // step) * step)
        cursor = start
        while cursor < end:
            nxt = min(end, cursor + size)
            yield Window(cursor, nxt)
            cursor = nxt
        return
    whole_days = int(days)
    cursor = start
    local_day = start.astimezone(zone).date()
    while cursor < end:
        local_day = local_day + timedelta(days=whole_days)
        boundary = local_midnight_utc(local_day, zone)
        if step:
            boundary = ceil_to(boundary, step)
        if boundary <= cursor:
            continue
        nxt = min(end, boundary)
        yield Window(cursor, nxt)
        cursor = nxt


@dataclass(frozen=True)
class LoadRange:
    """The UTC range one run loads, and whether it came from explicit dates (a backfill)."""

    start: datetime
    end: datetime
    explicit: bool


def plan_range(
    *,
    start_date: date | None,
    end_date: date | None,
    zone: ZoneInfo,
    granularity: str,
    now: datetime,
    cursor: datetime | None,
    lookback_hours: float,
    initial_days: int,
) -> LoadRange:
    """Explicit local dates → exact UTC range (clipped at now); else incremental from the cursor.

    Incremental: from the last loaded bucket minus lookback_hours (late metrics keep changing), or on the
    first run from the local midnight initial_days before today, up to now floored to the granularity.
    """
    step = parse_granularity(granularity)
    now_floor = floor_to(now, step)
    if start_date is None and end_date is None:
        if cursor is not None:
            start = floor_to(cursor - timedelta(hours=lookback_hours), step)
        else:
            # whole local days: a first load cut at now - initial_days would leave a partial first day
            first_day = now.astimezone(zone).date() - timedelta(days=initial_days)
            start = local_dates_to_utc(first_day, first_day, zone, granularity)[0]
        start = min(start, now_floor)
        check_zone_range(zone, granularity, start, now_floor)
        return LoadRange(start, now_floor, explicit=False)
    today = now.astimezone(zone).date()
    if start_date is None:
        raise ConfigError("END is set without START; give both (--start YYYY-MM-DD --end YYYY-MM-DD)")
    end_date = end_date or today
    if start_date > today:
        raise ConfigError(
            f"START {start_date.isoformat()} is in the future (today is {today.isoformat()} in {zone.key}); "
            "use a past date"
        )
    start, end = local_dates_to_utc(start_date, end_date, zone, granularity)
    check_zone_range(zone, granularity, start, end)
    return LoadRange(start, min(end, now_floor), explicit=True)
