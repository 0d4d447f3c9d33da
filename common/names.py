"""Names the loader, dbt and reporting agree on: database file, dataset, tables, media, granularities."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

# The DuckDB file: GENESYS_DUCKDB_PATH (profiles.yml reads the same variable), else ./genesys.duckdb.
DUCKDB_PATH_ENV = "GENESYS_DUCKDB_PATH"
DEFAULT_DUCKDB_FILE = "genesys.duckdb"

# dlt dataset (a DuckDB schema) holding the raw tables, and the tables the loader writes there.
RAW_DATASET = "genesys_raw"
RAW_TABLES = ("queues", "queue_service_level_targets", "queue_intervals")

# Analytics mediaType values (SDK `AnalyticsSession`); queues configure call/callback/chat/email/message.
MEDIA_TYPES = (
    "voice",
    "callback",
    "chat",
    "email",
    "message",
    "cobrowse",
    "video",
    "screenshare",
    "internalmessage",
    "screenmonitoring",
    "unknown",
)
# The media a queue's service-level settings exist for (queue `call` is analytics `voice`).
QUEUE_MEDIA_TYPES = ("voice", "callback", "chat", "email", "message")

GRANULARITIES: dict[str, timedelta] = {
    "PT1H": timedelta(hours=1),
    "PT30M": timedelta(minutes=30),
    "PT15M": timedelta(minutes=15),
}


def duckdb_path() -> Path:
    """The DuckDB file: GENESYS_DUCKDB_PATH or ./genesys.duckdb, resolved to an absolute path."""
    return Path(os.environ.get(DUCKDB_PATH_ENV) or DEFAULT_DUCKDB_FILE).expanduser().resolve()
