"""The report's marts copied from PostgreSQL into a temporary DuckDB file, so `make report` reads them with
the same code as on DuckDB: each public mart streamed by COPY ... TO STDOUT as CSV, then read back typed."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

import duckdb

from reporting.reader import reading

# PostgreSQL information_schema types -> DuckDB types of the copied columns
_TYPES = {
    "character varying": "VARCHAR",
    "text": "VARCHAR",
    "bigint": "BIGINT",
    "integer": "INTEGER",
    "smallint": "SMALLINT",
    "double precision": "DOUBLE",
    "real": "DOUBLE",
    "numeric": "DOUBLE",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp with time zone": "TIMESTAMPTZ",
    "timestamp without time zone": "TIMESTAMP",
    "time without time zone": "TIME",
}


@contextlib.contextmanager
def snapshot(db_path: Path, marts: tuple[str, ...]) -> Iterator[Path]:
    """A DuckDB file holding main.<mart> for each of `marts` as PostgreSQL serves them (guarded views: a
    failed or unfinished build refuses here too); removed at the end of the block."""
    with tempfile.TemporaryDirectory(prefix="genesys-report-") as folder:
        target = Path(folder) / "marts.duckdb"
        with reading(db_path) as source, duckdb.connect(str(target)) as copy:
            copy.execute("set TimeZone = 'UTC'")
            for mart in marts:
                columns = source.execute(
                    "select column_name, data_type from information_schema.columns "
                    "where table_schema = 'main' and table_name = ? order by ordinal_position",
                    [mart],
                ).fetchall()
                if not columns:
                    continue  # read_report_data names what is missing
                csv_path = Path(folder) / f"{mart}.csv"
                export = f"copy (select * from main.{mart}) to stdout with (format csv, header)"
                with csv_path.open("w", encoding="utf-8", newline="") as handle, source.conn.cursor() as cur:
                    cur.copy_expert(export, handle)
                typed = ", ".join(f"'{name}': '{_TYPES.get(kind, 'VARCHAR')}'" for name, kind in columns)
                read = f"read_csv(?, header = true, columns = {{{typed}}})"
                copy.execute(f"create table main.{mart} as select * from {read}", [str(csv_path)])
                csv_path.unlink()
        yield target
