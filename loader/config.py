"""Settings of the Genesys source: read from dlt config/secrets ([sources.genesys]) and validated."""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from common.names import GRANULARITIES, MEDIA_TYPES
from loader.errors import ConfigError
from loader.regions import Endpoints, resolve_endpoints

SECTION = "sources.genesys"


@dataclass
class Settings:
    """Everything the source needs; defaults are the documented ones (design.md, README)."""

    client_id: str | None = None
    client_secret: str | None = dataclasses.field(default=None, repr=False)
    region: str = "mypurecloud.com"
    api_base_url: str | None = None
    login_base_url: str | None = None
    granularity: str = "PT1H"
    media_types: list[str] | None = None
    queue_ids: list[str] | None = None
    lookback_hours: float = 48
    initial_days: int = 30
    # windows and async jobs
    window_days: float = 1
    async_after_days: int = 92  # ranges longer than this use async aggregate jobs
    async_window_days: int = 31  # span of one async job (Genesys rejects intervals over ~32 days)
    job_max_resubmits: int = 3  # FAILED/EXPIRED jobs resubmitted at most this many times
    job_poll_cap_s: float = 10.0  # longest wait between two job status polls
    job_timeout_s: float = 900.0  # give up on a job still running after this long
    # HTTP resilience
    max_retries: int = 5  # retries per request on 429/502/503/504/connection errors
    backoff_base_s: float = 1.0  # first exponential backoff step
    backoff_cap_s: float = 60.0  # longest single wait (also caps Retry-After)
    request_timeout_s: float = 60.0  # longest wait to connect or for the next bytes of a reply
    request_deadline_s: float = 120.0  # total time for one request: connection plus whole body
    pace_ratio: float = 0.9  # pause when inin-ratelimit-count reaches this share of the allowed
    queue_page_size: int = 100
    # aggregates windows (or async jobs) in flight at once, all under one shared rate limiter
    max_concurrent_requests: int = 3
    # A long load is committed every ~commit_rows rows (at a window boundary): memory stays flat whatever
    # the range, and a killed run keeps what was committed (the cursor moves with each commit).
    commit_rows: int = 250_000
    # testing aid: pretend the current time is this (ISO-8601, aware)
    now: datetime | None = None
    simulated: bool = field(default=False)

    @property
    def endpoints(self) -> Endpoints:
        return resolve_endpoints(self.region, self.api_base_url, self.login_base_url)

    def validate(self) -> Settings:
        """Check every value; raise ConfigError with a one-line fix."""
        if bool(self.client_id) != bool(self.client_secret):
            missing = "client_secret" if self.client_id else "client_id"
            raise ConfigError(
                f"{missing} is missing: set both sources.genesys.client_id and client_secret "
                f"(.dlt/secrets.toml or SOURCES__GENESYS__{missing.upper()}), or neither to use the simulator"
            )
        self.endpoints  # noqa: B018 - validates region and overrides
        if self.granularity not in GRANULARITIES:
            raise ConfigError(
                f"granularity '{self.granularity}' is not supported; use one of {', '.join(GRANULARITIES)}"
            )
        if self.media_types is not None:
            bad = [m for m in self.media_types if m not in MEDIA_TYPES]
            if bad or not self.media_types:
                raise ConfigError(
                    f"media_types {bad or '[]'} not recognised; use analytics media types such as "
                    "voice, callback, chat, email, message"
                )
        if self.queue_ids is not None and (not self.queue_ids or any(not q for q in self.queue_ids)):
            raise ConfigError("queue_ids is empty or has a blank id; list queue UUIDs or leave it unset")
        if not self.region:
            raise ConfigError('region is empty; set a region domain such as region = "mypurecloud.ie"')
        for name, (low, high) in BOUNDS.items():
            value = getattr(self, name)
            if value < low:
                raise ConfigError(f"{name} = {value} is too small; use at least {low}")
            if value > high:
                raise ConfigError(f"{name} = {value} is too large; use at most {high}")
        if not 0 < self.pace_ratio <= 1:
            raise ConfigError(f"pace_ratio = {self.pace_ratio} must be in (0, 1]")
        return self


# Every numeric key's accepted range, checked before anything runs: the upper bounds keep date arithmetic
# from overflowing and waits finite (Genesys itself caps a page at 500 queues and an interval at ~32 days).
BOUNDS: dict[str, tuple[float, float]] = {
    "lookback_hours": (0, 24 * 366),
    "initial_days": (1, 3660),
    "window_days": (0.04, 31),
    "async_after_days": (1, 3660),
    "async_window_days": (1, 31),
    "job_max_resubmits": (0, 20),
    "job_poll_cap_s": (0.01, 600),
    "job_timeout_s": (1, 86_400),
    "max_retries": (0, 20),
    "backoff_base_s": (0, 600),
    "backoff_cap_s": (0, 3600),
    "request_timeout_s": (0.1, 3600),
    "request_deadline_s": (0.1, 86_400),
    "pace_ratio": (0.01, 1),
    "queue_page_size": (1, 500),
    "commit_rows": (1, 100_000_000),
    "max_concurrent_requests": (1, 32),
}
_INT_KEYS = {"initial_days", "async_after_days", "async_window_days", "job_max_resubmits"}
_INT_KEYS |= {"max_retries", "queue_page_size", "commit_rows", "max_concurrent_requests"}
_FLOAT_KEYS = {"lookback_hours", "window_days", "job_poll_cap_s", "job_timeout_s", "backoff_base_s"}
_FLOAT_KEYS |= {"backoff_cap_s", "request_timeout_s", "request_deadline_s", "pace_ratio"}
_LIST_KEYS = {"media_types", "queue_ids"}
_STR_KEYS = {"region", "api_base_url", "login_base_url", "granularity"}
SECRET_KEYS = ("client_id", "client_secret")
CONFIG_KEYS = tuple(sorted(_INT_KEYS | _FLOAT_KEYS | _LIST_KEYS | _STR_KEYS | {"now"}))


def _as_list(key: str, value: Any) -> list[str]:
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except ValueError:
                raise ConfigError(f'{key} \'{value}\' is not a list; use e.g. ["voice","message"]') from None
        else:
            value = [part for part in re.split(r"[,\s]+", text) if part]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f'{key} must be a list of strings, e.g. ["voice","message"]')
    return [v.strip() for v in value]


def parse_now(value: Any) -> datetime:
    """Aware UTC datetime from an ISO-8601 string (the testing `now`)."""
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
        except ValueError:
            raise ConfigError(
                f"now '{value}' is not an ISO-8601 instant; use e.g. 2026-03-01T12:00:00Z"
            ) from None
    if moment.tzinfo is None:
        raise ConfigError(f"now '{value}' has no UTC offset; use e.g. 2026-03-01T12:00:00Z")
    return moment.astimezone(UTC)


def coerce(key: str, value: Any) -> Any:
    """Convert one raw config value (TOML or env string) to its type, or raise ConfigError."""
    if value is None:
        return None
    if key in _LIST_KEYS:
        return _as_list(key, value)
    if key == "now":
        return parse_now(value)
    if key in _INT_KEYS or key in _FLOAT_KEYS:
        if isinstance(value, bool):
            raise ConfigError(f"{key} = {value!r} is not a number")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{key} '{value}' is not a number; e.g. {key} = 48") from None
        if not math.isfinite(number):  # float() accepts 'inf' and 'nan', which no setting can mean
            raise ConfigError(f"{key} '{value}' is not a finite number; e.g. {key} = 48")
        if key in _INT_KEYS:
            if number != int(number):
                raise ConfigError(f"{key} '{value}' must be a whole number")
            return int(number)
        return number
    if key in _STR_KEYS or key in SECRET_KEYS:
        if not isinstance(value, str):
            raise ConfigError(f"{key} must be a string")
        if key == "region":  # an empty region is a mistake, not "use the default"
            return value.strip()
        return value.strip() or None
    raise ConfigError(f"unknown setting {key}{_suggest(key)}")


def _suggest(key: str, prefix: str = "") -> str:
    """'; did you mean <closest valid key>?' (difflib), or a pointer to the list of keys."""
    close = difflib.get_close_matches(key.lower(), SECRET_KEYS + CONFIG_KEYS, n=1, cutoff=0.6)
    if close:
        return f"; did you mean {prefix}{close[0].upper() if prefix else close[0]}?"
    return "; see README 'Configuration' for the keys"


def check_known_keys(section: Any, source: str) -> None:
    """Refuse a key of [sources.genesys] that no setting has (a typo would otherwise be ignored)."""
    if not isinstance(section, dict):
        return
    valid = set(SECRET_KEYS) | set(CONFIG_KEYS)
    for key in sorted(section):
        if key not in valid:
            raise ConfigError(f"unknown setting '{key}' in [{SECTION}] ({source}){_suggest(key)}")


def check_known_env() -> None:
    """Refuse a SOURCES__GENESYS__* variable that no setting has (names only; values are never read)."""
    prefix = "SOURCES__GENESYS__"
    valid = set(SECRET_KEYS) | set(CONFIG_KEYS)
    for name in sorted(os.environ):
        if name.upper().startswith(prefix):
            key = name[len(prefix) :].lower()
            if key not in valid:
                raise ConfigError(f"unknown setting environment variable {name}{_suggest(key, prefix)}")


def read_error(exc: BaseException) -> str:
    """Where the configuration failed to parse, never what it holds.

    A TOML parser's message quotes what it met (a character, or with other parsers a piece of the line),
    and the line may be the client secret of .dlt/secrets.toml, which is not known yet, so it cannot be
    scrubbed: only the file, the line, the column and the kind of error are shown."""
    from dlt.common.configuration.providers.toml import TomlProviderReadException

    if isinstance(exc, TomlProviderReadException):
        existing = [path for path in exc.full_paths if os.path.isfile(path)]
        where = os.path.normpath(existing[0]) if existing else exc.file_name
        parse = _parser_error(exc)
        if parse is not None:
            line, col = getattr(parse, "line", None), getattr(parse, "col", None)
            if isinstance(line, int) and isinstance(col, int):
                where += f" line {line}, column {col}"
            where += f" ({_words(type(parse).__name__)})"
        return f"{where} is not valid TOML; fix it there and re-run"
    return (
        f"{type(exc).__name__} (its text is not shown: it may quote a secret); check .dlt/config.toml, "
        ".dlt/secrets.toml and the SOURCES__GENESYS__* variables, and re-run"
    )


def _parser_error(exc: BaseException) -> BaseException | None:
    """The TOML parser's own error (tomlkit's, with `line` and `col` when it has them), which dlt's
    exception carries as its context; never shown as text."""
    seen: set[int] = set()
    current = exc.__cause__ or exc.__context__
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if type(current).__module__.startswith("tomlkit"):
            return current
        current = current.__cause__ or current.__context__
    return None


def _words(class_name: str) -> str:
    """'UnexpectedCharError' -> 'unexpected char': an exception's kind without its message."""
    name = class_name.removesuffix("Error").removesuffix("Exception") or class_name
    return re.sub(r"(?<!^)(?=[A-Z])", " ", name).lower()


def load_settings(overrides: dict[str, Any] | None = None) -> Settings:
    """Read [sources.genesys] via dlt (.dlt/*.toml, SOURCES__GENESYS__* env vars); apply overrides."""
    import dlt

    raw: dict[str, Any] = {}
    try:
        check_known_env()
        # dlt merges the section across its providers (both TOML files): one check sees every key
        check_known_keys(dlt.config.get(SECTION), ".dlt/config.toml or secrets.toml")
        check_known_keys(dlt.secrets.get(SECTION), ".dlt/config.toml or secrets.toml")
        for key in SECRET_KEYS:
            raw[key] = dlt.secrets.get(f"{SECTION}.{key}")
        for key in CONFIG_KEYS:
            raw[key] = dlt.config.get(f"{SECTION}.{key}")
    except ConfigError:
        raise
    except Exception as exc:  # a malformed TOML file or env value surfaces here
        raise ConfigError(f"could not read the configuration: {read_error(exc)}") from None
    for key, value in (overrides or {}).items():
        if value is not None:
            raw[key] = value
    values = {key: coerce(key, value) for key, value in raw.items() if value is not None}
    values = {key: value for key, value in values.items() if value is not None}
    return Settings(**values).validate()
