"""The dlt source `genesys`: queues, queue_service_level_targets (scd2) and queue_intervals (merge)."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import logging
import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import dlt
import numpy as np
import pyarrow as pa
from dlt.extract.resource import with_hints

from common import interrupts
from loader import aggregates, contract, jobs
from loader.aggregates import AGGREGATES_PATH, build_query, parse_reply, parse_results
from loader.client import GenesysHttp
from loader.config import Settings, load_settings
from loader.errors import ApiError, ConfigError, WindowError
from loader.feed import WindowDone, WindowFeed
from loader.queues import (
    QUEUE_COLUMNS,
    TARGET_COLUMNS,
    list_queues,
    placeholder_rows,
    queue_rows,
    target_rows,
)
from loader.windows import LoadRange, Window, parse_granularity, parse_timezone, plan_range, split_windows

logger = logging.getLogger(__name__)

ORG_PATH = "/organizations/me"
# Rows parsed ahead of dlt held in memory at most (~4 MB of Arrow tables); beyond them the feed spills
# to a temporary folder, so the windows in flight keep fetching while dlt commits (a bound that made the
# workers wait left the API idle: one 31-day job of 200 queues is ~150-300k rows). 60k rows held ~12 MB
# more at the peak of a 365-day load (376 -> 362-364 MB, three runs, 2026-12-01), with no loss of
# throughput measurable under load (a sync window of 200 queues is ~5k rows: the feed still holds 4).
FEED_MAX_ROWS = 20_000
QUEUE_KEY = ["org_id", "queue_id"]
# Filter predicates per aggregates query: queue_ids beyond this go out in several queries per window.
MAX_PREDICATES = 100
CURSOR_KEY = "cursor"  # source state: end of the last loaded bucket of the whole org
SCOPED_CURSORS = "scoped_cursors"  # source state: the same, per scope narrowed by config
# dlt's row id column, NOT NULL as dlt itself declares it.
ROW_ID_FIELD = pa.field("_dlt_id", pa.string(), nullable=False)


@dataclass
class RunContext:
    """What one run shares between the caller and the resources: settings, HTTP, plan and counters.

    Nothing here touches the network when it is built: the org id and the queue listing are fetched on
    first use, by the resources (or by the caller beforehand)."""

    settings: Settings
    http: GenesysHttp
    load_range: LoadRange
    windows: list[Window]
    use_jobs: bool = False
    loaded_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    rows: dict[str, int] = field(default_factory=dict)
    # The state key of the cursor this run advances: "cursor" for the whole org, a scoped key for a scope
    # narrowed by config, None for a one-off --queues/--media load (which moves no cursor).
    cursor_key: str | None = CURSOR_KEY
    listing: list[dict[str, Any]] | None = None
    placeholders: set[str] = field(default_factory=set)
    # Windows are fetched and parsed by worker threads while dlt writes the earlier ones.
    feed: WindowFeed | None = None
    feed_max_rows: int = FEED_MAX_ROWS
    spill_parent: str | None = None  # where the feed's spill folder goes (None: the system's temp folder)
    windows_done: int = 0
    window_rows: list[int] = field(default_factory=list)  # rows of each window loaded in this run
    chunk_stop: int | None = None  # this pipeline run loads windows windows_done..chunk_stop-1
    listing_loaded: bool = False  # queues and targets are loaded by the first chunk only
    windows_split: int = 0
    org_id: str | None = None
    # called with (window marker, Window) on the consuming thread after each window (progress display)
    on_window: Callable[[WindowDone, Window], None] | None = None
    # result groups skipped: no queueId (never entered a queue); added to by every window's worker thread
    groups_without_queue: int = 0
    # Raw async job results pages held at once by all jobs in flight: one per request slot, plus one so
    # that a job can fetch its next page while its last one is decoded (the latency of a job's chain of
    # pages). More ahead only held memory (~5 MB a page) while decoding was the slower side.
    page_budget: jobs.PageBudget = field(init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self.page_budget = jobs.PageBudget(self.settings.max_concurrent_requests + 1)

    def count(self, table: str, n: int) -> None:
        with self._lock:
            self.rows[table] = self.rows.get(table, 0) + n

    def note_split(self) -> None:
        with self._lock:
            self.windows_split += 1

    def note_skipped_groups(self, n: int) -> None:
        """Count result groups without a queueId (worker threads add theirs concurrently)."""
        if n:
            with self._lock:
                self.groups_without_queue += n

    def org(self) -> str:
        """The org id (`organizations/me`), fetched once."""
        with self._lock:
            if self.org_id is None:
                self.org_id = contract.org_id(self.http.request_json("GET", ORG_PATH))
            return self.org_id

    def queue_listing(self) -> list[dict[str, Any]]:
        """The full queue listing, fetched once per run."""
        with self._lock:
            if self.listing is None:
                self.listing = list_queues(self.http, self.settings.queue_page_size)
            return self.listing

    def window_feed(self) -> WindowFeed:
        """The feed of the windows not yet loaded (started on first use, kept across pipeline runs)."""
        if self.feed is None:
            self.feed = WindowFeed(
                lambda index, done: _window_tables(self, index, done),
                self.windows_done,
                len(self.windows),
                self.feed_max_rows,
                workers=self.settings.max_concurrent_requests,
                spill_dir=self._spill_dir(),
            )
        return self.feed

    def _spill_dir(self) -> str:
        """A new folder for the feed's spilled tables, removed by the feed when done. Under spill_parent
        (run_load: dlt's working folder, which the next run clears, even after a killed one), else in the
        system's temporary folder."""
        if self.spill_parent is not None:
            os.makedirs(self.spill_parent, exist_ok=True)
        return tempfile.mkdtemp(prefix="window-feed-", dir=self.spill_parent)

    def close(self) -> None:
        """Stop every worker: waiting requests give up at once, the threads end."""
        self.http.limiter.close()
        if self.feed is not None:
            self.feed.close()
            self.feed = None


def state_cursor(state: dict[str, Any], key: str | None = CURSOR_KEY) -> datetime | None:
    """The incremental cursor (end of the last loaded bucket) stored in dlt source state under `key`."""
    value = state.get(key) if key == CURSOR_KEY else (state.get(SCOPED_CURSORS) or {}).get(key or "")
    return datetime.fromisoformat(value) if value else None


def scope_cursor_key(settings: Settings) -> str:
    """State key of the cursor of the configured scope: the main one, or one per narrowed scope."""
    if not (settings.queue_ids or settings.media_types):
        return CURSOR_KEY
    scope = {"queue_ids": sorted(settings.queue_ids or []), "media_types": sorted(settings.media_types or [])}
    return hashlib.sha256(json.dumps(scope).encode()).hexdigest()[:16]


def plan_windows(settings: Settings, load_range: LoadRange, report_tz: str, force_jobs: bool | None) -> tuple:
    """Query windows for the range: local days (sync) or async_window_days chunks (async jobs)."""
    zone = parse_timezone(report_tz)
    step = parse_granularity(settings.granularity)
    span_days = (load_range.end - load_range.start) / timedelta(days=1)
    use_jobs = bool(force_jobs) if force_jobs is not None else span_days > settings.async_after_days
    days = settings.async_window_days if use_jobs else settings.window_days
    windows = list(split_windows(load_range.start, load_range.end, zone, days, step))
    return windows, use_jobs


def incremental_run(settings: Settings, state: dict[str, Any]) -> RunContext:
    """The run of a plain `dlt` pipeline: incremental in UTC from the state's cursor (no network)."""
    if not settings.client_id:
        raise ConfigError(
            "sources.genesys.client_id and client_secret are not configured; set them, or run "
            "`python -m loader`, which falls back to the bundled simulator"
        )
    if state.get("granularity", settings.granularity) != settings.granularity:
        raise ConfigError(
            f"granularity {settings.granularity} differs from {state['granularity']} already loaded; "
            "keep it, or reload everything with a full refresh"
        )
    key = scope_cursor_key(settings)
    load_range = plan_range(
        start_date=None,
        end_date=None,
        zone=parse_timezone("UTC"),
        granularity=settings.granularity,
        now=settings.now or datetime.now(UTC),
        cursor=state_cursor(state, key),
        lookback_hours=settings.lookback_hours,
        initial_days=settings.initial_days,
    )
    windows, use_jobs = plan_windows(settings, load_range, "UTC", None)
    return RunContext(settings, GenesysHttp(settings), load_range, windows, use_jobs, cursor_key=key)


@dlt.source(name="genesys", max_table_nesting=0)
def genesys(settings: Settings | None = None, run: RunContext | None = None) -> Any:
    """Genesys Cloud queue service-level data; building it touches no network.

    `settings` defaults to [sources.genesys] resolved once (load_settings); `run` is passed by
    loader.pipeline.run_load, which plans the range and commits a long load in chunks. Without it the
    source loads incrementally from the cursor in the pipeline's state."""
    if run is None:
        run = incremental_run(settings or load_settings(), dlt.current.source_state())
    stop = run.chunk_stop if run.chunk_stop is not None else len(run.windows)
    intervals = queue_intervals(run, run.windows_done, stop)
    if run.windows_done < stop:
        intervals.apply_hints(
            write_disposition={
                "disposition": "merge",
                "strategy": "delete-insert",
                "deduplicated": True,
                "destination_scope": destination_scope(run, run.windows_done, stop),
            }
        )
    if run.listing_loaded:
        return [intervals]  # later chunks of a long load only continue queue_intervals
    return [queues(run), queue_service_level_targets(run), intervals]


@dlt.resource(name="queues", write_disposition="merge", primary_key=QUEUE_KEY, columns=QUEUE_COLUMNS)
def queues(run: RunContext) -> Iterator[list[dict[str, Any]]]:
    """Every listed queue with first/last seen times (a deleted queue keeps its row and last name)."""
    state = dlt.current.source_state()
    first_seen = state.setdefault("first_seen", {})
    rows = queue_rows(run.queue_listing(), run.org(), run.loaded_at, first_seen)
    run.listing_loaded = True
    run.count("queues", len(rows))
    yield rows


@dlt.resource(
    name="queue_service_level_targets",
    write_disposition={"disposition": "merge", "strategy": "scd2"},
    columns=TARGET_COLUMNS,
)
def queue_service_level_targets(run: RunContext) -> Iterator[list[dict[str, Any]]]:
    """Each queue's configured service-level goal per media type, with validity ranges (scd2)."""
    rows = target_rows(run.queue_listing(), run.org())
    run.count("queue_service_level_targets", len(rows))
    yield rows


@dlt.resource(
    name="queue_intervals",
    # Windows never overlap, so one load never holds a key twice: skipping dlt's staging dedup (a
    # window function over the whole load) keeps the merge fast and its memory bounded.
    write_disposition={"disposition": "merge", "strategy": "delete-insert", "deduplicated": True},
    primary_key=aggregates.PRIMARY_KEY,
)
def queue_intervals(run: RunContext, first: int, stop: int) -> Iterator[Any]:
    """Windows first..stop-1 in order, as Arrow tables; the cursor moves past each window in turn."""
    state = dlt.current.source_state()
    state.setdefault("granularity", run.settings.granularity)
    org_id = run.org()
    seen: set[str] = set()
    total = len(run.windows)
    while run.windows_done < stop:
        feed = run.window_feed()
        # The windows of this commit arrive interleaved: this merge replaces all of them at once, so their
        # order does not matter, and the async jobs in flight are all consumed as their pages come.
        feed.open_until(stop)
        while not isinstance(item := feed.get(), WindowDone):
            interrupts.raise_if_interrupted()  # in case the signal's own raise was swallowed by a query
            run.count("queue_intervals", item.num_rows)
            yield item
        seen |= item.queue_ids
        window = run.windows[item.index]
        run.windows_done += 1
        run.window_rows.append(item.rows)
        if run.cursor_key is not None:
            _advance_cursor(state, run.cursor_key, run.load_range, window)
        logger.info(
            "window %d of %d %s: %d rows, %d API calls, %d retries",
            item.index + 1,
            total,
            window,
            item.rows,
            item.calls,
            item.retries,
        )
        if run.on_window is not None:
            run.on_window(item, window)
    listed_ids = {q["id"] for q in run.queue_listing()}
    unknown = seen - listed_ids - set(state.get("first_seen", {})) - run.placeholders
    run.placeholders |= unknown
    if unknown:
        logger.info("%d queue ids in analytics were never listed; adding them with NULL names", len(unknown))
        run.count("queues", len(unknown))
        hints = dlt.mark.make_hints(
            table_name="queues", write_disposition="merge", primary_key=QUEUE_KEY, columns=QUEUE_COLUMNS
        )
        yield with_hints(placeholder_rows(org_id, unknown), hints, create_table_variant=True)


def _sql_list(values: list[str]) -> str:
    return ", ".join("'" + value.replace("'", "''") + "'" for value in values)


def destination_scope(run: RunContext, first: int, stop: int) -> str:
    """The destination rows a queue_intervals merge replaces: EVERY row of windows first..stop-1 within
    the run's queue/media scope, so a bucket the API no longer returns disappears.

    dlt deletes exactly the rows this predicate selects, then inserts the chunk. The range comes first:
    DuckDB prunes older and newer row groups by zone maps, so a long history is not rescanned per commit.
    """
    since, until = run.windows[first].start, run.windows[stop - 1].end
    start = "{table}.interval_start"
    parts = [f"{start} >= '{since.isoformat()}'", f"{start} < '{until.isoformat()}'"]
    if run.settings.queue_ids:
        parts.append(f"{{table}}.queue_id IN ({_sql_list(run.settings.queue_ids)})")
    if run.settings.media_types:
        parts.append(f"{{table}}.media_type IN ({_sql_list(run.settings.media_types)})")
    return " AND ".join(parts)


def _advance_cursor(state: dict[str, Any], key: str, load_range: LoadRange, window: Window) -> None:
    """Move the cursor `key` forward only: an explicit backfill never moves it back, nor leaps over a gap."""
    cursor = state_cursor(state, key)
    if cursor is not None and window.end <= cursor:
        return
    if load_range.explicit and cursor is not None and window.start > cursor:
        return
    if key == CURSOR_KEY:
        state[CURSOR_KEY] = window.end.isoformat()
    else:
        state.setdefault(SCOPED_CURSORS, {})[key] = window.end.isoformat()


def query_batches(settings: Settings, window: Window) -> list[dict[str, Any]]:
    """The aggregates queries for one window: all queues in one, or queue_ids in batches that keep each
    query within MAX_PREDICATES filter predicates (media types included)."""
    media = settings.media_types
    if not settings.queue_ids:
        return [build_query(window, settings.granularity, None, media)]
    size = max(1, MAX_PREDICATES - len(media or []))
    ids = settings.queue_ids
    return [
        build_query(window, settings.granularity, ids[i : i + size], media) for i in range(0, len(ids), size)
    ]


def _window_tables(run: RunContext, index: int, done: WindowDone) -> Iterator[pa.Table]:
    """The Arrow tables of window `index` with their `_dlt_id` row ids (runs in a feed worker thread).

    The counters are the worker thread's own, so the deltas are this window's requests even while other
    windows are fetched beside it."""
    window = run.windows[index]
    calls0, retries0 = run.http.stats.snapshot()
    if run.use_jobs:
        tables = _job_tables(run, window, done.queue_ids)
    else:
        tables = _sync_tables(run, window, done.queue_ids)
    try:
        for table in tables:
            yield table.append_column(ROW_ID_FIELD, row_ids(table.num_rows))
    finally:
        calls, retries = run.http.stats.snapshot()
        done.calls, done.retries = calls - calls0, retries - retries0


def row_ids(n: int) -> pa.StringArray:
    """`n` random unique row ids: 96 random bits each, as 16 URL-safe base64 characters.

    dlt would add `_dlt_id` itself (normalize.parquet_normalizer.add_dlt_id), but only by reading back
    and rewriting every extracted parquet file; with the column already there, normalize imports the file
    as it is. One base64 pass over n*12 random bytes gives all ids at once (12 bytes are exactly 16
    characters, so id i is characters 16i..16i+15), without a Python object per row.
    """
    data = base64.urlsafe_b64encode(os.urandom(12 * n))
    offsets = np.arange(0, 16 * n + 1, 16, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))


def _sync_tables(run: RunContext, window: Window, seen: set[str]) -> Iterator[pa.Table]:
    """The window's queries (one per queue_ids batch); a window Genesys refuses as too large is split in
    halves, a refused filter never is (it fails the window, naming the filter)."""
    settings = run.settings
    raws: list[bytes] = []
    for query in query_batches(settings, window):
        try:
            raws.append(run.http.request_raw("POST", AGGREGATES_PATH, json=query))
        except ApiError as exc:
            if exc.bad_filter:
                raise WindowError(f"window {window}: {exc}") from exc
            splittable = exc.too_large or (exc.retryable and exc.status in (429, 504))
            halves = window.halves(parse_granularity(settings.granularity)) if splittable else None
            if not halves:
                raise WindowError(f"window {window}: {exc}") from exc
            run.note_split()
            logger.warning("window %s failed (HTTP %s); splitting it in two", window, exc.status)
            for half in halves:
                yield from _sync_tables(run, half, seen)
            return
    org_id = run.org()
    # Batches of one window must not repeat a key either (dlt's merge skips deduplication): with more than
    # one, a key repeated across their replies is dropped when identical and an error when it conflicts.
    ledger = aggregates.job_ledger(window) if len(raws) > 1 else None
    for raw in raws:
        parsed = parse_reply(raw, org_id, run.loaded_at, window, settings.granularity)
        seen |= parsed.queue_ids
        run.note_skipped_groups(parsed.skipped_groups)
        table = ledger.admit(parsed.table) if ledger is not None else parsed.table
        if table.num_rows:
            yield table


def _job_tables(run: RunContext, window: Window, seen: set[str]) -> Iterator[pa.Table]:
    """Async jobs for a large window (one per queue_ids batch): one Arrow table per results page."""
    settings = run.settings
    org_id = run.org()
    ledger = aggregates.job_ledger(window)  # a key at most once in the window, across jobs and pages

    def parse(results: pa.Array | None) -> aggregates.Parsed:
        parsed = parse_results(results, org_id, run.loaded_at, window, settings.granularity)
        return dataclasses.replace(parsed, table=ledger.admit(parsed.table))

    try:
        for query in query_batches(settings, window):
            for parsed in jobs.job_results(
                run.http,
                query,
                window,
                max_resubmits=settings.job_max_resubmits,
                poll_cap_s=settings.job_poll_cap_s,
                timeout_s=settings.job_timeout_s,
                sleep=run.http.limiter.sleep,
                parse=parse,
                budget=run.page_budget,
            ):
                seen |= parsed.queue_ids
                run.note_skipped_groups(parsed.skipped_groups)
                if parsed.table.num_rows:
                    yield parsed.table
    except contract.ContractError:
        raise  # names its window already
    except ApiError as exc:
        raise WindowError(f"window {window}: {exc}") from exc
