"""The dlt source `genesys`: queues, queue_service_level_targets (scd2) and queue_intervals (merge)."""

from __future__ import annotations

import base64
import logging
import os
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import dlt
import numpy as np
import pyarrow as pa
from dlt.extract.resource import with_hints
from dlt.sources import DltResource

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
# Rows parsed ahead of dlt at most (~30 days of 200 queues at PT1H, ~30 MB of Arrow tables): enough to keep
# fetching while dlt normalizes and loads a commit (measured: less left the API idle during loads).
FEED_MAX_ROWS = 150_000
QUEUE_KEY = ["org_id", "queue_id"]
# dlt's row id column, NOT NULL as dlt itself declares it.
ROW_ID_FIELD = pa.field("_dlt_id", pa.string(), nullable=False)


@dataclass
class RunContext:
    """What one run shares between the caller and the resources: settings, HTTP, plan and counters."""

    settings: Settings
    http: GenesysHttp
    load_range: LoadRange
    windows: list[Window]
    use_jobs: bool = False
    loaded_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    rows: dict[str, int] = field(default_factory=dict)
    chunk_rows: int = 0  # stop a pipeline run at a window boundary after this many rows (0 = never)
    listing: list[dict[str, Any]] | None = None
    placeholders: set[str] = field(default_factory=set)
    # Later windows are fetched and parsed in a background thread while dlt writes the earlier ones, and
    # that thread has the next sync request in flight while it parses a response.
    feed: WindowFeed | None = None
    feed_max_rows: int = FEED_MAX_ROWS
    prefetched: tuple[int, Future] | None = None
    executor: ThreadPoolExecutor | None = None
    windows_done: int = 0
    windows_split: int = 0
    org_id: str | None = None
    groups_without_queue: int = 0  # result groups skipped: no queueId (never entered a queue)

    def count(self, table: str, n: int) -> None:
        self.rows[table] = self.rows.get(table, 0) + n

    def window_feed(self) -> WindowFeed:
        """The feed of the windows not yet loaded (started on first use, kept across pipeline runs)."""
        if self.feed is None:
            self.feed = WindowFeed(
                lambda index, done: _window_tables(self, index, done),
                self.windows_done,
                len(self.windows),
                self.feed_max_rows,
            )
        return self.feed

    def prefetch(self, index: int) -> None:
        """Start fetching window `index` in the background (one request at a time, never more)."""
        if self.executor is None:
            self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="genesys-prefetch")
        self.prefetched = (index, self.executor.submit(_fetch, self, self.windows[index]))

    def fetched(self, index: int) -> Fetched:
        """The response for window `index`: the prefetched one, or fetched now."""
        if self.prefetched is not None and self.prefetched[0] == index:
            future = self.prefetched[1]
            self.prefetched = None
            return future.result()
        return _fetch(self, self.windows[index])

    def close(self) -> None:
        if self.feed is not None:
            self.feed.close()
            self.feed = None
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)
            self.executor = None


def state_cursor(state: dict[str, Any]) -> datetime | None:
    """The incremental cursor (end of the last loaded bucket) stored in dlt source state."""
    value = state.get("cursor")
    return datetime.fromisoformat(value) if value else None


def plan_windows(settings: Settings, load_range: LoadRange, report_tz: str, force_jobs: bool | None) -> tuple:
    """Query windows for the range: local days (sync) or async_window_days chunks (async jobs)."""
    zone = parse_timezone(report_tz)
    step = parse_granularity(settings.granularity)
    span_days = (load_range.end - load_range.start) / timedelta(days=1)
    use_jobs = bool(force_jobs) if force_jobs is not None else span_days > settings.async_after_days
    days = settings.async_window_days if use_jobs else settings.window_days
    windows = list(split_windows(load_range.start, load_range.end, zone, days, step))
    return windows, use_jobs


@dlt.source(name="genesys", max_table_nesting=0)
def genesys(
    client_id: str | None = dlt.secrets.value,
    client_secret: str | None = dlt.secrets.value,
    region: str = "mypurecloud.com",
    api_base_url: str | None = None,
    login_base_url: str | None = None,
    granularity: str = "PT1H",
    media_types: list[str] | None = None,
    queue_ids: list[str] | None = None,
    lookback_hours: float = 48,
    initial_days: int = 30,
    run: Any = None,
) -> Any:
    """Genesys Cloud queue service-level data. `run` (a RunContext) is passed by loader.pipeline.run_load;
    without it the source reads the rest of [sources.genesys] itself and loads incrementally."""
    if run is None:
        settings = load_settings(
            {
                "client_id": client_id,
                "client_secret": client_secret,
                "region": region,
                "api_base_url": api_base_url,
                "login_base_url": login_base_url,
                "granularity": granularity,
                "media_types": media_types,
                "queue_ids": queue_ids,
                "lookback_hours": lookback_hours,
                "initial_days": initial_days,
            }
        )
        if not settings.client_id:
            raise ConfigError(
                "sources.genesys.client_id and client_secret are not configured; set them, or run "
                "`python -m loader`, which falls back to the bundled simulator"
            )
        state = dlt.current.source_state()
        if state.get("granularity", settings.granularity) != settings.granularity:
            raise ConfigError(
                f"granularity {settings.granularity} differs from {state['granularity']} already loaded; "
                "keep it, or reload everything with a full refresh"
            )
        now = settings.now or datetime.now(UTC)
        load_range = plan_range(
            start_date=None,
            end_date=None,
            zone=parse_timezone("UTC"),
            granularity=settings.granularity,
            now=now,
            cursor=state_cursor(state),
            lookback_hours=settings.lookback_hours,
            initial_days=settings.initial_days,
        )
        windows, use_jobs = plan_windows(settings, load_range, "UTC", None)
        run = RunContext(settings, GenesysHttp(settings), load_range, windows, use_jobs)
    return resources(run)


def resources(run: RunContext) -> list[DltResource]:
    """Fetch the org id and the full queue listing now (small), then build the three resources.

    When a long load is committed in several pipeline runs (RunContext.chunk_rows), the later runs
    only continue queue_intervals from the next window."""
    http = run.http
    first_chunk = run.listing is None
    if run.org_id is None:
        run.org_id = contract.org_id(http.request_json("GET", ORG_PATH))
    if run.listing is None:
        run.listing = list_queues(http, run.settings.queue_page_size)
    listing = run.listing
    listed_at = run.loaded_at
    listed_ids = {q["id"] for q in listing}
    org_id = run.org_id

    @dlt.resource(
        name="queues",
        write_disposition="merge",
        primary_key=QUEUE_KEY,
        columns=QUEUE_COLUMNS,
    )
    def queues() -> Iterator[list[dict[str, Any]]]:
        state = dlt.current.source_state()
        first_seen = state.setdefault("first_seen", {})
        rows = queue_rows(listing, org_id, listed_at, first_seen)
        run.count("queues", len(rows))
        yield rows

    @dlt.resource(
        name="queue_service_level_targets",
        write_disposition={"disposition": "merge", "strategy": "scd2"},
        columns=TARGET_COLUMNS,
    )
    def queue_service_level_targets() -> Iterator[list[dict[str, Any]]]:
        rows = target_rows(listing, org_id)
        run.count("queue_service_level_targets", len(rows))
        yield rows

    @dlt.resource(
        name="queue_intervals",
        # Windows never overlap, so one load never holds a key twice: skipping dlt's staging dedup (a
        # window function over the whole load) keeps the merge fast and its memory bounded.
        write_disposition={"disposition": "merge", "strategy": "delete-insert", "deduplicated": True},
        primary_key=aggregates.PRIMARY_KEY,
    )
    def queue_intervals() -> Iterator[Any]:
        state = dlt.current.source_state()
        granularity = run.settings.granularity
        state.setdefault("granularity", granularity)
        seen: set[str] = set()
        total = len(run.windows)
        chunk_rows = 0
        while run.windows_done < total:
            if run.chunk_rows and chunk_rows >= run.chunk_rows:
                break  # commit what we have; the caller starts another run for the rest
            feed = run.window_feed()
            while not isinstance(item := feed.get(), WindowDone):
                chunk_rows += item.num_rows
                run.count("queue_intervals", item.num_rows)
                yield item
            seen |= item.queue_ids
            window = run.windows[item.index]
            run.windows_done += 1
            if not (run.settings.queue_ids or run.settings.media_types):
                # a filtered run loaded only some queues or media: the cursor speaks for all of them
                _advance_cursor(state, run.load_range, window)
            logger.info(
                "window %d of %d %s: %d rows, %d API calls, %d retries",
                item.index + 1,
                total,
                window,
                item.rows,
                item.calls,
                item.retries,
            )
        first_seen = state.get("first_seen", {})
        unknown = seen - listed_ids - set(first_seen) - run.placeholders
        run.placeholders |= unknown
        if unknown:
            logger.info(
                "%d queue ids in analytics were never listed; adding them with NULL names", len(unknown)
            )
            run.count("queues", len(unknown))
            hints = dlt.mark.make_hints(
                table_name="queues", write_disposition="merge", primary_key=QUEUE_KEY, columns=QUEUE_COLUMNS
            )
            yield with_hints(placeholder_rows(org_id, unknown), hints, create_table_variant=True)

    intervals = queue_intervals()
    if run.windows_done < len(run.windows):
        intervals.apply_hints(
            write_disposition={
                "disposition": "merge",
                "strategy": "delete-insert",
                "deduplicated": True,
                "destination_scope": _destination_scope(
                    run.windows[run.windows_done].start, run.load_range.end
                ),
            }
        )
    if not first_chunk:
        return [intervals]
    return [queues(), queue_service_level_targets(), intervals]


def _destination_scope(since: datetime, until: datetime) -> str:
    """The destination rows a queue_intervals merge replaces: those whose key this load brings.

    dlt deletes exactly the rows this predicate selects (it replaces the key match), so it must name the
    key: a time range alone would delete every row an older backfill or a queue/media filter does not
    re-pull. The range comes first because every row of this run starts in [since, until): DuckDB then
    prunes older and newer row groups by zone maps, so a long history is not rescanned for each commit.
    """
    key_match = " AND ".join(f"s.{column} = {{table}}.{column}" for column in aggregates.PRIMARY_KEY)
    start = "{table}.interval_start"
    return (
        f"{start} >= '{since.isoformat()}' AND {start} < '{until.isoformat()}'"
        f" AND EXISTS (SELECT 1 FROM {{staging_table}} AS s WHERE {key_match})"
    )


def _advance_cursor(state: dict[str, Any], load_range: LoadRange, window: Window) -> None:
    """Move the cursor forward only: an explicit backfill never moves it back, nor leaps over a gap."""
    cursor = state_cursor(state)
    if cursor is not None and window.end <= cursor:
        return
    if load_range.explicit and cursor is not None and window.start > cursor:
        return
    state["cursor"] = window.end.isoformat()


@dataclass
class Fetched:
    """One sync aggregates response (or the error it ended with) and the calls/retries it took."""

    raw: bytes | None
    error: ApiError | None
    calls: int
    retries: int


def _fetch(run: RunContext, window: Window) -> Fetched:
    settings = run.settings
    query = build_query(window, settings.granularity, settings.queue_ids, settings.media_types)
    calls0, retries0 = run.http.stats.snapshot()
    raw, error = None, None
    try:
        raw = run.http.request_raw("POST", AGGREGATES_PATH, json=query)
    except ApiError as exc:
        error = exc
    calls, retries = run.http.stats.snapshot()
    return Fetched(raw, error, calls - calls0, retries - retries0)


def _window_tables(run: RunContext, index: int, done: WindowDone) -> Iterator[pa.Table]:
    """The Arrow tables of window `index` with their `_dlt_id` row ids (runs in the feed's thread).

    A sync window's request is usually already in flight (prefetched while the previous window was
    parsed); once it has succeeded the next one starts, so at most one request is ever outstanding and
    the requests this window makes itself (splitting a refused window, job polling) run alone: the
    counter deltas around them are this window's own.
    """
    window = run.windows[index]
    fetched = None if run.use_jobs else run.fetched(index)
    if fetched is not None:
        done.calls, done.retries = fetched.calls, fetched.retries
        if fetched.error is None and index + 1 < len(run.windows):
            run.prefetch(index + 1)
    calls0, retries0 = run.http.stats.snapshot()
    if fetched is None:
        tables = _job_tables(run, window, done.queue_ids)
    else:
        tables = _sync_tables(run, window, done.queue_ids, fetched)
    for table in tables:
        yield table.append_column(ROW_ID_FIELD, row_ids(table.num_rows))
    if fetched is None or fetched.error is not None:  # no prefetch runs beside these requests
        calls, retries = run.http.stats.snapshot()
        done.calls += calls - calls0
        done.retries += retries - retries0


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


def _sync_tables(
    run: RunContext, window: Window, seen: set[str], fetched: Fetched | None = None
) -> Iterator[pa.Table]:
    """One sync aggregates query per window; split in halves when Genesys keeps refusing it."""
    settings = run.settings
    fetched = fetched or _fetch(run, window)
    exc = fetched.error
    if exc is not None:
        splittable = exc.too_large or (exc.retryable and exc.status in (429, 504))
        halves = window.halves(parse_granularity(settings.granularity)) if splittable else None
        if halves:
            run.windows_split += 1
            logger.warning("window %s failed (HTTP %s); splitting it in two", window, exc.status)
            for half in halves:
                yield from _sync_tables(run, half, seen)
            return
        raise WindowError(f"window {window}: {exc}") from None
    parsed = parse_reply(fetched.raw, run.org_id or "", run.loaded_at, window, settings.granularity)
    seen |= parsed.queue_ids
    run.groups_without_queue += parsed.skipped_groups
    if parsed.table.num_rows:
        yield parsed.table


def _job_tables(run: RunContext, window: Window, seen: set[str]) -> Iterator[pa.Table]:
    """Async job for a large window: one Arrow table per results page."""
    settings = run.settings
    query = build_query(window, settings.granularity, settings.queue_ids, settings.media_types)
    ledger = aggregates.job_ledger(window)
    try:
        for results in jobs.job_results(
            run.http,
            query,
            window,
            max_resubmits=settings.job_max_resubmits,
            poll_cap_s=settings.job_poll_cap_s,
            timeout_s=settings.job_timeout_s,
        ):
            parsed = parse_results(results, run.org_id or "", run.loaded_at, window, settings.granularity)
            seen |= parsed.queue_ids
            run.groups_without_queue += parsed.skipped_groups
            table = ledger.admit(parsed.table)  # a key at most once in the whole job, across its pages
            if table.num_rows:
                yield table
    except contract.ContractError:
        raise  # names its window already
    except ApiError as exc:
        raise WindowError(f"window {window}: {exc}") from None
