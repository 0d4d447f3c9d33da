"""A throwaway PostgreSQL cluster for tests and benchmarks: Debian's binaries, a temp folder, 127.0.0.1."""

from __future__ import annotations

import contextlib
import dataclasses
import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# PostgreSQL refuses to run as root: the cluster then runs as Debian's `postgres` account.
RUN_AS_WHEN_ROOT = "postgres"
DATABASE = "genesys"
OWNER = "genesys"  # owns the database: the loader's and dbt's role
LIMITED = "genesys_reader"  # may connect, may not create schemas (the permission test)


@dataclass(frozen=True)
class PgServer:
    """Where the cluster listens and the roles it holds (passwords are random per cluster)."""

    host: str
    port: int
    database: str
    owner_password: str
    limited_password: str

    def url(self, user: str = OWNER, password: str | None = None, database: str | None = None) -> str:
        """A postgresql:// URL as dlt takes it in DESTINATION__POSTGRES__CREDENTIALS."""
        if password is None:
            password = self.owner_password if user == OWNER else self.limited_password
        return f"postgresql://{user}:{password}@{self.host}:{self.port}/{database or self.database}"

    def env(self, user: str = OWNER, password: str | None = None) -> dict[str, str]:
        """The environment that points the loader and reporting at this server (DESTINATION=postgres)."""
        return {"DESTINATION": "postgres", "DESTINATION__POSTGRES__CREDENTIALS": self.url(user, password)}

    def connect(self, database: str | None = None) -> Any:
        """A psycopg2 connection as the owner (autocommit)."""
        import psycopg2

        conn = psycopg2.connect(self.url(database=database))
        conn.autocommit = True
        return conn

    def create_database(self, name: str) -> PgServer:
        """A new empty database owned by the owner role; the server as seen through it."""
        conn = self.connect()
        try:
            with conn.cursor() as cursor:
                cursor.execute(f"create database {name} owner {OWNER}")
                cursor.execute(f"revoke create on database {name} from public")
        finally:
            conn.close()
        return dataclasses.replace(self, database=name)


def bin_dir() -> Path | None:
    """The folder of initdb/pg_ctl: Debian keeps them under /usr/lib/postgresql/<version>/bin."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _as_cluster_user(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", RUN_AS_WHEN_ROOT, "--", *cmd] if os.geteuid() == 0 else cmd


@contextlib.contextmanager
def running_postgres() -> Iterator[PgServer]:
    """initdb + pg_ctl start in a temp folder; yields the server; stops it and removes the folder at exit."""
    binaries = bin_dir()
    if binaries is None:
        raise RuntimeError("PostgreSQL is not installed: apt-get install -y postgresql (as root)")
    folder = Path(tempfile.mkdtemp(prefix="genesys-pg-"))
    data = folder / "data"
    owner_pw, limited_pw, admin_pw = (secrets.token_hex(12) for _ in range(3))
    (folder / "pw").write_text(admin_pw + "\n")
    if os.geteuid() == 0:
        account = pwd.getpwnam(RUN_AS_WHEN_ROOT)
        os.chown(folder, account.pw_uid, account.pw_gid)
        os.chown(folder / "pw", account.pw_uid, account.pw_gid)
    port = _free_port()
    run = _cluster_runner(binaries)
    try:
        run(
            "initdb", "-D", str(data), "-U", "postgres", f"--pwfile={folder / 'pw'}", "-E", "UTF8",
            "--locale=C", "--auth-local=trust", "--auth-host=scram-sha-256",
        )  # fmt: skip
        # Throwaway data: durability is not needed, and the tests are faster without it.
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={folder} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=50"
        )
        run(
            "pg_ctl",
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(folder / "server.log"),
            "-w",
            "-t",
            "60",
            "start",
        )
        try:
            setup = [
                # createdb: the tests give each module a fresh database of its own
                f"create role {OWNER} login createdb password '{owner_pw}'",
                f"create role {LIMITED} login password '{limited_pw}'",
                f"create database {DATABASE} owner {OWNER}",
                f"revoke create on database {DATABASE} from public",
            ]
            commands = [arg for statement in setup for arg in ("-c", statement)]  # one transaction each
            run("psql", "-h", str(folder), "-p", str(port), "-U", "postgres", "-d", "postgres",
                "-v", "ON_ERROR_STOP=1", "-q", *commands)  # fmt: skip
            yield PgServer("127.0.0.1", port, DATABASE, owner_pw, limited_pw)
        finally:
            run("pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop", check=False)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _cluster_runner(binaries: Path) -> Any:
    def run(program: str, *args: str, check: bool = True) -> None:
        cmd = [str(binaries / program), *args]
        done = subprocess.run(
            _as_cluster_user(cmd), capture_output=True, text=True, timeout=120, check=False, cwd="/"
        )
        if check and done.returncode != 0:
            raise RuntimeError(f"{program} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")

    return run
