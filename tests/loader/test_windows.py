"""Local dates → exact UTC ranges (DST, odd offsets), windows and the incremental plan."""

from datetime import UTC, date, datetime, timedelta

import pytest

from loader.errors import ConfigError, UsageError
from loader.windows import (
    Window,
    local_dates_to_utc,
    parse_local_date,
    parse_timezone,
    plan_range,
    split_windows,
)

NY = "America/New_York"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_parse_local_date_ok_and_errors_are_exit_2_one_liners():
    assert parse_local_date("2026-03-08") == date(2026, 3, 8)
    for bad in ("2026-13-01", "2026-02-30", "08/03/2026", "", "2026-3-8"):
        with pytest.raises(ConfigError) as err:
            parse_local_date(bad, "START")
        assert isinstance(err.value, UsageError) and err.value.exit_code == 2
        assert str(err.value).startswith(f"START '{bad}' is not a date; use YYYY-MM-DD")
        assert "\n" not in str(err.value)


@pytest.mark.parametrize("name", ["UTC", NY, "Asia/Kolkata", "Europe/London"])
def test_parse_timezone_known(name):
    assert parse_timezone(name).key == name


@pytest.mark.parametrize("name", ["Mars/Olympus", "", "EST5EDT/x", "../etc/passwd", "posixrules"])
def test_parse_timezone_unknown(name):
    with pytest.raises(ConfigError, match="is unknown; use an IANA name"):
        parse_timezone(name)


def test_dst_days_in_new_york_are_25_and_23_hours():
    zone = parse_timezone(NY)
    start, end = local_dates_to_utc(date(2026, 11, 1), date(2026, 11, 1), zone, "PT1H")
    assert (start, end) == (utc(2026, 11, 1, 4), utc(2026, 11, 2, 5))
    assert end - start == timedelta(hours=25)
    start, end = local_dates_to_utc(date(2026, 3, 8), date(2026, 3, 8), zone, "PT1H")
    assert (start, end) == (utc(2026, 3, 8, 5), utc(2026, 3, 9, 4))
    assert end - start == timedelta(hours=23)


def test_windows_follow_local_days_across_dst():
    zone = parse_timezone(NY)
    start, end = local_dates_to_utc(date(2026, 10, 31), date(2026, 11, 2), zone, "PT1H")
    windows = list(split_windows(start, end, zone, 1, timedelta(hours=1)))
    assert [w.end - w.start for w in windows] == [
        timedelta(hours=24),
        timedelta(hours=25),
        timedelta(hours=24),
    ]
    assert windows[0].start == start and windows[-1].end == end


def test_half_hour_zone_needs_matching_granularity():
    zone = parse_timezone("Asia/Kolkata")
    with pytest.raises(ConfigError, match="use --granularity PT30M"):
        local_dates_to_utc(date(2026, 3, 1), date(2026, 3, 1), zone, "PT1H")
    start, end = local_dates_to_utc(date(2026, 3, 1), date(2026, 3, 1), zone, "PT30M")
    assert (start, end) == (utc(2026, 2, 28, 18, 30), utc(2026, 3, 1, 18, 30))
    with pytest.raises(ConfigError, match="use --granularity PT15M"):
        local_dates_to_utc(date(2026, 3, 1), date(2026, 3, 1), parse_timezone("Asia/Kathmandu"), "PT30M")


def test_window_halves_stay_on_bucket_boundaries():
    step = timedelta(hours=1)
    window = Window(utc(2026, 3, 1), utc(2026, 3, 1, 5))
    first, second = window.halves(step)
    assert (first.start, first.end, second.end) == (utc(2026, 3, 1), utc(2026, 3, 1, 2), utc(2026, 3, 1, 5))
    assert Window(utc(2026, 3, 1), utc(2026, 3, 1, 1)).halves(step) is None
    assert window.interval == "2026-03-01T00:00:00.000Z/2026-03-01T05:00:00.000Z"


def _plan(**kw):
    args = dict(
        start_date=None,
        end_date=None,
        zone=parse_timezone("UTC"),
        granularity="PT1H",
        now=utc(2026, 3, 10, 12, 34),
        cursor=None,
        lookback_hours=48,
        initial_days=30,
    )
    args.update(kw)
    return plan_range(**args)


def test_incremental_first_run_backfills_initial_days_to_now_floored():
    plan = _plan()
    # whole local days: from the midnight initial_days (30) before the clock's date, not 30 x 24 h ago
    assert (plan.start, plan.end, plan.explicit) == (utc(2026, 2, 8), utc(2026, 3, 10, 12), False)


def test_incremental_first_run_starts_at_a_local_midnight_in_the_report_zone():
    plan = _plan(zone=parse_timezone("America/New_York"))
    assert plan.start == utc(2026, 2, 8, 5)  # 2026-02-08 00:00 EST


def test_incremental_rerun_starts_lookback_before_cursor():
    plan = _plan(cursor=utc(2026, 3, 9, 7))
    assert (plan.start, plan.end) == (utc(2026, 3, 7, 7), utc(2026, 3, 10, 12))


def test_explicit_dates_errors():
    with pytest.raises(ConfigError, match="is before START"):
        _plan(start_date=date(2026, 3, 5), end_date=date(2026, 3, 1))
    with pytest.raises(ConfigError, match="is in the future"):
        _plan(start_date=date(2026, 3, 11), end_date=date(2026, 3, 12))


def test_explicit_end_today_is_clipped_to_now():
    plan = _plan(start_date=date(2026, 3, 9), end_date=date(2026, 3, 10))
    assert (plan.start, plan.end, plan.explicit) == (utc(2026, 3, 9), utc(2026, 3, 10, 12), True)
