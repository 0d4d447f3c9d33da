"""run_load(): one load of Genesys queue data into DuckDB or PostgreSQL (CLI, e2e tests, benchmarks)."""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import dlt
import duckdb
import pyarrow as pa
from dlt.pipeline.exceptions import PipelineStepFailed
from dlt.pipeline.helpers import pipeline_drop
from dlt.pipeline.trace import TRACE_FILE_NAME

from common import interrupts, warehouse
from common.names import RAW_DATASET, RAW_TABLES, duckdb_path
from loader import scrub
from loader.client import GenesysHttp
from loader.config import Settings, load_settings, parse_now
from loader.errors import ConfigError, LoaderError
from loader.feed import WindowDone
from loader.pg_connection import MissingTableError, PgConnection, open_connection, schema_exists
from loader.source import (
    CURSOR_KEY,
    RunContext,
    destination_scope,
    genesys,
    plan_windows,
    scope_cursor_key,
    state_cursor,
)
from loader.windows import Window, parse_local_date, parse_timezone, plan_range

logger = logging.getLogger(__name__)
_E = TypeVar("_E", bound=BaseException)

PIPELINE_NAME = "genesys"
SCHEMA_NAME = "genesys"  # the dlt schema of the `genesys` source (its tables' definitions)
PIPELINES_DIRNAME = ".dlt_pipelines"
# Extracted files are rotated at this many rows, so normalize and load work file by file.
FILE_MAX_ROWS = 100_000
# Insertion order does not matter for merged tables, and one thread keeps DuckDB's memory low without
# slowing these loads down (measured): both bound the peak memory of a commit. The connection stays open
# for the whole load (see _connect), so DuckDB would otherwise keep caching blocks up to 80% of the RAM;
# a commit's merge was the peak of a load (dlt's SQL follow-up job, found by sampling the main thread at
# each new RSS high). 48 MB still merges a commit of 870k rows (6 async windows, commit_rows 850000) over
# 1.2M existing ones, at the same speed, and takes ~50 MB off the peak of a 365-day load (434 -> 384 MB)
# and of a 30-day one (361 -> 301 MB) against 96 MB (measured 2026-12-01). It spills to <database>.tmp
# beyond that.
DUCKDB_SETTINGS = {"preserve_insertion_order": False, "threads": 1, "memory_limit": "48MB"}
# "No such table yet" from either warehouse (the first load, or a file of another tool).
_MISSING_TABLE = (duckdb.CatalogException, MissingTableError)
# The schemas this project writes in PostgreSQL (a shared warehouse holds others: not ours to judge).
PG_OWN_SCHEMAS = (RAW_DATASET, f"{RAW_DATASET}_staging", "main", "genesys_build")


@dataclass
class LoadSummary:
    """What one load did; the CLI prints it."""

    rows: dict[str, int] = field(default_factory=dict)
    api_calls: int = 0
    retries: int = 0
    reauths: int = 0
    paced_s: float = 0.0
    windows: int = 0
    windows_split: int = 0
    elapsed_s: float = 0.0
    simulated: bool = False
    org_id: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    granularity: str = "PT1H"
    duckdb_path: str = ""
    async_jobs: bool = False
    groups_without_queue: int = 0

    @property
    def interval_rows(self) -> int:
        return self.rows.get("queue_intervals", 0)

    def render(self) -> str:
        lines = [
            f"Loaded {'SIMULATED ' if self.simulated else ''}Genesys data for org {self.org_id} into "
            f"{self.duckdb_path} (dataset {RAW_DATASET})",
            f"  range      {_fmt(self.start)} .. {_fmt(self.end)} UTC at {self.granularity}"
            f"{' via async jobs' if self.async_jobs else ''}",
        ]
        for table in RAW_TABLES:
            lines.append(f"  {table:<28} {self.rows.get(table, 0):>10,} rows")
        rate = self.interval_rows / self.elapsed_s if self.elapsed_s else 0.0
        lines.append(
            f"  windows {self.windows} (split {self.windows_split}), API calls {self.api_calls}, "
            f"retries {self.retries}, re-auths {self.reauths}, elapsed {self.elapsed_s:.1f} s "
            f"({rate:,.0f} interval rows/s)"
        )
        if self.groups_without_queue:
            # Real in Genesys (conversations that never entered a queue) and not queue figures: skipped, but
            # never silently.
            lines.append(
                f"  skipped {self.groups_without_queue:,} result groups without a queueId "
                "(conversations that never entered a queue)"
            )
        return "\n".join(lines)


def _fmt(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "-"


def pipelines_dir_for(db_path: Path) -> Path:
    """dlt working dir beside the DuckDB file, one per file, so separate databases never share state."""
    return db_path.parent / PIPELINES_DIRNAME / db_path.name


def _as_date(value: date | str | None, label: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    return parse_local_date(value, label)


def run_load(
    *,
    start: date | str | None = None,
    end: date | str | None = None,
    report_tz: str = "UTC",
    granularity: str | None = None,
    queue_ids: list[str] | None = None,
    media_types: list[str] | None = None,
    full_refresh: bool = False,
    async_jobs: bool | None = None,
    now: datetime | str | None = None,
    db_path: str | Path | None = None,
    settings: dict[str, Any] | None = None,
    config: Settings | None = None,
    simulated: bool = False,
    allow_foreign_tables: bool = False,
    progress: Callable[[WindowDone, Window, RunContext], None] | None = None,
) -> LoadSummary:
    """Load one range (explicit local dates in report_tz) or incrementally; return what was done.

    `config` is the resolved settings (the CLI resolves them once); otherwise [sources.genesys] is read
    here, with `settings` overriding keys (e.g. {"max_retries": 2, "backoff_cap_s": 0.05}). `queue_ids`
    and `media_types` are a one-off scope that moves no cursor. `simulated` labels a load the CLI pointed
    at the bundled simulator. Raises ConfigError (exit 2) for bad input before anything is written,
    LoaderError for failed loads; KeyboardInterrupt (SIGINT/SIGTERM) after closing what was committed.
    """
    started = time.monotonic()
    if config is None:
        overrides = dict(settings or {})
        overrides.update({"granularity": granularity, "now": now})
        config = load_settings(overrides)
    else:
        config = dataclasses.replace(config)
        if granularity:
            config.granularity = granularity
        if now:
            config.now = parse_now(now)
    start_date, end_date, zone, moment = check_request(
        config, start=start, end=end, report_tz=report_tz, queue_ids=queue_ids, media_types=media_types
    )
    one_off = bool(queue_ids or media_types)
    if not config.client_id:
        raise ConfigError(
            "sources.genesys.client_id and client_secret are not configured; set them "
            "(.dlt/secrets.toml), or run `python -m loader`, which falls back to the bundled simulator"
        )
    options = LoadOptions(full_refresh, async_jobs, one_off, allow_foreign_tables, progress)
    # Arrow's default mimalloc pool keeps the memory of freed tables in per-thread heaps, and responses are
    # parsed in a feed thread: the process grew with the length of the load. The system allocator hands
    # it back, and is no slower here (measured). Both are process-wide: set once, for either destination.
    pa.set_memory_pool(pa.system_memory_pool())
    _release_freed_memory()
    if warehouse.is_postgres():
        summary = _load_postgres(config, start_date, end_date, zone.key, options, moment)
    else:
        db = Path(db_path).expanduser().resolve() if db_path else duckdb_path()
        if db.is_dir():
            raise ConfigError(f"GENESYS_DUCKDB_PATH {db} is a directory; point it at a .duckdb file")
        summary = _load(config, db, start_date, end_date, zone.key, options, moment)
    summary.simulated = simulated
    summary.elapsed_s = time.monotonic() - started
    return summary


def check_request(
    config: Settings,
    *,
    start: date | str | None,
    end: date | str | None,
    report_tz: str | None,
    queue_ids: list[str] | None = None,
    media_types: list[str] | None = None,
) -> tuple[date | None, date | None, ZoneInfo, datetime]:
    """Validate the request before anything runs (dates, zone, scope, an explicit range); apply a one-off
    --queues/--media scope to `config`. Returns the local dates, the zone and the instant taken as now."""
    start_date = _as_date(start, "START")
    end_date = _as_date(end, "END")
    zone = parse_timezone(report_tz or "UTC")
    if queue_ids:
        config.queue_ids = list(queue_ids)
    if media_types:
        config.media_types = list(media_types)
    config.validate()
    moment = config.now or datetime.now(UTC)
    if start_date or end_date:  # END < START, a future START, zone offsets against the granularity
        plan_range(
            start_date=start_date,
            end_date=end_date,
            zone=zone,
            granularity=config.granularity,
            now=moment,
            cursor=None,
            lookback_hours=config.lookback_hours,
            initial_days=config.initial_days,
        )
    return start_date, end_date, zone, moment


@dataclass
class LoadOptions:
    """How run_load was asked to load, beyond the settings and the range."""

    full_refresh: bool = False
    async_jobs: bool | None = None
    one_off: bool = False  # --queues/--media: a backfill of a narrower scope that moves no cursor
    allow_foreign_tables: bool = False
    progress: Callable[[WindowDone, Window, RunContext], None] | None = None


def _load(
    config: Settings,
    db: Path,
    start_date: date | None,
    end_date: date | None,
    report_tz: str,
    options: LoadOptions,
    moment: datetime,
) -> LoadSummary:
    db.parent.mkdir(parents=True, exist_ok=True)
    workdir = pipelines_dir_for(db)
    existed = db.exists()
    # The state stored in the database decides the range, never the local working folder: it may be newer
    # than the file (an older copy restored) or belong to another copy of it. dlt would prefer its local
    # state then, so the folder is dropped and dlt restores the state from the database (sync_destination).
    # Packages left in it by an interrupted run were never committed: their windows are fetched again.
    kept_trace = _clear_working_folder(workdir)
    conn = _connect(db)
    discard = False
    try:
        if existed:
            _refuse_foreign_tables(conn, db, options.allow_foreign_tables)
        return _load_with(conn, config, db, existed, start_date, end_date, report_tz, options, moment)
    except BaseException:
        # A first load that failed before committing anything (e.g. rejected credentials) leaves no
        # empty database behind; one that committed some windows keeps them for the re-run.
        discard = not existed and not _has_loaded_tables(conn)
        raise
    finally:
        conn.close()
        if discard:
            _remove_database(db, workdir)
        else:
            _keep_trace(workdir, kept_trace)


def _load_postgres(
    config: Settings,
    start_date: date | None,
    end_date: date | None,
    report_tz: str,
    options: LoadOptions,
    moment: datetime,
) -> LoadSummary:
    """DESTINATION=postgres: the same load through dlt's postgres destination, one database per dlt state.

    One held connection checks access, holds the project's advisory lock (one load or build at a time), and
    runs the loader's own statements; dlt opens its own for the load jobs."""
    credentials = warehouse.postgres_credentials()
    scrub.register(str(credentials.password or ""), credentials.to_native_representation())
    label = warehouse.describe(credentials)
    port = credentials.port or 5432
    workdir = (
        duckdb_path().parent
        / PIPELINES_DIRNAME
        / f"postgres-{credentials.host}-{port}-{credentials.database}"
    )
    kept_trace = _clear_working_folder(workdir)
    conn = open_connection(credentials)
    try:
        with warehouse.advisory_lock(conn.raw, credentials):
            warehouse.check_can_create(conn.raw, credentials, PG_OWN_SCHEMAS[:2])
            existed = schema_exists(conn, RAW_DATASET)
            if existed:
                _refuse_foreign_tables(conn, label, options.allow_foreign_tables, schemas=PG_OWN_SCHEMAS)
            destination = dlt.destinations.postgres(credentials=credentials)
            return _load_with(
                conn, config, label, existed, start_date, end_date, report_tz, options, moment,
                destination=destination, workdir=workdir,
            )  # fmt: skip
    finally:
        conn.close()
        _keep_trace(workdir, kept_trace)


# glibc's mallopt parameters: allocations from this size on are mmapped (and unmapped when freed), and
# free memory beyond this at the top of the heap is given back.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_RELEASE_FROM_BYTES = 128 * 1024


def _release_freed_memory() -> None:
    """Have glibc hand freed memory back to the system. Its default raises the mmap threshold to the size
    of each large block freed (up to 32 MB), so the loader's page- and file-sized buffers (JSON pages,
    Arrow tables, dlt's files) were then carved from the heap and kept: the process held ~150 MB more than
    it used (measured, 365 d x 200 queues: peak RSS 641 MB before, 488 MB with fixed thresholds, the
    same wall time). Elsewhere than glibc this does nothing."""
    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return
    mallopt(_M_MMAP_THRESHOLD, _RELEASE_FROM_BYTES)
    mallopt(_M_TRIM_THRESHOLD, _RELEASE_FROM_BYTES)


def _has_loaded_tables(conn: duckdb.DuckDBPyConnection) -> bool:
    try:
        found = conn.execute(
            "select count(*) from information_schema.tables where table_schema = ?", [RAW_DATASET]
        ).fetchone()
    except duckdb.Error:
        return True  # cannot tell: keep the file
    return bool(found and found[0])


def _clear_working_folder(workdir: Path) -> bytes | None:
    """Drop dlt's local state, schemas and packages; return the last run's trace (what `dlt pipeline
    genesys trace` shows) for _keep_trace, since dlt itself wipes the folder when it restores the state."""
    trace = workdir / PIPELINE_NAME / TRACE_FILE_NAME
    kept = trace.read_bytes() if trace.is_file() else None
    shutil.rmtree(workdir, ignore_errors=True)
    return kept


def _keep_trace(workdir: Path, kept: bytes | None) -> None:
    """Put the previous trace back when this run saved none: a run that fails before dlt starts (rejected
    credentials, say) must not erase the record of the failure before it. A trace decides nothing."""
    trace = workdir / PIPELINE_NAME / TRACE_FILE_NAME
    if kept is not None and not trace.exists():
        trace.parent.mkdir(parents=True, exist_ok=True)
        trace.write_bytes(kept)


def _remove_database(db: Path, workdir: Path) -> None:
    for path in (db, db.with_name(db.name + ".wal")):
        path.unlink(missing_ok=True)
    shutil.rmtree(workdir, ignore_errors=True)
    with contextlib.suppress(OSError):  # the shared parent folder goes only when nothing else is in it
        workdir.parent.rmdir()


def _connect(db: Path) -> duckdb.DuckDBPyConnection:
    """One DuckDB connection for the whole load, handed to dlt (its documented external-connection mode).

    dlt otherwise opens the file for each load job and closes it after, and every close checkpoints the
    database: writing staging rows to disk that the next merge deletes again, several times per commit.
    A held connection checkpoints when its WAL grows past the threshold and once at the end; what a
    commit wrote is durable in the WAL meanwhile, so a killed run still keeps it.
    """
    try:
        return duckdb.connect(str(db), config=dict(DUCKDB_SETTINGS))
    except duckdb.Error as exc:
        raise LoaderError(
            f"could not open {db}: {_first_line(exc)}; check that no other process holds the file"
        ) from exc


def _load_with(
    conn: duckdb.DuckDBPyConnection | PgConnection,
    config: Settings,
    db: Path | str,
    existed: bool,
    start_date: date | None,
    end_date: date | None,
    report_tz: str,
    options: LoadOptions,
    moment: datetime,
    *,
    destination: Any = None,
    workdir: Path | None = None,
) -> LoadSummary:
    """The load itself on an open connection; `db` names the database in messages (a DuckDB path, or
    PostgreSQL's description with `destination` and `workdir` given)."""
    full_refresh = options.full_refresh
    pipelines_dir = workdir or pipelines_dir_for(Path(db))
    # dlt would hold SIGINT/SIGTERM back during its normalize and load steps and drop them when a step ends
    # without checking (a SIGTERM was lost and the load ran to the end); the CLI's own handler interrupts
    # instead, and an interrupted commit is fetched again by the next run.
    dlt.config["runtime.intercept_signals"] = False
    pipeline = dlt.pipeline(
        pipeline_name=PIPELINE_NAME,
        pipelines_dir=str(pipelines_dir),
        destination=destination or dlt.destinations.duckdb(conn),
        dataset_name=RAW_DATASET,
    )
    # queue_intervals brings its own _dlt_id (loader.source.row_ids), so normalize need not rewrite its files.
    dlt.config["normalize.parquet_normalizer.add_dlt_id"] = False
    dlt.config["normalize.parquet_normalizer.add_dlt_load_id"] = True
    dlt.config["data_writer.file_max_items"] = FILE_MAX_ROWS
    # One load job at a time: parallel COPYs of several files into DuckDB only add memory, not speed.
    dlt.config["load.workers"] = 1
    state: dict[str, Any] = {}
    if existed:
        try:
            pipeline.sync_destination()
        except Exception as exc:
            raise LoaderError(
                f"could not read the load state from {db}: {_first_line(exc)}; "
                "check that no other process holds the file"
            ) from exc
        if not full_refresh:
            state = dict(pipeline.state.get("sources", {}).get("genesys", {}))
    pinned = state.get("granularity")
    if pinned and pinned != config.granularity:
        raise ConfigError(
            f"granularity {config.granularity} differs from {pinned} already loaded in {db}; "
            f"use --granularity {pinned}, or --full-refresh to reload everything at {config.granularity}"
        )
    # A one-off --queues/--media load starts from (and never moves) the main cursor; a scope narrowed by
    # config keeps a cursor of its own.
    cursor_key = None if options.one_off else scope_cursor_key(config)
    load_range = plan_range(
        start_date=start_date,
        end_date=end_date,
        zone=parse_timezone(report_tz),
        granularity=config.granularity,
        now=moment,
        cursor=state_cursor(state, cursor_key or CURSOR_KEY),
        lookback_hours=config.lookback_hours,
        initial_days=config.initial_days,
    )
    windows, use_jobs = plan_windows(config, load_range, report_tz, options.async_jobs)
    http = GenesysHttp(config)
    run = RunContext(
        config, http, load_range, windows, use_jobs, loaded_at=datetime.now(UTC), cursor_key=cursor_key
    )
    run.spill_parent = str(pipelines_dir)  # cleared by the next run if this one is killed
    if options.progress is not None:
        show = options.progress
        run.on_window = lambda done, window: show(done, window, run)
    _refuse_another_org(conn, run.org(), db)
    if full_refresh and existed:
        _drop_loaded_buckets(pipeline)
    logger.info(
        "loading %s .. %s UTC (%s, %d window%s%s) into %s",
        load_range.start.isoformat(),
        load_range.end.isoformat(),
        config.granularity,
        len(windows),
        "" if len(windows) == 1 else "s",
        ", async jobs" if use_jobs else "",
        db,
    )
    try:
        _run_chunks(pipeline, run, conn)
    finally:
        run.close()
    return LoadSummary(
        rows=dict(run.rows),
        api_calls=http.stats.calls,
        retries=http.stats.retries,
        reauths=http.stats.reauths,
        paced_s=http.stats.paced_s,
        windows=len(windows),
        windows_split=run.windows_split,
        org_id=run.org_id,
        start=load_range.start,
        end=load_range.end,
        granularity=config.granularity,
        duckdb_path=str(db),
        async_jobs=use_jobs,
        groups_without_queue=run.groups_without_queue,
    )


def _refuse_another_org(conn: duckdb.DuckDBPyConnection | PgConnection, org_id: str, db: Path | str) -> None:
    """One database, one Genesys org: a tenant's load must not mix with simulated (or another org's) rows,
    whose cursor, granularity and target history would otherwise be taken for its own."""
    try:
        others = conn.execute(
            f"select distinct org_id from {RAW_DATASET}.queues where org_id <> ? order by 1", [org_id]
        ).fetchall()
    except _MISSING_TABLE:
        return  # nothing loaded yet
    if others:
        held = ", ".join(f"'{row[0]}'" for row in others)
        raise ConfigError(
            f"{db} holds data of org {held}, not of org '{org_id}' that these credentials reach; "
            "load it into another file (set GENESYS_DUCKDB_PATH) or remove this one first (make clean)"
        )


def _drop_loaded_buckets(pipeline: Any) -> None:
    """--full-refresh: drop queue_intervals with its cursor and pinned granularity, through dlt's own drop.

    Queue names and the target history stay: a deleted queue can never be listed again, so dropping them
    would lose its last known name and the targets in force in the past for good."""
    if not pipeline.default_schema_name:
        return  # the file exists but nothing was ever loaded into it
    pipeline_drop(pipeline, resources=["queue_intervals"], state_paths=["cursor", "granularity"])()


def _run_chunks(pipeline: Any, run: RunContext, conn: duckdb.DuckDBPyConnection | PgConnection) -> None:
    """pipeline.run until every window is loaded; each run commits whole windows, ~commit_rows rows.

    A chunk's windows are fixed before it runs (its merge replaces exactly their time range), sized by the
    largest window loaded so far, or for the first chunk by the first window, which the feed fetches
    meanwhile. Later chunks never wait for a size: the windows in flight keep being consumed."""
    total = len(run.windows)
    run.queue_listing()  # the listing first (as a user reads it: org, queues, then the buckets)
    while True:
        interrupts.raise_if_interrupted()  # dlt may have retried a job whose query a signal interrupted
        first = run.windows_done
        if first < total:
            rows = max(1, max(run.window_rows, default=0) or run.window_feed().window_rows(first))
            # enough windows to reach commit_rows (a window is never cut)
            run.chunk_stop = min(total, first + max(1, -(-run.settings.commit_rows // rows)))
        else:
            run.chunk_stop = total
        before = run.rows.get("queue_intervals", 0)
        try:
            pipeline.run(genesys(run.settings, run))
        except PipelineStepFailed as exc:
            interrupt = _interrupt_cause(exc)
            if interrupt is not None:
                raise interrupt from None
            cause = _loader_cause(exc)
            if cause is not None:
                raise cause from None
            raise LoaderError(
                f"dlt {exc.step} step failed: {_first_line(exc)}; "
                "fix the cause and re-run (loaded data is kept)"
            ) from exc
        if first < run.chunk_stop and run.rows.get("queue_intervals", 0) == before:
            # No rows at all: dlt runs no merge, so the chunk's range is emptied here (the API no longer
            # returns anything for it).
            scope = destination_scope(run, first, run.chunk_stop).format(table="t")
            with contextlib.suppress(*_MISSING_TABLE):  # no table yet: nothing to empty
                conn.execute(f"DELETE FROM {RAW_DATASET}.queue_intervals AS t WHERE {scope}")
        if run.windows_done >= total:
            break
        logger.info("committed %d of %d windows; continuing", run.windows_done, total)


def _interrupt_cause(exc: BaseException) -> KeyboardInterrupt | None:
    """The KeyboardInterrupt (SIGINT, or SIGTERM as the CLI maps it) that dlt wrapped, if any."""
    return _wrapped(exc, KeyboardInterrupt)


def _wrapped(exc: BaseException, kind: type[_E]) -> _E | None:
    """The first exception of `kind` in `exc` or the exceptions dlt wrapped inside it (its `exception`
    attribute, else the cause or context), if any."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, kind):
            return current
        nested = getattr(current, "exception", None)
        current = nested if isinstance(nested, BaseException) else (current.__cause__ or current.__context__)
    return None


def check_database(db_path: str | Path | None, allow_foreign_tables: bool = False) -> None:
    """Before anything starts: refuse a database path that is a folder or a file of another tool's tables;
    with DESTINATION=postgres, a server that is unreachable, refuses the credentials or the schemas."""
    if warehouse.is_postgres():
        _check_postgres(allow_foreign_tables)
        return
    db = Path(db_path).expanduser().resolve() if db_path else duckdb_path()
    if db.is_dir():
        raise ConfigError(f"GENESYS_DUCKDB_PATH {db} is a directory; point it at a .duckdb file")
    if not db.exists() or allow_foreign_tables:
        return
    try:
        conn = duckdb.connect(str(db), read_only=True)
    except duckdb.Error:
        return  # held by another process or unreadable: the load itself says so
    try:
        _refuse_foreign_tables(conn, db, allow_foreign_tables)
    finally:
        conn.close()


def _check_postgres(allow_foreign_tables: bool) -> None:
    credentials = warehouse.postgres_credentials()
    scrub.register(str(credentials.password or ""), credentials.to_native_representation())
    conn = open_connection(credentials)
    try:
        warehouse.check_can_create(conn.raw, credentials, PG_OWN_SCHEMAS[:2])
        if schema_exists(conn, RAW_DATASET):
            _refuse_foreign_tables(
                conn, warehouse.describe(credentials), allow_foreign_tables, schemas=PG_OWN_SCHEMAS
            )
    finally:
        conn.close()


def _refuse_foreign_tables(
    conn: duckdb.DuckDBPyConnection | PgConnection,
    db: Path | str,
    allow: bool,
    schemas: tuple[str, ...] | None = None,
) -> None:
    """Refuse (exit 2) a database holding tables this project did not create, unless allowed.

    Ours: an empty file, or one whose genesys_raw holds this loader's dlt state, or (a first load killed
    before its first commit stored that state) the loader's dlt schema; then genesys_raw may only hold the
    raw tables and dlt's own, while other schemas hold the dbt models built from them (and dlt's staging)."""
    if allow:
        return
    tables = conn.execute(
        "select table_schema, table_name from information_schema.tables "
        "where table_catalog = current_database() order by 1, 2"
    ).fetchall()
    if schemas is not None:  # PostgreSQL: only the project's own schemas of a shared database
        tables = [(schema, name) for schema, name in tables if schema in schemas]
    if not tables:
        return
    ours = _holds_row(tables, conn, "_dlt_pipeline_state", "pipeline_name", PIPELINE_NAME) or _holds_row(
        tables, conn, "_dlt_version", "schema_name", SCHEMA_NAME
    )
    if ours:
        foreign = [
            f"{schema}.{name}"
            for schema, name in tables
            if schema == RAW_DATASET and name not in RAW_TABLES and not name.startswith("_dlt_")
        ]
    else:
        foreign = [f"{schema}.{name}" for schema, name in tables]
    if foreign:
        shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
        raise ConfigError(
            f"{db} holds tables this loader did not create ({shown}); point GENESYS_DUCKDB_PATH at "
            "another file, or pass --allow-foreign-tables to load beside them"
        )


def _holds_row(
    tables: list[tuple[str, str]],
    conn: duckdb.DuckDBPyConnection | PgConnection,
    table: str,
    column: str,
    value: str,
) -> bool:
    """Whether dlt's bookkeeping table genesys_raw.`table` exists and has a row with `column` = `value`."""
    if (RAW_DATASET, table) not in tables:
        return False
    found = conn.execute(f"select count(*) from {RAW_DATASET}.{table} where {column} = ?", [value]).fetchone()
    return bool(found and found[0])


def _first_line(exc: BaseException) -> str:
    """First line of the innermost error under dlt's wrappers (e.g. DuckDB's 'Could not set lock')."""
    seen: set[int] = set()
    while id(exc) not in seen:
        seen.add(id(exc))
        nested = getattr(exc, "exception", None) or exc.__cause__
        if not isinstance(nested, BaseException):
            break
        exc = nested
    lines = [line for line in str(exc).splitlines() if line.strip()]
    return (lines[0] if lines else type(exc).__name__)[:500]


def _loader_cause(exc: BaseException) -> LoaderError | None:
    """The LoaderError inside dlt's wrapped exceptions, if any."""
    return _wrapped(exc, LoaderError)
