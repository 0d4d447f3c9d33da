"""run_load(): one load of Genesys queue data into DuckDB (used by the CLI, end-to-end tests, benchmarks)."""

from __future__ import annotations

import contextlib
import logging
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import dlt
import duckdb
import pyarrow as pa
from dlt.pipeline.exceptions import PipelineStepFailed
from dlt.pipeline.helpers import pipeline_drop

from common.names import RAW_DATASET, RAW_TABLES, duckdb_path
from loader import contract
from loader.client import GenesysHttp
from loader.config import Settings, load_settings
from loader.errors import ConfigError, LoaderError
from loader.source import ORG_PATH, RunContext, genesys, plan_windows, state_cursor
from loader.windows import parse_local_date, parse_timezone, plan_range

logger = logging.getLogger(__name__)

PIPELINE_NAME = "genesys"
PIPELINES_DIRNAME = ".dlt_pipelines"
# Extracted files are rotated at this many rows, so normalize and load work file by file.
FILE_MAX_ROWS = 100_000
# Insertion order does not matter for merged tables, and one thread keeps DuckDB's memory low without
# slowing these loads down (measured): both bound the peak memory of a commit. The connection stays open
# for the whole load (see _connect), so DuckDB would otherwise keep caching blocks up to 80% of the RAM;
# 96 MB still merges a commit of 850k rows over existing ones (measured; 64 MB ran out of memory there,
# and a commit is ~commit_rows rows plus one window). It spills to <database>.tmp beyond that.
DUCKDB_SETTINGS = {"preserve_insertion_order": False, "threads": 1, "memory_limit": "96MB"}

BANNER = """
==========================================================================================
  SIMULATED DATA - no Genesys client_id is configured (or --simulator was given), so this
  load talks to the bundled Genesys Cloud simulator and labels every row org_id='simulator'.
  To load your real tenant: create an OAuth client (grant: client credentials) whose role has
  analytics:conversationAggregate:view and routing:queue:view, then put client_id and
  client_secret under [sources.genesys] in .dlt/secrets.toml (or set SOURCES__GENESYS__CLIENT_ID
  and SOURCES__GENESYS__CLIENT_SECRET) and set region, e.g. region = "mypurecloud.ie".
==========================================================================================
""".strip("\n")


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


@contextlib.contextmanager
def _embedded_simulator(settings: Settings) -> Iterator[Settings]:
    """Start the bundled simulator in-process and point the settings at it."""
    try:
        from simulator import SimulatorConfig, run_simulator
    except ImportError as exc:
        raise LoaderError(f"the bundled simulator cannot be imported ({exc}); configure client_id") from None
    with run_simulator(SimulatorConfig()) as sim:
        settings.client_id = sim.config.client_id
        settings.client_secret = sim.config.client_secret
        settings.api_base_url = sim.base_url
        settings.login_base_url = sim.base_url
        settings.simulated = True
        yield settings


def run_load(
    *,
    start: date | str | None = None,
    end: date | str | None = None,
    report_tz: str = "UTC",
    granularity: str | None = None,
    queue_ids: list[str] | None = None,
    media_types: list[str] | None = None,
    full_refresh: bool = False,
    simulator: bool = False,
    async_jobs: bool | None = None,
    now: datetime | str | None = None,
    db_path: str | Path | None = None,
    settings: dict[str, Any] | None = None,
) -> LoadSummary:
    """Load one range (explicit local dates in report_tz) or incrementally; return what was done.

    `settings` overrides [sources.genesys] keys (e.g. {"max_retries": 2, "backoff_cap_s": 0.05}).
    Raises ConfigError (exit 2) for bad input before anything is written, LoaderError for failed loads.
    """
    started = time.monotonic()
    start_date = _as_date(start, "START")
    end_date = _as_date(end, "END")
    zone = parse_timezone(report_tz or "UTC")
    overrides = dict(settings or {})
    overrides.update(
        {"granularity": granularity, "queue_ids": queue_ids, "media_types": media_types, "now": now}
    )
    config = load_settings(overrides)
    moment = config.now or datetime.now(UTC)
    # Validate the explicit range before touching anything (END < START, future START, zone offsets).
    if start_date or end_date:
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
    db = Path(db_path).expanduser().resolve() if db_path else duckdb_path()
    if db.is_dir():
        raise ConfigError(f"GENESYS_DUCKDB_PATH {db} is a directory; point it at a .duckdb file")
    simulated = simulator or not config.client_id
    with contextlib.ExitStack() as stack:
        if simulated:
            stack.enter_context(_embedded_simulator(config))
            logger.warning("%s", BANNER)
        summary = _load(config, db, start_date, end_date, zone.key, full_refresh, async_jobs, moment)
    summary.simulated = simulated
    summary.elapsed_s = time.monotonic() - started
    return summary


def _load(
    config: Settings,
    db: Path,
    start_date: date | None,
    end_date: date | None,
    report_tz: str,
    full_refresh: bool,
    async_jobs: bool | None,
    moment: datetime,
) -> LoadSummary:
    # Arrow's default mimalloc pool keeps the memory of freed tables in per-thread heaps, and responses are
    # parsed in a feed thread: the process grew with the length of the load. The system allocator hands
    # it back, and is no slower here (measured).
    pa.set_memory_pool(pa.system_memory_pool())
    db.parent.mkdir(parents=True, exist_ok=True)
    workdir = pipelines_dir_for(db)
    existed = db.exists()
    if not existed:
        # A new (or deleted) database: local dlt state from an older file must not leak into it.
        shutil.rmtree(workdir, ignore_errors=True)
    conn = _connect(db)
    discard = False
    try:
        return _load_with(
            conn, config, db, existed, start_date, end_date, report_tz, full_refresh, async_jobs, moment
        )
    except BaseException:
        # A first load that failed before committing anything (e.g. rejected credentials) leaves no
        # empty database behind; one that committed some windows keeps them for the re-run.
        discard = not existed and not _has_loaded_tables(conn)
        raise
    finally:
        conn.close()
        if discard:
            _remove_database(db, workdir)


def _has_loaded_tables(conn: duckdb.DuckDBPyConnection) -> bool:
    try:
        found = conn.execute(
            "select count(*) from information_schema.tables where table_schema = ?", [RAW_DATASET]
        ).fetchone()
    except duckdb.Error:
        return True  # cannot tell: keep the file
    return bool(found and found[0])


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
        ) from None


def _load_with(
    conn: duckdb.DuckDBPyConnection,
    config: Settings,
    db: Path,
    existed: bool,
    start_date: date | None,
    end_date: date | None,
    report_tz: str,
    full_refresh: bool,
    async_jobs: bool | None,
    moment: datetime,
) -> LoadSummary:
    pipeline = dlt.pipeline(
        pipeline_name=PIPELINE_NAME,
        pipelines_dir=str(pipelines_dir_for(db)),
        destination=dlt.destinations.duckdb(conn),
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
            ) from None
        if not full_refresh:
            state = dict(pipeline.state.get("sources", {}).get("genesys", {}))
    pinned = state.get("granularity")
    if pinned and pinned != config.granularity:
        raise ConfigError(
            f"granularity {config.granularity} differs from {pinned} already loaded in {db}; "
            f"use --granularity {pinned}, or --full-refresh to reload everything at {config.granularity}"
        )
    load_range = plan_range(
        start_date=start_date,
        end_date=end_date,
        zone=parse_timezone(report_tz),
        granularity=config.granularity,
        now=moment,
        cursor=state_cursor(state),
        lookback_hours=config.lookback_hours,
        initial_days=config.initial_days,
    )
    windows, use_jobs = plan_windows(config, load_range, report_tz, async_jobs)
    http = GenesysHttp(config)
    run = RunContext(config, http, load_range, windows, use_jobs, loaded_at=datetime.now(UTC))
    run.org_id = contract.org_id(http.request_json("GET", ORG_PATH))
    _refuse_another_org(conn, run.org_id, db)
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
    run.chunk_rows = config.commit_rows
    try:
        _run_chunks(pipeline, run, config)
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


def _refuse_another_org(conn: duckdb.DuckDBPyConnection, org_id: str, db: Path) -> None:
    """One database, one Genesys org: a tenant's load must not mix with simulated (or another org's) rows,
    whose cursor, granularity and target history would otherwise be taken for its own."""
    try:
        others = conn.execute(
            f"select distinct org_id from {RAW_DATASET}.queues where org_id <> ? order by 1", [org_id]
        ).fetchall()
    except duckdb.CatalogException:
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


def _run_chunks(pipeline: Any, run: RunContext, config: Settings) -> None:
    """pipeline.run until every window is loaded; each run commits up to ~commit_rows rows."""
    while True:
        source = genesys(
            client_id=config.client_id,
            client_secret=config.client_secret,
            region=config.region,
            api_base_url=config.api_base_url,
            login_base_url=config.login_base_url,
            granularity=config.granularity,
            media_types=config.media_types,
            queue_ids=config.queue_ids,
            lookback_hours=config.lookback_hours,
            initial_days=config.initial_days,
            run=run,
        )
        try:
            pipeline.run(source)
        except PipelineStepFailed as exc:
            cause = _loader_cause(exc)
            if cause is not None:
                raise cause from None
            raise LoaderError(
                f"dlt {exc.step} step failed: {_first_line(exc)}; "
                "fix the cause and re-run (loaded data is kept)"
            ) from None
        if run.windows_done >= len(run.windows):
            break
        logger.info("committed %d of %d windows; continuing", run.windows_done, len(run.windows))


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
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, LoaderError):
            return current
        nested = getattr(current, "exception", None)
        current = nested if isinstance(nested, BaseException) else (current.__cause__ or current.__context__)
    return None
