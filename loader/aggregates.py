"""Conversation aggregates: the query body for one window and the response as a pyarrow.Table."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json

from loader import contract
from loader.contract import NOTHING_WRITTEN, Bucketing, ContractError, check_body
from loader.windows import Window, parse_granularity

METRICS = [
    "nOffered",
    "tAnswered",
    "tAbandon",
    "tShortAbandon",
    "tFlowOut",
    "tWait",
    "tHandle",
    "nOverSla",
    "oServiceLevel",
]
GROUP_BY = ["queueId", "mediaType"]
_METRIC_NAMES = pa.array(METRICS, pa.string())
AGGREGATES_PATH = "/analytics/conversations/aggregates/query"

# (column, metric, stat) in table order; counts are BIGINT, the target ratio DOUBLE.
METRIC_COLUMNS: list[tuple[str, str, str]] = [
    ("offered_count", "nOffered", "count"),
    ("answered_count", "tAnswered", "count"),
    ("answered_ms_sum", "tAnswered", "sum"),
    ("abandoned_count", "tAbandon", "count"),
    ("abandoned_ms_sum", "tAbandon", "sum"),
    ("short_abandoned_count", "tShortAbandon", "count"),
    ("flow_out_count", "tFlowOut", "count"),
    ("handled_count", "tHandle", "count"),
    ("handle_ms_sum", "tHandle", "sum"),
    ("wait_count", "tWait", "count"),
    ("wait_ms_sum", "tWait", "sum"),
    ("over_sla_count", "nOverSla", "count"),
    ("sl_numerator", "oServiceLevel", "numerator"),
    ("sl_denominator", "oServiceLevel", "denominator"),
    ("sl_target_ratio", "oServiceLevel", "target"),
]
_FIELD_NAMES = {column: f"{metric}.{stat}" for column, metric, stat in METRIC_COLUMNS}
TS = pa.timestamp("us", tz="UTC")
SCHEMA = pa.schema(
    [
        pa.field("org_id", pa.string(), nullable=False),
        pa.field("queue_id", pa.string(), nullable=False),
        pa.field("media_type", pa.string(), nullable=False),
        pa.field("interval_start", TS, nullable=False),
        pa.field("interval_end", TS, nullable=False),
        *[
            pa.field(name, pa.float64() if stat == "target" else pa.int64(), nullable=True)
            for name, _, stat in METRIC_COLUMNS
        ],
        pa.field("loaded_at", TS, nullable=False),
    ]
)
PRIMARY_KEY = ["org_id", "queue_id", "media_type", "interval_start"]
# A reply holds one org: a key repeats in it when these repeat.
KEY_COLUMNS = ["queue_id", "media_type", "interval_start"]


# The response is parsed by Arrow's C++ JSON reader into columns against an explicit schema (fields not in
# it are ignored), then pivoted with vectorised compute: no Python object per bucket or metric. This is
# several times faster than building dicts, and the bulk of a load's CPU time is here.
_F = pa.float64()
_STATS = pa.struct([("count", _F), ("sum", _F), ("numerator", _F), ("denominator", _F), ("target", _F)])
_METRIC = pa.struct([("metric", pa.string()), ("stats", _STATS)])
_BUCKET = pa.struct([("interval", pa.string()), ("metrics", pa.list_(_METRIC))])
_GROUP = pa.struct([("queueId", pa.string()), ("mediaType", pa.string())])
_RESULT = pa.struct([("group", _GROUP), ("data", pa.list_(_BUCKET))])
_RESPONSE = pa.schema([("results", pa.list_(_RESULT)), ("cursor", pa.string())])
_PARSE = pa_json.ParseOptions(explicit_schema=_RESPONSE, unexpected_field_behavior="ignore")


@dataclass
class Decoded:
    """A decoded aggregates body: its results as a flat Arrow array of groups, and the paging cursor."""

    results: pa.Array | None
    cursor: str | None


def decode(raw: bytes | None, what: str = "an aggregates reply") -> Decoded:
    """Decode a sync aggregates or async job-results body (`results`, optional `cursor`).

    Empty, `null` and non-object bodies are ContractErrors, raised before pyarrow sees the bytes."""
    body = check_body(raw, what, NOTHING_WRITTEN)
    # JSON strings cannot hold raw newlines, so this only joins a pretty-printed body onto one line,
    # which the line-delimited reader needs.
    if b"\n" in body or b"\r" in body:
        body = body.replace(b"\r", b" ").replace(b"\n", b" ")
    try:
        table = pa_json.read_json(
            io.BytesIO(body),
            read_options=pa_json.ReadOptions(block_size=len(body) + 64, use_threads=False),
            parse_options=_PARSE,
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        detail = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise ContractError(
            f"{what} breaks the API contract: the body is not the aggregates JSON shape ({detail})"
            f"{NOTHING_WRITTEN}"
        ) from None
    if table.num_rows != 1:
        raise ContractError(
            f"{what} breaks the API contract: the body is not one JSON object{NOTHING_WRITTEN}"
        )
    cursor = table.column("cursor")[0].as_py()
    results = table.column("results").combine_chunks()
    return Decoded(pc.list_flatten(results) if results.null_count == 0 else None, cursor)


def build_query(
    window: Window,
    granularity: str,
    queue_ids: list[str] | None = None,
    media_types: list[str] | None = None,
) -> dict[str, Any]:
    """ConversationAggregationQuery for all (or the filtered) queues and media types over one window."""
    body: dict[str, Any] = {
        "interval": window.interval,
        "granularity": granularity,
        "groupBy": list(GROUP_BY),
        "metrics": list(METRICS),
    }
    clauses = []
    if queue_ids:
        clauses.append(
            {"type": "or", "predicates": [{"dimension": "queueId", "value": q} for q in queue_ids]}
        )
    if media_types:
        clauses.append(
            {"type": "or", "predicates": [{"dimension": "mediaType", "value": m} for m in media_types]}
        )
    if clauses:
        body["filter"] = {"type": "and", "clauses": clauses}
    return body


def _epoch_us(text: str) -> int:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp()) * 1_000_000 + moment.microsecond


def _parse_intervals(intervals: pa.Array, what: str) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray]:
    """Start/end epoch microseconds per bucket, the distinct interval texts and each bucket's index into
    them; each distinct interval string is parsed once in Python."""
    if intervals.null_count:
        raise contract.violation(what, "data.interval", None, "is missing; every bucket has one")
    unique = pc.unique(intervals)
    texts = unique.to_pylist()
    starts, ends = [], []
    for text in texts:
        first, _, second = (text or "").partition("/")
        try:
            starts.append(_epoch_us(first))
            ends.append(_epoch_us(second))
        except ValueError:
            raise contract.violation(
                what, "data.interval", text, "is not an ISO-8601 start/end interval"
            ) from None
    index = pc.index_in(intervals, value_set=unique).to_numpy(zero_copy_only=False)
    return (
        np.asarray(starts, dtype=np.int64)[index],
        np.asarray(ends, dtype=np.int64)[index],
        texts,
        index,
    )


@dataclass
class Parsed:
    """One checked reply (or job results page): its rows, the queue ids in them, and the groups skipped
    because they have no queueId (conversations that never entered a queue)."""

    table: pa.Table
    queue_ids: set[str]
    skipped_groups: int = 0


def _window_label(window: Window | None) -> str:
    return f"the aggregates reply for window {window}" if window is not None else "an aggregates reply"


def parse_results(
    results: pa.Array | None,
    org_id: str,
    loaded_at: datetime,
    window: Window | None = None,
    granularity: str | None = None,
    what: str | None = None,
) -> Parsed:
    """Flat results (one struct per group) -> checked rows per group x bucket (loader.contract rules).

    Raises ContractError naming the window, the field and the value for any broken rule; with `window` and
    `granularity` the buckets must also be aligned inside the window."""
    what = what or _window_label(window)
    if results is None or len(results) == 0:
        return Parsed(SCHEMA.empty_table(), set())
    # pc.struct_field (unlike StructArray.field) makes a field null where its parent is null, so a null
    # group (or a null result) reads as a group without mediaType.
    group = pc.struct_field(results, "group")
    queue_ids = pc.struct_field(group, "queueId")
    media_types = pc.struct_field(group, "mediaType")
    has_queue = contract.check_groups(media_types, queue_ids, what)
    skipped = int((~has_queue).sum())
    data = pc.struct_field(results, "data")
    group_index = pc.list_parent_indices(data)
    buckets = pc.list_flatten(data)
    n = len(buckets)
    if n == 0:
        return Parsed(SCHEMA.empty_table(), set(pc.unique(queue_ids.drop_null()).to_pylist()), skipped)
    group_np = group_index.to_numpy(zero_copy_only=False)
    keep_np = has_queue[group_np]
    if buckets.null_count:
        raise contract.violation(what, "data[]", None, "is a null bucket")
    start, end, texts, text_index = _parse_intervals(buckets.field("interval"), what)
    queue = pc.take(queue_ids, group_index)
    media = pc.take(media_types, group_index)

    def where(row: int) -> str:
        return f"queue {queue[row].as_py()}, {media[row].as_py()}, bucket {texts[int(text_index[row])]}"

    if window is not None and granularity is not None:
        bucketing = Bucketing(window.start, window.end, parse_granularity(granularity))
        contract.check_intervals(start[keep_np], end[keep_np], texts, text_index[keep_np], bucketing, what)
    metrics = buckets.field("metrics")
    row_of_metric = pc.list_parent_indices(metrics).to_numpy(zero_copy_only=False)
    flat = pc.list_flatten(metrics)
    # Each metric name is matched once (its position in METRICS, -1 for others) and each stat converted
    # once, rather than comparing strings and converting again for each of the 15 columns.
    codes = pc.index_in(flat.field("metric"), value_set=_METRIC_NAMES).fill_null(-1)
    metric_code = codes.to_numpy(zero_copy_only=False)
    stats = flat.field("stats")
    stat_arrays: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for stat in {stat for _, _, stat in METRIC_COLUMNS}:
        child = stats.field(stat)
        valid = child.is_valid().to_numpy(zero_copy_only=False)
        stat_arrays[stat] = (child.to_numpy(zero_copy_only=False), valid)
    columns: list[pa.Array] = []
    checked: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for _, metric, stat in METRIC_COLUMNS:
        stat_values, stat_valid = stat_arrays[stat]
        picked_np = (metric_code == METRICS.index(metric)) & stat_valid
        rows = row_of_metric[picked_np]
        values = np.zeros(n, dtype=np.float64)
        present = np.zeros(n, dtype=bool)
        values[rows] = stat_values[picked_np]
        present[rows] = True
        field = f"{metric}.{stat}"
        if stat == "target":
            contract.check_ratio(values, present & keep_np, field, what, where)
            columns.append(pa.array(values, pa.float64(), mask=~present))
        else:
            contract.check_counts(values, present & keep_np, field, what, where)
            checked[stat] = (values, present & keep_np)
            with np.errstate(invalid="ignore"):  # only rows of skipped groups can be out of range here
                columns.append(pa.array(values.astype(np.int64), pa.int64(), mask=~present))
    contract.check_sl(*checked["numerator"], *checked["denominator"], what, where)
    loaded_us = int(loaded_at.timestamp() * 1_000_000)
    table = pa.Table.from_arrays(
        [
            pa.array(np.full(n, org_id, dtype=object), pa.string()),
            queue,
            media,
            pa.array(start, pa.int64()).cast(TS),
            pa.array(end, pa.int64()).cast(TS),
            *columns,
            pa.array(np.full(n, loaded_us, dtype=np.int64)).cast(TS),
        ],
        names=SCHEMA.names,
    )
    if not keep_np.all():
        table = table.filter(pa.array(keep_np))
    table = contract.unique_keys(table.cast(SCHEMA), KEY_COLUMNS, what, _FIELD_NAMES)
    seen = set(pc.unique(table.column("queue_id")).to_pylist())
    return Parsed(table, seen, skipped)


# What tells two rows of one key apart (org_id is one per reply, loaded_at one per run).
VALUE_COLUMNS = ["interval_end", *[name for name, _, _ in METRIC_COLUMNS]]


def job_ledger(window: Window) -> contract.KeyLedger:
    """The keys seen so far in the replies for `window`: the pages of its async jobs, or the replies to
    its queue_ids batches."""
    return contract.KeyLedger(KEY_COLUMNS, VALUE_COLUMNS, _window_label(window))


def parse_reply(
    raw: bytes | None,
    org_id: str,
    loaded_at: datetime,
    window: Window | None = None,
    granularity: str | None = "PT1H",
) -> Parsed:
    """One sync aggregates reply for `window` -> checked rows (absent metrics are nulls, never zeros)."""
    what = _window_label(window)
    return parse_results(decode(raw, what).results, org_id, loaded_at, window, granularity, what)


def parse_response(
    raw: bytes, org_id: str, loaded_at: datetime, window: Window | None = None, granularity: str = "PT1H"
) -> pa.Table:
    """One sync aggregates response body -> its checked Arrow table (parse_reply without the counts)."""
    return parse_reply(raw, org_id, loaded_at, window, granularity).table
