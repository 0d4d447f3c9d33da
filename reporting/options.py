"""Report options (period, time zone, dbt vars): validation and conversion to dbt `--vars`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from common.dates import parse_local_date, parse_timezone
from common.errors import ConfigError

PROJECT_DIR = Path(__file__).resolve().parent.parent
SL_FORMULAS = ("genesys", "exclude_short_abandons", "include_flow_outs")
# dbt vars that --var may set; report_timezone/report_start/report_end come from their own options
EXTRA_VARS = ("default_target_pct", "sl_formula", "include_deleted_queues")


@dataclass(frozen=True)
class ReportOptions:
    """What one build or export covers; `dbt_vars()` is what dbt receives."""

    start: date | None = None
    end: date | None = None
    report_tz: str = "UTC"
    extra_vars: dict[str, Any] = field(default_factory=dict)

    def dbt_vars(self) -> dict[str, Any]:
        """The --vars of dbt build: every report var, so that nothing depends on an older run."""
        return {
            "report_timezone": self.report_tz,
            "report_start": self.start.isoformat() if self.start else None,
            "report_end": self.end.isoformat() if self.end else None,
            **self.extra_vars,
        }


def _parse_bool(key: str, text: str) -> bool:
    value = text.strip().lower()
    if value in ("true", "1", "yes"):
        return True
    if value in ("false", "0", "no"):
        return False
    raise ConfigError(f"--var {key}={text} is not valid; use {key}=true or {key}=false")


def parse_extra_vars(assignments: list[str]) -> dict[str, Any]:
    """Parse repeated `--var KEY=VALUE` into typed dbt vars, or raise ConfigError naming the bad one."""
    result: dict[str, Any] = {}
    for assignment in assignments:
        key, sep, text = assignment.partition("=")
        key = key.strip()
        if not sep or key not in EXTRA_VARS:
            raise ConfigError(
                f"--var '{assignment}' is not valid; use KEY=VALUE with KEY one of: {', '.join(EXTRA_VARS)}"
            )
        if key == "sl_formula":
            if text.strip() not in SL_FORMULAS:
                raise ConfigError(
                    f"--var sl_formula={text} is not valid; use one of: {', '.join(SL_FORMULAS)}"
                )
            result[key] = text.strip()
        elif key == "include_deleted_queues":
            result[key] = _parse_bool(key, text)
        else:
            try:
                pct = float(text)
            except ValueError:
                pct = -1.0
            if not 0 < pct <= 100:
                raise ConfigError(f"--var default_target_pct={text} is not valid; use a number in (0, 100]")
            result[key] = pct
    return result


def build_options(
    start: str | None,
    end: str | None,
    report_tz: str | None,
    var_assignments: list[str] | None = None,
    active_queues_only: bool = False,
) -> ReportOptions:
    """Validate the CLI values (inclusive local dates, IANA zone, vars); ConfigError on the first bad one."""
    start_date = parse_local_date(start, "START") if start else None
    end_date = parse_local_date(end, "END") if end else None
    if start_date and end_date and end_date < start_date:
        raise ConfigError(f"END {end_date} is before START {start_date}; both are inclusive local dates")
    zone = parse_timezone(report_tz) if report_tz else None
    extra = parse_extra_vars(var_assignments or [])
    if active_queues_only:
        extra["include_deleted_queues"] = False
    return ReportOptions(
        start=start_date, end=end_date, report_tz=zone.key if zone else "UTC", extra_vars=extra
    )
