"""`make sql` on PostgreSQL: psql, read-only, on the database DESTINATION__POSTGRES__CREDENTIALS names."""

from __future__ import annotations

import os
import shutil
import sys

from common import warehouse
from common.errors import AppError


def main(argv: list[str] | None = None) -> int:
    """`--which` prints the destination (duckdb|postgres) for the Makefile; otherwise exec psql, with Q
    (one query) when set. The password goes through PGPASSWORD, never the command line."""
    args = sys.argv[1:] if argv is None else argv
    try:
        if args == ["--which"]:
            print(warehouse.destination_name())
            return 0
        credentials = warehouse.postgres_credentials()
    except AppError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    psql = shutil.which("psql")
    if psql is None:
        print("error: psql is not installed; install it: apt-get install postgresql-client", file=sys.stderr)
        return 2
    env = dict(os.environ)
    env.update(
        PGHOST=str(credentials.host),
        PGPORT=str(credentials.port or 5432),
        PGUSER=str(credentials.username),
        PGPASSWORD=str(credentials.password or ""),
        PGDATABASE=str(credentials.database),
        PGOPTIONS="-c default_transaction_read_only=on -c TimeZone=UTC",
    )
    query = os.environ.get("Q", "")
    command = [psql, "-v", "ON_ERROR_STOP=1", *(["-c", query] if query else [])]
    os.execve(psql, command, env)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
