"""Expected mart figures computed independently, in plain Python, from the simulator's ground truth.

Nothing here reads the project's SQL: local days are cut with zoneinfo, sums and ratios are done
by hand, so a wrong formula in the models cannot also be wrong here in the same way.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

COUNT_COLUMNS = {
    "offered": "offered_count",
    "answered": "answered_count",
    "abandoned": "abandoned_count",
    "short_abandoned": "short_abandoned_count",
    "flow_outs": "flow_out_count",
    "handled": "handled_count",
    "sl_numerator": "sl_numerator",
    "sl_denominator": "sl_denominator",
}


def local_day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants at which a local day starts and ends (23 or 25 hours apart on DST days)."""
    start = datetime.combine(day, datetime.min.time(), zone)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), zone)
    return start.astimezone(ZoneInfo("UTC")), end.astimezone(ZoneInfo("UTC"))


def _pct(numerator: int, denominator: int) -> float | None:
    return 100 * numerator / denominator if denominator else None


def _per_unit(total_ms: int, count: int) -> float | None:
    return total_ms / count / 1000 if count else None


@dataclass
class Totals:
    """Summed bucket figures for one queue x media over some span of buckets."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNT_COLUMNS, 0))
    answered_ms: int = 0
    handle_ms: int = 0
    buckets: list[dict] = field(default_factory=list)

    def add(self, row: dict) -> None:
        for name, column in COUNT_COLUMNS.items():
            self.counts[name] += row[column] or 0
        self.answered_ms += row["answered_ms_sum"] or 0
        self.handle_ms += row["handle_ms_sum"] or 0
        self.buckets.append(row)

    def figures(self) -> dict:
        c = self.counts
        return {
            **c,
            "service_level_pct": _pct(c["sl_numerator"], c["sl_denominator"]),
            "answer_rate_pct": _pct(c["answered"], c["offered"]),
            "abandon_rate_pct": _pct(c["abandoned"], c["offered"]),
            "asa_seconds": _per_unit(self.answered_ms, c["answered"]),
            "aht_seconds": _per_unit(self.handle_ms, c["handled"]),
        }


def day_target_pct(buckets: list[dict], default_pct: float = 80.0) -> float:
    """The day's target with no seed override and no configured target in force yet (a backfill loaded
    later): oServiceLevel.target of the day's last bucket that reports one, else the default."""
    targets = [b["sl_target_ratio"] for b in buckets if b["sl_target_ratio"] is not None]
    # rounded as staging does: 0.55 * 100 is 55.00000000000001 in floating point
    return round(100 * targets[-1], 6) if targets else default_pct


def expected_daily(rows: list[dict], report_tz: str) -> dict[tuple[str, str, date], dict]:
    """fct_queue_sla_daily as it must be: keyed by (queue_id, media_type, local report date)."""
    zone = ZoneInfo(report_tz)
    days: dict[tuple[str, str, date], Totals] = defaultdict(Totals)
    for row in sorted(rows, key=lambda r: r["interval_start"]):
        local_day = row["interval_start"].astimezone(zone).date()
        days[(row["queue_id"], row["media_type"], local_day)].add(row)
    expected = {}
    for key, totals in days.items():
        figures = totals.figures()
        target = day_target_pct(totals.buckets)
        sl = figures["service_level_pct"]
        figures["target_pct"] = target
        figures["target_met"] = None if sl is None else sl >= target
        figures["intervals_below_target"] = sum(
            1
            for b in totals.buckets
            if b["sl_denominator"] and 100 * b["sl_numerator"] / b["sl_denominator"] < target
        )
        expected[key] = figures
    return expected


def expected_period(rows: list[dict], report_tz: str) -> dict[tuple[str, str], dict]:
    """fct_queue_sla_period over every loaded bucket, keyed by (queue_id, media_type)."""
    daily = expected_daily(rows, report_tz)
    periods: dict[tuple[str, str], Totals] = defaultdict(Totals)
    for row in sorted(rows, key=lambda r: r["interval_start"]):
        periods[(row["queue_id"], row["media_type"])].add(row)
    expected = {}
    for key, totals in periods.items():
        figures = totals.figures()
        queue_days = sorted((k[2], v) for k, v in daily.items() if (k[0], k[1]) == key)
        target = queue_days[-1][1]["target_pct"]
        sl = figures["service_level_pct"]
        figures["target_pct"] = target
        figures["target_met"] = None if sl is None else sl >= target
        figures["days_below_target"] = sum(1 for _, d in queue_days if d["target_met"] is False)
        figures["intervals_below_target"] = sum(d["intervals_below_target"] for _, d in queue_days)
        expected[key] = figures
    return expected
