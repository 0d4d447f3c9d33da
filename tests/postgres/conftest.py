"""The PostgreSQL tests' server: one throwaway cluster per session (tests/pgserver.py), when asked for."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import Workspace, sim  # noqa: F401 - the simulator fixture, shared with e2e
from tests.pgserver import PgServer, running_postgres

_names = itertools.count(1)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test of this folder carries the `postgres` mark (`pytest -m postgres`, `-m "not postgres"`)."""
    folder = os.path.dirname(__file__)
    for item in items:
        if str(item.fspath).startswith(folder):
            item.add_marker(pytest.mark.postgres)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    with running_postgres() as server:
        yield server


@pytest.fixture(scope="module")
def pg_database(pg_server: PgServer) -> PgServer:
    """A fresh database of the session's server for one test module."""
    return pg_server.create_database(f"genesys_t{os.getpid()}_{next(_names)}")


def pg_rows(server: PgServer, sql: str) -> list[dict[str, Any]]:
    """Rows of `sql` on the server's database as dicts (session zone UTC)."""
    conn = server.connect()
    try:
        with conn.cursor() as cursor:
            cursor.execute("set TimeZone = 'UTC'")
            cursor.execute(sql)
            names = [column.name for column in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        conn.close()


def on_postgres(ws: Workspace, server: PgServer) -> Workspace:
    """The same workspace with DESTINATION=postgres aimed at `server`."""
    ws.env.update(server.env())
    return ws
