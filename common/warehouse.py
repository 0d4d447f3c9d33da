"""Which warehouse the loader and reporting use (DESTINATION), and PostgreSQL's connection and error lines."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

import dlt
from dlt.destinations.impl.postgres.configuration import PostgresCredentials

from common.errors import AppError, ConfigError

DESTINATIONS = ("duckdb", "postgres")
# Schemas this project writes in a PostgreSQL database: dlt's raw dataset and its staging, dbt's target
# schema (the public marts) and the private build schema.
PG_SCHEMAS_SUFFIX_STAGING = "_staging"
# pg_try_advisory_lock key held by a load or build (any 64-bit number both sides agree on): "GENESYS".
PG_LOCK_KEY = 0x47454E45535953


class WarehouseUnreachableError(AppError):
    """The PostgreSQL server did not answer; nothing was changed. Exit code 1 (try again)."""

    exit_code = 1


def destination_name() -> str:
    """`destination` from the environment (DESTINATION) or .dlt/config.toml; duckdb when unset."""
    value = dlt.config.get("destination")
    name = str(value or "duckdb").strip().lower()
    if name not in DESTINATIONS:
        raise ConfigError(f"DESTINATION '{name}' is not supported; use one of: {', '.join(DESTINATIONS)}")
    return name


def is_postgres() -> bool:
    return destination_name() == "postgres"


def postgres_credentials() -> PostgresCredentials:
    """dlt's postgres credentials: DESTINATION__POSTGRES__CREDENTIALS, or [destination.postgres] secrets."""
    value = dlt.secrets.get("destination.postgres.credentials")
    if not value:
        raise ConfigError(
            "DESTINATION=postgres but destination.postgres.credentials is not set; set "
            "DESTINATION__POSTGRES__CREDENTIALS=postgresql://user:password@host:5432/database "
            "or [destination.postgres] credentials in .dlt/secrets.toml"
        )
    credentials = PostgresCredentials()
    try:
        if isinstance(value, Mapping):
            credentials.update(dict(value))
        else:
            credentials.parse_native_representation(str(value))
    except Exception:
        raise ConfigError(
            "destination.postgres.credentials is not a valid connection string; use "
            "postgresql://user:password@host:5432/database"
        ) from None
    if not credentials.database:
        raise ConfigError("destination.postgres.credentials names no database; add /<database> to the URL")
    return credentials


def describe(credentials: PostgresCredentials) -> str:
    """Where the data goes, for messages: never the password."""
    return (
        f"PostgreSQL database {credentials.database} on {credentials.host}:{credentials.port or 5432} "
        f"(user {credentials.username})"
    )


def scrub(text: str, credentials: PostgresCredentials) -> str:
    """`text` without the password (psycopg2 and dlt errors may quote the connection string)."""
    password = str(credentials.password or "")
    if password:
        text = text.replace(password, "***")
    with contextlib.suppress(Exception):
        text = text.replace(credentials.to_native_representation(), describe(credentials))
    return text


def error_line(exc: BaseException, credentials: PostgresCredentials) -> str:
    """The first informative line of a PostgreSQL error, password removed."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return scrub(lines[0] if lines else type(exc).__name__, credentials)[:300]


def connect(credentials: PostgresCredentials, *, timeout_s: int = 10) -> Any:
    """A psycopg2 connection (autocommit), or one line saying what to fix: exit 1 unreachable, 2 refused."""
    import psycopg2

    try:
        conn = psycopg2.connect(
            host=credentials.host,
            port=credentials.port or 5432,
            user=credentials.username,
            password=str(credentials.password or ""),
            dbname=credentials.database,
            connect_timeout=timeout_s,
            application_name="genesys-queue-sla",
        )
    except psycopg2.OperationalError as exc:
        text = str(exc)
        where = describe(credentials)
        if "password authentication failed" in text or "no password supplied" in text:
            raise ConfigError(
                f"{where} rejected the credentials; check the user and password in "
                "DESTINATION__POSTGRES__CREDENTIALS"
            ) from None
        if "does not exist" in text:
            raise ConfigError(f"{where}: {error_line(exc, credentials)}; create it or fix the URL") from None
        raise WarehouseUnreachableError(
            f"cannot reach {where}: {error_line(exc, credentials)}; check the host and port, and that the "
            "server is running"
        ) from None
    conn.autocommit = True
    return conn


def check_can_create(conn: Any, credentials: PostgresCredentials, schemas: tuple[str, ...]) -> None:
    """Exit 2 unless the user may create each of `schemas` or already may create tables in it."""
    with conn.cursor() as cursor:
        cursor.execute("select has_database_privilege(current_database(), 'CREATE')")
        can_create_schemas = bool(cursor.fetchone()[0])
        missing = []
        for schema in schemas:
            cursor.execute(
                "select has_schema_privilege(nspname, 'CREATE') from pg_namespace where nspname = %s",
                [schema],
            )
            row = cursor.fetchone()
            if (row is None and not can_create_schemas) or (row is not None and not row[0]):
                missing.append(schema)
    if missing:
        raise ConfigError(
            f"user {credentials.username} may not create schema {', '.join(missing)} in "
            f"{describe(credentials)}; as the database owner run: "
            f"GRANT CREATE ON DATABASE {credentials.database} TO {credentials.username}"
        )


@contextlib.contextmanager
def advisory_lock(conn: Any, credentials: PostgresCredentials) -> Iterator[None]:
    """Hold the project's advisory lock on `conn` for the block (one load or build at a time per database)."""
    from common.dblock import DatabaseBusyError

    with conn.cursor() as cursor:
        cursor.execute("select pg_try_advisory_lock(%s)", [PG_LOCK_KEY])
        if not cursor.fetchone()[0]:
            cursor.execute(
                "select pid from pg_locks where locktype = 'advisory' and objid = %s and granted limit 1",
                [PG_LOCK_KEY & 0xFFFFFFFF],
            )
            row = cursor.fetchone()
            raise DatabaseBusyError(describe(credentials), row[0] if row else None)  # type: ignore[arg-type]
    try:
        yield
    finally:
        with contextlib.suppress(Exception), conn.cursor() as cursor:
            cursor.execute("select pg_advisory_unlock(%s)", [PG_LOCK_KEY])
