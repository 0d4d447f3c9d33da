"""One writer per DuckDB file: an advisory lock beside it, and the message when another process holds it."""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
from collections.abc import Iterator
from pathlib import Path

from common.errors import AppError

# DuckDB's own message when another process has the file open for writing, e.g.
# 'Could not set lock on file "/x/genesys.duckdb": Conflicting lock is held in /usr/bin/python3.11 (PID 4242)'
_DUCKDB_LOCK_PID = re.compile(r"Conflicting lock is held in .*?\(PID (\d+)\)")


class DatabaseBusyError(AppError):
    """Another process is using the DuckDB file; nothing was changed. Exit code 1 (try again later)."""

    def __init__(self, db_path: Path, pid: int | str | None) -> None:
        super().__init__(
            f"another process (pid {pid or 'unknown'}) is using {db_path}; wait for it to finish"
        )


def lock_path(db_path: Path) -> Path:
    """The lock file of a DuckDB file: <file>.lock beside it."""
    return db_path.with_name(db_path.name + ".lock")


def busy_error_from_duckdb(exc: BaseException, db_path: Path) -> DatabaseBusyError | None:
    """DatabaseBusyError when a DuckDB error is the file lock held by another process, else None."""
    text = str(exc)
    if "Could not set lock" not in text and "Conflicting lock" not in text:
        return None
    match = _DUCKDB_LOCK_PID.search(text)
    return DatabaseBusyError(db_path, match.group(1) if match else None)


@contextlib.contextmanager
def database_lock(db_path: Path) -> Iterator[None]:
    """Hold <file>.lock for the block, or raise DatabaseBusyError naming the holder's pid (never waits).

    flock() is released by the kernel when the holder dies, even by SIGKILL, so a stale file never blocks.
    The file stays (deleting a lock file races with the next process opening it).
    """
    path = lock_path(db_path)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DatabaseBusyError(db_path, _holder_pid(path)) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(fd)  # releases the flock


def _holder_pid(path: Path) -> str | None:
    """The pid the holder wrote into the lock file (it writes it right after locking)."""
    with contextlib.suppress(OSError):
        text = path.read_text().strip()
        return text if text.isdigit() else None
    return None
