"""Parsing of the user's local dates and IANA time zones, shared by the loader and reporting CLIs."""

from __future__ import annotations

import re
from datetime import date
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from common.errors import ConfigError


def parse_local_date(text: str, label: str = "date") -> date:
    """Parse a YYYY-MM-DD date; `label` (START, END) names the option in the error message."""
    value = (text or "").strip()
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ConfigError(f"{label} '{text}' is not a date; use YYYY-MM-DD (e.g. 2026-03-01)")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"{label} '{text}' is not a date; use YYYY-MM-DD (e.g. 2026-03-01)") from None


def parse_timezone(name: str) -> ZoneInfo:
    """Return the IANA time zone `name` (e.g. America/New_York, UTC) or raise ConfigError."""
    value = (name or "").strip()
    hint = "use an IANA name such as UTC, Europe/London or America/New_York"
    if not value or value.startswith("/") or ".." in value:
        raise ConfigError(f"time zone '{name}' is unknown; {hint}")
    try:
        zone = ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ConfigError(f"time zone '{name}' is unknown; {hint}") from None
    # ZoneInfo also opens odd tzdata files (e.g. 'posixrules'); only accept listed names.
    if value != "UTC" and value not in available_timezones():
        raise ConfigError(f"time zone '{name}' is unknown; {hint}")
    return zone
