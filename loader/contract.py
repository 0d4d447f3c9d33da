"""The API contract every Genesys reply is checked against before anything of its window is written.

Pure functions: each takes a decoded reply (bytes, a dict, or the Arrow arrays the aggregates parser
built) and either returns what is usable or raises ContractError with one line naming the field and the
value. The aggregates checks run vectorised on the Arrow data (pyarrow.compute and numpy), never per row
in Python, because they run on every bucket of every load.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from loader.errors import ApiError

NOTHING_WRITTEN = (
    "; nothing of this window was written and the cursor stays before it: re-run later, and report the reply "
    "to Genesys support if it persists"
)
# Counts and sums are stored as BIGINT: anything at or above 2**63 would wrap to a negative number.
INT64_LIMIT = float(2**63)
_US = 1_000_000


class ContractError(ApiError):
    """A reply broke the Genesys API contract: nothing of its window is written and the cursor stays."""


@dataclass(frozen=True)
class Bucketing:
    """What a reply was asked for: its window [start, end) in UTC and the bucket size."""

    start: datetime
    end: datetime
    step: timedelta

    @property
    def start_us(self) -> int:
        return _epoch_us(self.start)

    @property
    def end_us(self) -> int:
        return _epoch_us(self.end)

    @property
    def step_us(self) -> int:
        return self.step // timedelta(microseconds=1)


def _epoch_us(moment: datetime) -> int:
    return int(moment.timestamp()) * _US + moment.microsecond


def violation(what: str, field: str, value: Any, rule: str) -> ContractError:
    """The one-line error for a broken rule: `<what>: <field> = <value> <rule>`."""
    shown = repr(value) if not isinstance(value, float) else _number(value)
    return ContractError(f"{what} breaks the API contract: {field} = {shown} {rule}{NOTHING_WRITTEN}")


def _number(value: float) -> str:
    if math.isfinite(value) and value == int(value) and abs(value) < 1e16:
        return str(int(value))
    return repr(value)


# --- bodies ----------------------------------------------------------------------------------------


def check_body(raw: bytes | None, what: str, suffix: str = "") -> bytes:
    """The body when it can be a JSON object; empty, `null` and non-object bodies are one-line errors.

    Checked before the bytes reach pyarrow, whose JSON reader crashes the process on a bare `null`.
    """
    body = (raw or b"").strip()
    if not body:
        raise ContractError(
            f"{what} breaks the API contract: the reply body is empty, not a JSON object{suffix}"
        )
    if body == b"null":
        raise ContractError(
            f"{what} breaks the API contract: the reply body is null, not a JSON object{suffix}"
        )
    if body[:1] != b"{" or body[-1:] != b"}":
        raise ContractError(
            f"{what} breaks the API contract: the reply body is not a JSON object "
            f"(starts {body[:40].decode('utf-8', 'replace')!r}){suffix}"
        )
    return body


def check_object(doc: Any, what: str) -> dict[str, Any]:
    """A parsed JSON reply that must be an object."""
    if not isinstance(doc, dict):
        shown = "null" if doc is None else type(doc).__name__
        raise ContractError(f"{what} breaks the API contract: the reply is {shown}, not a JSON object")
    return doc


def org_id(doc: Any) -> str:
    """The id of an `organizations/me` reply: a non-empty string, or ContractError."""
    body = check_object(doc, "GET /api/v2/organizations/me")
    value = body.get("id")
    if not isinstance(value, str) or not value.strip():
        raise violation(
            "GET /api/v2/organizations/me",
            "id",
            value,
            "is not a non-empty string; every row is labelled with it",
        )
    return value


def queue_page(doc: Any, page_number: int) -> list[dict[str, Any]]:
    """The `entities` of one routing queues page: a list of objects, each with a non-empty string id."""
    what = f"GET /api/v2/routing/queues page {page_number}"
    body = check_object(doc, what)
    entities = body.get("entities")
    if not isinstance(entities, list):
        raise violation(what, "entities", entities, "is not a list")
    for position, entity in enumerate(entities):
        if not isinstance(entity, dict):
            raise violation(what, f"entities[{position}]", entity, "is not an object")
        queue_id = entity.get("id")
        if not isinstance(queue_id, str) or not queue_id.strip():
            raise violation(what, f"entities[{position}].id", queue_id, "is not a non-empty string")
    return entities


def page_limit(doc: dict[str, Any], requested_size: int) -> int | None:
    """How many queue pages the listing can have: ceil(total / pageSize), whatever `pageCount` claims.

    None when the page does not say its total (then `pageCount` and the first empty page decide)."""
    total = doc.get("total")
    size = doc.get("pageSize")
    if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
        size = requested_size
    if not isinstance(total, int) or isinstance(total, bool) or total < 0:
        return None
    return math.ceil(total / size)


# --- aggregates ------------------------------------------------------------------------------------


def check_groups(media_types: pa.Array, queue_ids: pa.Array, what: str) -> np.ndarray:
    """Which result groups to keep: all need a mediaType; one without queueId is real (a conversation that
    never entered a queue, e.g. a direct or outbound call) and is skipped, and counted by the caller."""
    missing_media = media_types.null_count
    if missing_media:
        first = int(np.flatnonzero(~media_types.is_valid().to_numpy(zero_copy_only=False))[0])
        queue = queue_ids[first].as_py()
        raise violation(what, f"group.mediaType (queue {queue})", None, "is missing; every group has one")
    return queue_ids.is_valid().to_numpy(zero_copy_only=False)


def check_intervals(
    starts: np.ndarray, ends: np.ndarray, texts: list[str], index: np.ndarray, bucketing: Bucketing, what: str
) -> None:
    """Each bucket is one granularity step long, aligned to it and inside the window asked for.

    `texts` are the distinct interval strings and `index` maps each bucket to its text, for the message.
    """
    step = bucketing.step_us
    wrong_length = (ends - starts) != step
    misaligned = (starts - bucketing.start_us) % step != 0
    outside = (starts < bucketing.start_us) | (ends > bucketing.end_us)
    for bad, rule in (
        (wrong_length, f"is not one {_step_name(bucketing.step)} bucket long, the granularity asked for"),
        (misaligned, f"is not aligned to the {_step_name(bucketing.step)} granularity asked for"),
        (outside, "is outside the window asked for"),
    ):
        if bad.any():
            raise violation(what, "data.interval", texts[int(index[int(np.flatnonzero(bad)[0])])], rule)


def _step_name(step: timedelta) -> str:
    minutes = int(step.total_seconds() // 60)
    return f"PT{minutes // 60}H" if minutes % 60 == 0 else f"PT{minutes}M"


def check_counts(values: np.ndarray, valid: np.ndarray, field: str, what: str, where: Any) -> None:
    """Counts, sums, numerators and denominators: non-negative whole numbers below 2**63.

    `where(i)` describes bucket row i (queue, media, interval) for the message."""
    present = values[valid]
    if not len(present):
        return
    with np.errstate(invalid="ignore"):
        bad = ~((present >= 0) & (present < INT64_LIMIT) & (np.floor(present) == present))
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        row = int(np.flatnonzero(valid)[first])
        raise violation(
            what,
            f"{field} ({where(row)})",
            float(present[first]),
            "is not a non-negative integer within int64",
        )


def check_ratio(values: np.ndarray, valid: np.ndarray, field: str, what: str, where: Any) -> None:
    """oServiceLevel.target is a ratio in [0, 1]."""
    present = values[valid]
    with np.errstate(invalid="ignore"):
        bad = ~((present >= 0) & (present <= 1))
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        row = int(np.flatnonzero(valid)[first])
        raise violation(what, f"{field} ({where(row)})", float(present[first]), "is not a ratio in [0, 1]")


def check_sl(
    numerator: np.ndarray,
    num_valid: np.ndarray,
    denominator: np.ndarray,
    den_valid: np.ndarray,
    what: str,
    where: Any,
) -> None:
    """oServiceLevel.numerator never exceeds its denominator."""
    both = num_valid & den_valid
    bad = both & (numerator > denominator)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise violation(
            what,
            f"oServiceLevel.numerator ({where(row)})",
            float(numerator[row]),
            f"exceeds oServiceLevel.denominator {_number(float(denominator[row]))}",
        )


def unique_keys(table: pa.Table, key: list[str], what: str, fields: dict[str, str] | None = None) -> pa.Table:
    """The table with each key once: identical repeats collapse to one row, conflicting ones are an error.

    `fields` maps column names to the reply's field names, for the message."""
    if table.num_rows < 2:
        return table
    distinct = table.group_by(key, use_threads=False).aggregate([])
    if distinct.num_rows == table.num_rows:
        return table
    # Rare: find the repeated keys, then compare their rows in full.
    counted = table.group_by(key, use_threads=False).aggregate([([], "count_all")])
    repeated = counted.filter(pc.greater(counted.column("count_all"), 1)).select(key)
    value_columns = [name for name in table.column_names if name not in key]
    rows = table.join(repeated, key, join_type="inner", use_threads=False)
    full = rows.group_by(key + value_columns, use_threads=False).aggregate([])
    if full.num_rows != repeated.num_rows:
        by_key: dict[tuple, dict[str, Any]] = {}
        for row in full.to_pylist():
            ident = tuple(row[k] for k in key)
            if ident in by_key:
                other = by_key[ident]
                field = next(c for c in value_columns if other[c] != row[c])
                place = ", ".join(_describe_value(row[k]) for k in key)
                raise violation(
                    what,
                    f"{(fields or {}).get(field, field)} ({place})",
                    row[field],
                    f"conflicts with {other[field]!r} for the same key repeated in the reply",
                )
            by_key[ident] = row
    # Identical repeats: keep each key's first row.
    numbered = table.append_column("__row", pa.array(np.arange(table.num_rows)))
    firsts = numbered.group_by(key, use_threads=False).aggregate([("__row", "min")])
    keep = np.sort(firsts.column("__row_min").to_numpy())
    return table.take(pa.array(keep))


def _describe_value(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


def row_digest(table: pa.Table, columns: list[str]) -> np.ndarray:
    """A 64-bit digest of each row's numeric and timestamp values in `columns` (a null differs from every
    value), to tell an identical repeat from a conflicting one without keeping the rows."""
    digest = np.zeros(table.num_rows, dtype=np.uint64)
    for position, name in enumerate(columns):
        column = table.column(name).combine_chunks()
        valid = column.is_valid().to_numpy(zero_copy_only=False)
        if pa.types.is_floating(column.type):
            values = column.fill_null(0).to_numpy().view(np.uint64)
        else:
            values = column.cast(pa.int64()).fill_null(0).to_numpy().view(np.uint64)
        salt = np.uint64((0x9E3779B97F4A7C15 * (position + 1)) % 2**64)
        with np.errstate(over="ignore"):  # wrapping multiplication is the point
            mixed = (values ^ salt) * np.uint64(0xBF58476D1CE4E5B9)
            digest = (digest * np.uint64(31)) ^ mixed ^ (~valid).astype(np.uint64)
    return digest


class KeyLedger:
    """The keys of one reply that arrives in pages (an async job's results, or one window's queue_ids
    batches), with a digest of each row: a key repeated on a later page is dropped when identical and is
    a ContractError when it conflicts.

    Text key columns are kept as int32 codes of a vocabulary of the ledger's own (a queue id is 36
    characters, and a 31-day job of 200 queues has ~150k keys): ~20 bytes a key instead of ~65, and no
    reference to the page's own columns, which would keep them alive after dlt has written the page."""

    def __init__(self, key: list[str], value_columns: list[str], what: str) -> None:
        self.key = key
        self.value_columns = value_columns
        self.what = what
        self._seen: list[pa.Table] = []
        self._codes: dict[str, dict[Any, int]] = {}  # per text key column: value -> code

    def _encoded(self, table: pa.Table) -> list[pa.Array]:
        """The key columns of `table`, text ones as codes of the ledger's vocabulary (exact: one code per
        distinct value), the others as copies."""
        columns = []
        for name in self.key:
            column = table.column(name).combine_chunks()
            if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
                codes = self._codes.setdefault(name, {})
                distinct = pc.unique(column)
                for value in distinct.to_pylist():
                    codes.setdefault(value, len(codes))
                mapped = pa.array([codes[v] for v in distinct.to_pylist()], pa.int32())
                column = pc.take(mapped, pc.index_in(column, value_set=distinct))
            else:
                column = pc.take(column, pa.array(np.arange(len(column))))  # its own buffer
            columns.append(column)
        return columns

    def admit(self, table: pa.Table) -> pa.Table:
        """`table` (already unique within its page) without the rows earlier pages had identically."""
        if table.num_rows == 0:
            return table
        digest = pa.array(row_digest(table, self.value_columns))
        keyed = pa.Table.from_arrays(
            [*self._encoded(table), digest, pa.array(np.arange(table.num_rows))],
            names=[*self.key, "__digest", "__row"],
        )
        if self._seen:
            previous = pa.concat_tables(self._seen)
            # The page is the join's build side (Acero hashes the right input), not every key of the
            # window seen so far, rebuilt for every page of each job in flight (365 d x 200 queues: peak
            # RSS 481 MB before, 462 MB after, one run each on a loaded machine).
            hits = previous.join(
                keyed, self.key, join_type="inner", left_suffix="_earlier", use_threads=False
            )
            if hits.num_rows:
                differs = pc.not_equal(hits.column("__digest"), hits.column("__digest_earlier"))
                conflicts = hits.filter(differs)
                if conflicts.num_rows:
                    at = conflicts.column("__row")[0].as_py()
                    row = table.slice(at, 1).select(self.key).to_pylist()[0]
                    place = ", ".join(_describe_value(row[k]) for k in self.key)
                    raise violation(
                        self.what,
                        f"the bucket ({place})",
                        "values differing from an earlier page",
                        "repeats a key of the same reply",
                    )
                repeated = np.zeros(table.num_rows, dtype=bool)
                repeated[hits.column("__row").to_numpy()] = True
                table = table.filter(pa.array(~repeated))
                keyed = keyed.filter(pa.array(~repeated))
        self._seen.append(keyed.select([*self.key, "__digest"]))
        return table
