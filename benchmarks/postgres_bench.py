"""PostgreSQL beside DuckDB in the same run: the loader and the full dbt build of the same buckets, on a
throwaway local server (tests/pgserver.py). For information: no target."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from benchmarks.harness import Measured, base_env, python_module, run_measured, simulator_process
from benchmarks.loader_bench import LAST_DAY, SIM_CLOCK
from simulator import SimulatorConfig
from tests.pgserver import PgServer, running_postgres


def _load_and_build(workdir: Path, *, days: int, queues: int, server: PgServer | None) -> dict:
    """`python -m loader` then `python -m reporting build` over `days` x `queues` x 2 media at PT1H."""
    name = "postgres" if server else "duckdb"
    db_path = workdir / f"warehouse-{name}-{days}d-{queues}q.duckdb"
    start = LAST_DAY - timedelta(days=days - 1)
    dates = ("--start", start.isoformat(), "--end", LAST_DAY.isoformat())
    sim_args = ["--port", "0", "--queues", str(queues), "--clock", SIM_CLOCK.isoformat(), "--rate-limit", "0"]
    env = base_env(db_path)
    env.update(server.env() if server else {})
    with simulator_process(sim_args, base_env(db_path)) as base_url:
        env.update(
            SOURCES__GENESYS__CLIENT_ID=SimulatorConfig.client_id,
            SOURCES__GENESYS__CLIENT_SECRET=SimulatorConfig.client_secret,
            SOURCES__GENESYS__API_BASE_URL=base_url,
            SOURCES__GENESYS__LOGIN_BASE_URL=base_url,
        )
        load = run_measured(python_module("loader", *dates), env, timeout_s=3600)
    build = run_measured(python_module("reporting", "build", *dates), env, timeout_s=3600)
    rows = re.search(r"queue_intervals\s+([\d,]+) rows", load.stdout)
    db_path.unlink(missing_ok=True)
    return {"rows": int(rows.group(1).replace(",", "")) if rows else -1, "load": load, "build": build}


def _fmt(measured: Measured, rows: int) -> str:
    rate = rows / measured.seconds
    return f"{measured.seconds:.1f} s ({rate:,.0f} rows/s, peak RSS {measured.peak_rss_mb:.0f} MB)"


def postgres_rows(workdir: Path, *, days: int, queues: int) -> list[tuple[str, str, str, str]]:
    """Two rows: the load and the full build, DuckDB's and PostgreSQL's figures side by side."""
    duck = _load_and_build(workdir, days=days, queues=queues, server=None)
    with running_postgres() as server:
        pg = _load_and_build(workdir, days=days, queues=queues, server=server)
    size = f"{days} d x {queues} queues x 2 media, PT1H ({duck['rows']:,} buckets)"
    return [
        (
            f"Load into PostgreSQL vs DuckDB, {size}",
            f"PostgreSQL {_fmt(pg['load'], pg['rows'])}; DuckDB {_fmt(duck['load'], duck['rows'])}",
            "for information",
            "-",
        ),
        (
            f"dbt build (full, all tests) on PostgreSQL vs DuckDB, {size}",
            f"PostgreSQL {pg['build'].seconds:.1f} s; DuckDB {duck['build'].seconds:.1f} s "
            "(local server, fsync off)",
            "for information",
            "-",
        ),
    ]
