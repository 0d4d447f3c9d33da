"""Read-only SQL on the warehouse of the marts: the DuckDB file, or PostgreSQL with DESTINATION=postgres."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb

from common import warehouse
from common.dblock import busy_error_from_duckdb
from common.names import duckdb_path
from reporting.errors import ReportingError
from reporting.options import PROJECT_DIR


class Reader:
    """`execute(sql, params)` with `?` placeholders on either engine, in the UTC session zone."""

    def __init__(self, conn: Any, postgres: bool) -> None:
        self.conn = conn
        self.postgres = postgres

    def execute(self, sql: str, params: list[Any] | None = None) -> Any:
        if not self.postgres:
            return self.conn.execute(sql, params or [])
        cursor = self.conn.cursor()
        cursor.execute(sql.replace("?", "%s"), params or None)
        return cursor

    def table_exists(self, schema: str, table: str) -> bool:
        row = self.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchone()
        return bool(row and row[0])


def database_path() -> Path:
    """The key of the database in use: the DuckDB file, or with PostgreSQL a path that names its database
    (never a file; reporting.paths derives dbt's per-database folders from it)."""
    if not warehouse.is_postgres():
        return duckdb_path()
    credentials = warehouse.postgres_credentials()
    return PROJECT_DIR / f"postgres-{credentials.host}-{credentials.port or 5432}-{credentials.database}"


def database_label(db_path: Path) -> str:
    """The database in messages: the DuckDB path, or the PostgreSQL database (never its password)."""
    if warehouse.is_postgres():
        return warehouse.describe(warehouse.postgres_credentials())
    return str(db_path)


def database_exists(db_path: Path) -> bool:
    """Whether there is a database to read: the DuckDB file exists (PostgreSQL: always; reachable or not)."""
    return warehouse.is_postgres() or db_path.is_file()


@contextlib.contextmanager
def reading(db_path: Path) -> Iterator[Reader]:
    """A read-only connection for the block. DuckDB errors pass through (callers word them); PostgreSQL
    errors become one ReportingError line without credentials."""
    if not warehouse.is_postgres():
        with duckdb.connect(str(db_path), read_only=True) as con:
            con.execute("set TimeZone = 'UTC'")
            yield Reader(con, postgres=False)
        return
    import psycopg2

    credentials = warehouse.postgres_credentials()
    conn = warehouse.connect(credentials)
    try:
        conn.set_session(readonly=True, autocommit=True)
        with conn.cursor() as cursor:
            cursor.execute("set TimeZone = 'UTC'")
        try:
            yield Reader(conn, postgres=True)
        except psycopg2.Error as exc:
            raise ReportingError(
                f"error: {warehouse.describe(credentials)}: {warehouse.error_line(exc, credentials)}"
            ) from None
    finally:
        conn.close()


def busy_error(exc: BaseException, db_path: Path) -> Exception | None:
    """DuckDB's file-lock error as DatabaseBusyError (PostgreSQL serves concurrent readers: never busy)."""
    return None if warehouse.is_postgres() else busy_error_from_duckdb(exc, db_path)
