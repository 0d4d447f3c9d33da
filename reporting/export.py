"""`python -m reporting export`: one CSV per mart in exports/, written to temporary files, then renamed."""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from pathlib import Path

import duckdb

from reporting.errors import MissingDataError, ReportingError

log = logging.getLogger(__name__)

MARTS = ("dim_queues", "fct_queue_intervals", "fct_queue_sla_daily", "fct_queue_sla_period")
DEFAULT_EXPORT_DIR = Path("exports")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _csv_select(con: duckdb.DuckDBPyConnection, mart: str) -> str:
    """SELECT of a mart for the CSV: *_pct and *_seconds rounded to 2 decimals, timestamps as ISO UTC."""
    columns = con.execute(
        "select column_name, data_type from information_schema.columns"
        " where table_schema = 'main' and table_name = ? order by ordinal_position",
        [mart],
    ).fetchall()
    if not columns:
        raise MissingDataError(f"error: mart {mart} is not built in the DuckDB file; run 'make build' first")
    parts = []
    for name, data_type in columns:
        column = _quote(name)
        if name.endswith(("_pct", "_seconds")):
            parts.append(f"round({column}, 2) as {column}")
        elif data_type.upper().startswith("TIMESTAMP"):
            parts.append(f"strftime({column}, '%Y-%m-%dT%H:%M:%SZ') as {column}")
        else:
            parts.append(column)
    return f"select {', '.join(parts)} from main.{_quote(mart)} order by all"


def export_marts(db_path: Path, out_dir: Path = DEFAULT_EXPORT_DIR) -> list[Path]:
    """Write <mart>.csv of every mart into out_dir; on a failure no CSV is replaced or left half-written."""
    if not db_path.is_file():
        raise MissingDataError(f"error: {db_path} does not exist; run 'make load && make build' first")
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[Path, Path] = {}
    complete = False
    try:
        with duckdb.connect(str(db_path), read_only=True) as con:
            # timestamptz values are formatted in the session zone: make that UTC
            con.execute("set TimeZone = 'UTC'")
            for mart in MARTS:
                select = _csv_select(con, mart)
                fd, tmp_name = tempfile.mkstemp(dir=out_dir, prefix=f".{mart}.", suffix=".csv.tmp")
                os.close(fd)
                written[out_dir / f"{mart}.csv"] = Path(tmp_name)
                con.execute(
                    f"copy ({select}) to '{tmp_name.replace(chr(39), chr(39) * 2)}' (format csv, header)"
                )
                log.info("wrote %s", tmp_name)
        complete = True
    except duckdb.Error as exc:
        raise ReportingError(f"error: export failed ({exc}); no CSV was changed") from exc
    finally:
        if not complete:
            for tmp in written.values():
                with contextlib.suppress(FileNotFoundError):
                    tmp.unlink()
    # only now that every file is complete do they replace the previous export
    for final, tmp in written.items():
        os.replace(tmp, final)
    return list(written)
