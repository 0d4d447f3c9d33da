"""A psycopg2 connection behind the small DuckDB-connection surface (execute, fetch, close) run_load uses."""

from __future__ import annotations

from typing import Any

from dlt.destinations.impl.postgres.configuration import PostgresCredentials

from common import warehouse
from loader.errors import LoaderError


class MissingTableError(Exception):
    """The queried table or schema does not exist yet (DuckDB's CatalogException on the DuckDB side)."""


class PgConnection:
    """`execute(sql, params)` with DuckDB's `?` placeholders, returning a cursor; autocommit, as DuckDB's."""

    def __init__(self, conn: Any, credentials: PostgresCredentials) -> None:
        self.raw = conn
        self._credentials = credentials

    def execute(self, sql: str, params: list[Any] | None = None) -> Any:
        import psycopg2
        from psycopg2 import errors

        cursor = self.raw.cursor()
        try:
            # the project's SQL never holds a literal '?' or '%', so placeholders translate one to one
            cursor.execute(sql.replace("?", "%s"), params or None)
        except (errors.UndefinedTable, errors.InvalidSchemaName) as exc:
            raise MissingTableError(str(exc)) from None
        except psycopg2.Error as exc:
            raise LoaderError(
                f"{warehouse.describe(self._credentials)} refused a query: "
                f"{warehouse.error_line(exc, self._credentials)}"
            ) from None
        return cursor

    def close(self) -> None:
        self.raw.close()


def open_connection(credentials: PostgresCredentials) -> PgConnection:
    """Connect (one line and exit 1/2 when the server is unreachable or refuses the credentials)."""
    return PgConnection(warehouse.connect(credentials), credentials)


def schema_exists(conn: PgConnection, schema: str) -> bool:
    row = conn.execute("select count(*) from pg_namespace where nspname = ?", [schema]).fetchone()
    return bool(row and row[0])
