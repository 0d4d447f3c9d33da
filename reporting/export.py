"""`python -m reporting export`: one CSV per published mart, written into a new folder swapped in whole."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
from pathlib import Path

import duckdb

from reporting.build_state import require_success
from reporting.errors import MissingDataError, ReportingError
from reporting.reader import Reader, database_exists, reading

log = logging.getLogger(__name__)

DEFAULT_EXPORT_DIR = Path("exports")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _csv_select(con: Reader, mart: str) -> str:
    """SELECT of a mart for the CSV: *_pct and *_seconds rounded to 2 decimals, timestamps as ISO UTC
    (PostgreSQL: booleans spelled true/false as DuckDB writes them)."""
    columns = con.execute(
        "select column_name, data_type from information_schema.columns"
        " where table_schema = 'main' and table_name = ? order by ordinal_position",
        [mart],
    ).fetchall()
    if not columns:
        where = "the PostgreSQL database" if con.postgres else "the DuckDB file"
        raise MissingDataError(f"error: mart {mart} is not built in {where}; run 'make build' first")
    parts = []
    for name, data_type in columns:
        column = _quote(name)
        kind = data_type.upper()
        if name.endswith(("_pct", "_seconds")):
            rounded = f"round(cast({column} as numeric), 2)" if con.postgres else f"round({column}, 2)"
            parts.append(f"{rounded} as {column}")
        elif kind.startswith("TIMESTAMP"):
            formatted = (
                f"""to_char({column}, 'YYYY-MM-DD"T"HH24:MI:SS"Z"')"""
                if con.postgres
                else f"strftime({column}, '%Y-%m-%dT%H:%M:%SZ')"
            )
            parts.append(f"{formatted} as {column}")
        elif con.postgres and kind == "BOOLEAN":
            parts.append(f"case when {column} then 'true' when not {column} then 'false' end as {column}")
        else:
            parts.append(column)
    # PostgreSQL has no ORDER BY ALL: the columns by position
    order = ", ".join(str(i) for i in range(1, len(parts) + 1)) if con.postgres else "all"
    return f"select {', '.join(parts)} from main.{_quote(mart)} order by {order}"


def _write_csvs(db_path: Path, marts: tuple[str, ...], folder: Path) -> list[Path]:
    """COPY every mart to <folder>/<mart>.csv through its public (guarded) view."""
    written = []
    # timestamptz values are formatted in the session zone, which reading() sets to UTC
    with reading(db_path) as con:
        for mart in marts:
            path = folder / f"{mart}.csv"
            select = _csv_select(con, mart)
            if con.postgres:  # the server streams the CSV to this process (COPY ... TO STDOUT)
                with path.open("w", encoding="utf-8", newline="") as handle, con.conn.cursor() as cursor:
                    cursor.copy_expert(f"copy ({select}) to stdout with (format csv, header)", handle)
            else:
                quoted_path = str(path).replace("'", "''")
                con.execute(f"copy ({select}) to '{quoted_path}' (format csv, header)")
            log.info("wrote %s", path)
            written.append(path)
    return written


def _folder_mode(out_dir: Path) -> int:
    """The mode the swapped-in folder gets: the old folder's, else what mkdir would give (0777 - umask)."""
    if out_dir.is_dir():
        return out_dir.stat().st_mode & 0o7777
    umask = os.umask(0)
    os.umask(umask)
    return 0o777 & ~umask


def _carry_over(old_dir: Path, new_dir: Path) -> None:
    """Keep files in the old folder that are not ours (a user's notes), hard-linked when possible."""
    for entry in old_dir.iterdir():
        target = new_dir / entry.name
        if target.exists() or not entry.is_file():
            continue
        try:
            os.link(entry, target)
        except OSError:
            shutil.copy2(entry, target)


def _swap_in(new_dir: Path, out_dir: Path) -> None:
    """Make new_dir out_dir: the old folder moves aside and comes back if the second rename fails."""
    if not out_dir.exists():
        os.rename(new_dir, out_dir)
        return
    old_dir = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}.old-"))
    os.rmdir(old_dir)  # only the unique name is wanted: rename() needs the target to be absent or empty
    os.rename(out_dir, old_dir)
    try:
        os.rename(new_dir, out_dir)
    except BaseException:
        os.rename(old_dir, out_dir)
        raise
    shutil.rmtree(old_dir, ignore_errors=True)


def export_marts(db_path: Path, out_dir: Path = DEFAULT_EXPORT_DIR) -> list[Path]:
    """Write <mart>.csv of every published mart; out_dir's CSVs are replaced all together or not at all.

    The marts are those the last successful build published (one list: the models in models/marts/,
    recorded by macros/build_state.sql). Refuses (exit 2) unless the last build succeeded. The CSVs are
    written into a new hidden folder beside out_dir, which then replaces out_dir; on any failure or
    interrupt (SIGINT, SIGTERM as the CLI maps it) the new folder is removed and out_dir is untouched.
    """
    if not database_exists(db_path):
        raise MissingDataError(f"error: {db_path} does not exist; run 'make load && make build' first")
    record = require_success(db_path)
    shown_dir, out_dir = out_dir, out_dir.resolve()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    new_dir = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}.new-"))
    try:
        new_dir.chmod(_folder_mode(out_dir))  # mkdtemp makes it private (0700)
        try:
            names = [path.name for path in _write_csvs(db_path, record.marts, new_dir)]
        except duckdb.Error as exc:
            raise ReportingError(f"error: export failed ({exc}); no CSV was changed") from exc
        if out_dir.is_dir():
            _carry_over(out_dir, new_dir)
        try:
            _swap_in(new_dir, out_dir)
        except OSError as exc:
            raise ReportingError(f"error: export failed ({exc}); no CSV was changed") from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(new_dir)
    return [shown_dir / name for name in names]
