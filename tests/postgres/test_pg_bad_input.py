"""Bad PostgreSQL settings: one line on stderr saying what to fix, exit 1 or 2, the password never shown."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from simulator import Simulator
from tests.e2e.conftest import Workspace, make_workspace
from tests.pgserver import LIMITED, PgServer

WRONG_PASSWORD = "Wr0ng-Pa55word-DO-NOT-LEAK"


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed again when the block ends: nothing listens there


@pytest.fixture
def ws(sim: Simulator, tmp_path: Path) -> Workspace:
    return make_workspace(sim, tmp_path)


def _one_line_error(result, *secrets: str) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    for secret in secrets:
        assert secret not in result.stderr + result.stdout
    return lines[0]


COMMANDS = [("-m", "loader"), ("-m", "reporting", "build"), ("-m", "reporting", "export", "--no-build")]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[1:]))
def test_an_unreachable_server_exits_1(ws: Workspace, command: tuple[str, ...]) -> None:
    url = f"postgresql://genesys:{WRONG_PASSWORD}@127.0.0.1:{_closed_port()}/genesys"
    ws.env.update(DESTINATION="postgres", DESTINATION__POSTGRES__CREDENTIALS=url)
    result = ws.run(*command, timeout=120)
    assert result.returncode == 1
    line = _one_line_error(result, WRONG_PASSWORD, url)
    assert "cannot reach PostgreSQL database genesys on 127.0.0.1" in line
    assert not ws.db_path.exists()


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[1:]))
def test_a_wrong_password_exits_2(ws: Workspace, pg_database: PgServer, command: tuple[str, ...]) -> None:
    ws.env.update(pg_database.env(password=WRONG_PASSWORD))
    result = ws.run(*command, timeout=120)
    assert result.returncode == 2
    line = _one_line_error(result, WRONG_PASSWORD)
    assert "rejected the credentials" in line


def test_a_user_who_may_not_create_schemas_is_told_the_grant(ws: Workspace, pg_database: PgServer) -> None:
    ws.env.update(pg_database.env(user=LIMITED))
    result = ws.load(timeout=120)
    assert result.returncode == 2
    line = _one_line_error(result, pg_database.limited_password)
    assert f"user {LIMITED} may not create schema genesys_raw" in line
    assert f"GRANT CREATE ON DATABASE {pg_database.database} TO {LIMITED}" in line
    rows = pg_database.connect().cursor()
    rows.execute("select count(*) from pg_namespace where nspname like 'genesys%'")
    assert rows.fetchone()[0] == 0  # nothing was created


def test_an_unknown_destination_is_refused(ws: Workspace) -> None:
    ws.env.update(DESTINATION="oracle")
    result = ws.load(timeout=120)
    assert result.returncode == 2
    assert "DESTINATION 'oracle' is not supported" in _one_line_error(result)
