"""The targets seed (queue_sla_targets.csv): where it is, whether it is valid, and handing it to dbt."""

from __future__ import annotations

import contextlib
import csv
import math
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from common.errors import ConfigError
from common.names import QUEUE_MEDIA_TYPES
from reporting.options import PROJECT_DIR
from reporting.paths import staged_seeds_dir

# The user's own targets file; without it, the repo's seeds/queue_sla_targets.csv (header only).
TARGETS_ENV = "GENESYS_TARGETS_CSV"
# dbt_project.yml reads seed-paths from this variable; only this module sets it (to a staged copy).
SEEDS_DIR_ENV = "GENESYS_SEEDS_DIR"
SEED_NAME = "queue_sla_targets"
DEFAULT_SEEDS_DIR = PROJECT_DIR / "seeds"
DEFAULT_TARGETS_CSV = DEFAULT_SEEDS_DIR / f"{SEED_NAME}.csv"
COLUMNS = ("queue_id", "queue_name", "media_type", "target_pct")
# The queue media types a target can be configured for (the seed's accepted_values test in seeds/_seeds.yml).


def targets_csv_path() -> Path:
    """GENESYS_TARGETS_CSV if set, else the repo's seeds/queue_sla_targets.csv."""
    configured = os.environ.get(TARGETS_ENV, "").strip()
    return Path(configured).expanduser().resolve() if configured else DEFAULT_TARGETS_CSV


def _target_pct(text: str, where: str) -> float:
    fix = "use a percentage in (0, 100], e.g. 85"
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"{where}: target_pct '{text}' is not a number; {fix}") from None
    if not math.isfinite(value) or not 0 < value <= 100:
        raise ConfigError(f"{where}: target_pct {text} is out of range; {fix}")
    return value


def read_targets_csv(path: Path) -> list[dict[str, str]]:
    """The targets CSV's rows, trimmed and checked; ConfigError naming the file, the line and the fix."""
    if not path.is_file():
        raise ConfigError(
            f"targets file {path} does not exist; point {TARGETS_ENV} at a CSV file or unset it"
        )
    try:
        # utf-8-sig: spreadsheets often save a byte-order mark before the header
        with path.open(newline="", encoding="utf-8-sig") as handle:
            lines = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ConfigError(f"targets file {path} cannot be read ({exc}); save it as a UTF-8 CSV") from None
    header = [name.strip() for name in lines[0]] if lines else []
    if sorted(header) != sorted(COLUMNS):
        raise ConfigError(
            f"{path} line 1: header is {','.join(header) or '(empty)'}; "
            f"it must be exactly {','.join(COLUMNS)}"
        )
    index = {name: header.index(name) for name in COLUMNS}
    seen: dict[tuple[str, str, str], int] = {}
    rows = []
    for line_no, fields in enumerate(lines[1:], start=2):
        where = f"{path} line {line_no}"
        if not any(field.strip() for field in fields):
            continue  # a blank line, e.g. at the end of a hand-edited file
        if len(fields) != len(COLUMNS):
            raise ConfigError(
                f"{where}: {len(fields)} fields instead of {len(COLUMNS)}; "
                f"write {','.join(COLUMNS)} (leave unused fields empty) or delete the line"
            )
        row = {name: fields[position].strip() for name, position in index.items()}
        if not row["queue_id"] and not row["queue_name"]:
            raise ConfigError(f"{where}: neither queue_id nor queue_name is set; fill in one of them")
        if row["media_type"] and row["media_type"] not in QUEUE_MEDIA_TYPES:
            raise ConfigError(
                f"{where}: media_type '{row['media_type']}' is not known; "
                f"use one of {', '.join(QUEUE_MEDIA_TYPES)}, or leave it empty for every media"
            )
        _target_pct(row["target_pct"], where)
        # a queue_id row matches by id only (its name is a label), so two rows for one id and media collide
        key = (row["queue_id"], "" if row["queue_id"] else row["queue_name"], row["media_type"])
        if key in seen:
            raise ConfigError(
                f"{where}: duplicates line {seen[key]} (same queue and media_type); keep only one of them"
            )
        seen[key] = line_no
        rows.append(row)
    return rows


@contextlib.contextmanager
def _environ(name: str, value: str | None) -> Iterator[None]:
    """Set (or, with None, unset) one environment variable for the duration of the block."""
    previous = os.environ.pop(name, None)
    if value is not None:
        os.environ[name] = value
    try:
        yield
    finally:
        os.environ.pop(name, None)
        if previous is not None:
            os.environ[name] = previous


@contextlib.contextmanager
def staged_seeds(rows: list[dict[str, str]], db_path: Path) -> Iterator[None]:
    """Point dbt's seed-paths at the checked rows (and the seed properties) while dbt runs in this process.

    dbt loads exactly what read_targets_csv() accepted (trimmed values, no blank lines) under the name the
    models ref(), whatever the user's file is called.
    """
    # Inside the project (its git-ignored target/) and given to dbt as a relative path: dbt writes the
    # compiled seed tests under target/compiled/<project>/<seed path>/, which an absolute path would break.
    # One fixed folder per DuckDB file: builds do not pile up copies under target/run and target/compiled,
    # and two builds on two files at once never read each other's targets (the database lock serializes
    # builds on one file).
    folder = staged_seeds_dir(db_path)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    try:
        with (folder / f"{SEED_NAME}.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
        for properties in DEFAULT_SEEDS_DIR.glob("*.yml"):
            shutil.copyfile(properties, folder / properties.name)
        with _environ(SEEDS_DIR_ENV, folder.relative_to(PROJECT_DIR).as_posix()):
            yield
    finally:
        shutil.rmtree(folder, ignore_errors=True)
