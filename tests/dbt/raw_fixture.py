"""A small, realistic genesys_raw data set with the exact columns and types of the loader's raw tables."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import duckdb

ORG = "simulator"
FIRST_BUCKET = datetime(2026, 3, 1, tzinfo=UTC)
N_HOURS = 72  # 2026-03-01 .. 2026-03-03 (UTC), PT1H
LISTED_AT = datetime(2026, 3, 4, 6, 0, tzinfo=UTC)  # latest listing of the org
OLD_LISTING_AT = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
LOADED_AT = datetime(2026, 3, 4, 6, 0, 5, tzinfo=UTC)
TARGET_CHANGE_AT = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)

# queue_id -> (name, division, first_seen_at, last_seen_at); q-ghost was seen in analytics only
QUEUES: dict[str, tuple[str | None, str | None, datetime | None, datetime | None]] = {
    "q-sales": ("Sales", "Main", OLD_LISTING_AT, LISTED_AT),
    "q-support": ("Support", "Main", OLD_LISTING_AT, LISTED_AT),
    "q-old": ("Old Queue", "Legacy", OLD_LISTING_AT, OLD_LISTING_AT),
    "q-ghost": (None, None, None, None),
}
GROUPS = [("q-sales", "voice"), ("q-sales", "message"), ("q-support", "voice"), ("q-old", "voice")]
GHOST_GROUP = ("q-ghost", "voice")

RAW_DDL = """
create schema if not exists genesys_raw;
create table genesys_raw.queues (
    org_id varchar, queue_id varchar, name varchar, division_id varchar, division_name varchar,
    first_seen_at timestamp with time zone, last_seen_at timestamp with time zone,
    _dlt_load_id varchar not null, _dlt_id varchar not null
);
create table genesys_raw.queue_service_level_targets (
    org_id varchar, queue_id varchar, media_type varchar, target_ratio double, threshold_ms bigint,
    _dlt_valid_from timestamp with time zone, _dlt_valid_to timestamp with time zone,
    _dlt_load_id varchar not null, _dlt_id varchar not null
);
create table genesys_raw.queue_intervals (
    org_id varchar, queue_id varchar, media_type varchar,
    interval_start timestamp with time zone, interval_end timestamp with time zone,
    offered_count bigint, answered_count bigint, answered_ms_sum bigint, abandoned_count bigint,
    abandoned_ms_sum bigint, short_abandoned_count bigint, flow_out_count bigint, handled_count bigint,
    handle_ms_sum bigint, wait_count bigint, wait_ms_sum bigint, over_sla_count bigint,
    sl_numerator bigint, sl_denominator bigint, sl_target_ratio double,
    loaded_at timestamp with time zone, _dlt_load_id varchar not null, _dlt_id varchar not null
);
"""

INTERVAL_COLUMNS = [
    "org_id",
    "queue_id",
    "media_type",
    "interval_start",
    "interval_end",
    "offered_count",
    "answered_count",
    "answered_ms_sum",
    "abandoned_count",
    "abandoned_ms_sum",
    "short_abandoned_count",
    "flow_out_count",
    "handled_count",
    "handle_ms_sum",
    "wait_count",
    "wait_ms_sum",
    "over_sla_count",
    "sl_numerator",
    "sl_denominator",
    "sl_target_ratio",
    "loaded_at",
    "_dlt_load_id",
    "_dlt_id",
]


@dataclass(frozen=True)
class Bucket:
    """One raw queue_intervals row as the loader writes it (absent metric = None)."""

    queue_id: str
    media_type: str
    interval_start: datetime
    offered: int | None
    answered: int | None
    answered_ms: int | None
    abandoned: int | None
    short_abandoned: int | None
    flow_outs: int | None
    handled: int | None
    handle_ms: int | None
    over_sla: int | None
    sl_numerator: int | None
    sl_denominator: int | None
    sl_target_ratio: float | None


def _bucket(rng: random.Random, queue_id: str, media: str, start: datetime) -> Bucket | None:
    """Numbers obeying the API identities: offered = answered + abandoned + flow-outs, etc."""
    hour = start.hour
    if hour < 6 and rng.random() < 0.7:
        return None  # sparse: quiet night buckets are absent
    answered = rng.randint(0, 30)
    abandoned = rng.randint(0, 5)
    short = rng.randint(0, abandoned)
    flow_outs = rng.randint(0, 2)
    over_sla = rng.randint(0, answered // 4)
    offered = answered + abandoned + flow_outs
    if offered == 0:
        return None
    denominator = answered + abandoned
    target = 0.9 if (queue_id, media) == ("q-sales", "voice") and start >= TARGET_CHANGE_AT else 0.8
    return Bucket(
        queue_id=queue_id,
        media_type=media,
        interval_start=start,
        offered=offered,
        answered=answered or None,
        answered_ms=answered * rng.randint(2_000, 40_000) if answered else None,
        abandoned=abandoned or None,
        short_abandoned=short or None,
        flow_outs=flow_outs or None,
        handled=max(answered - 1, 0) or None,
        handle_ms=max(answered - 1, 0) * rng.randint(60_000, 600_000) or None,
        over_sla=over_sla or None,
        sl_numerator=(answered - over_sla) if denominator else None,
        sl_denominator=denominator or None,
        sl_target_ratio=target if denominator else None,
    )


def make_buckets(seed: int = 7) -> list[Bucket]:
    """Deterministic buckets for GROUPS over N_HOURS, plus a few for the never-listed queue."""
    rng = random.Random(seed)
    buckets: list[Bucket] = []
    for queue_id, media in GROUPS:
        for hour in range(N_HOURS):
            bucket = _bucket(rng, queue_id, media, FIRST_BUCKET + timedelta(hours=hour))
            if bucket is not None:
                buckets.append(bucket)
    for hour in (10, 11, 12):
        bucket = _bucket(rng, *GHOST_GROUP, FIRST_BUCKET + timedelta(hours=hour))
        if bucket is not None:
            buckets.append(bucket)
    # a bucket where only abandons happened: no tAnswered, no tHandle, SL 0 / n
    only_abandons = Bucket(
        "q-support",
        "voice",
        FIRST_BUCKET + timedelta(hours=3),
        2,
        None,
        None,
        2,
        1,
        None,
        None,
        None,
        None,
        0,
        2,
        0.8,
    )
    keyed = {(b.queue_id, b.media_type, b.interval_start): b for b in [*buckets, only_abandons]}
    return [keyed[key] for key in sorted(keyed)]


def write_raw_tables(path: str, buckets: list[Bucket], loaded_at: datetime = LOADED_AT) -> None:
    """Create the three genesys_raw tables in the DuckDB file at `path` and fill them."""
    with duckdb.connect(path) as con:
        con.execute("set TimeZone = 'UTC'")
        con.execute(RAW_DDL)
        con.executemany(
            "insert into genesys_raw.queues values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                [ORG, qid, name, f"div-{division}" if division else None, division, first, last, "1", f"q{i}"]
                for i, (qid, (name, division, first, last)) in enumerate(QUEUES.items())
            ],
        )
        targets = [
            # q-sales voice: 80 % until the change, then 90 %; the others unchanged
            ("q-sales", "voice", 0.8, OLD_LISTING_AT, TARGET_CHANGE_AT),
            ("q-sales", "voice", 0.9, TARGET_CHANGE_AT, None),
            ("q-sales", "message", 0.8, OLD_LISTING_AT, None),
            ("q-support", "voice", 0.7, OLD_LISTING_AT, None),
            ("q-old", "voice", 0.8, OLD_LISTING_AT, OLD_LISTING_AT + timedelta(hours=1)),
        ]
        con.executemany(
            "insert into genesys_raw.queue_service_level_targets values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                [ORG, qid, media, ratio, 20_000, valid_from, valid_to, "1", f"t{i}"]
                for i, (qid, media, ratio, valid_from, valid_to) in enumerate(targets)
            ],
        )
        append_intervals(con, buckets, loaded_at)


def append_intervals(con: duckdb.DuckDBPyConnection, buckets: list[Bucket], loaded_at: datetime) -> None:
    """Merge buckets into genesys_raw.queue_intervals as the loader does (replace on the key)."""
    con.executemany(
        "delete from genesys_raw.queue_intervals where org_id = ? and queue_id = ? and media_type = ?"
        " and interval_start = ?",
        [[ORG, b.queue_id, b.media_type, b.interval_start] for b in buckets],
    )
    rows = []
    for b in buckets:
        wait = b.offered
        rows.append(
            [
                ORG,
                b.queue_id,
                b.media_type,
                b.interval_start,
                b.interval_start + timedelta(hours=1),
                b.offered,
                b.answered,
                b.answered_ms,
                b.abandoned,
                None if b.abandoned is None else 1000 * b.abandoned,
                b.short_abandoned,
                b.flow_outs,
                b.handled,
                b.handle_ms,
                wait,
                None if wait is None else 5000 * wait,
                b.over_sla,
                b.sl_numerator,
                b.sl_denominator,
                b.sl_target_ratio,
                loaded_at,
                loaded_at.isoformat(),
                f"{b.queue_id}/{b.media_type}/{b.interval_start.isoformat()}",
            ]
        )
    placeholders = ", ".join("?" * len(INTERVAL_COLUMNS))
    con.executemany(f"insert into genesys_raw.queue_intervals values ({placeholders})", rows)
