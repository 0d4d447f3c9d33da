"""The targets seed override (GENESYS_TARGETS_CSV) and the preflight checks that run before dbt writes."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from dbt_harness import CLI_TIMEOUT_S, REPO, BuiltProject, clean_env

from common.errors import ConfigError
from reporting.targets import DEFAULT_TARGETS_CSV, read_targets_csv

HEADER = "queue_id,queue_name,media_type,target_pct\n"


def _reporting(args: list[str], db_path: Path, work_dir: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "reporting", *args],
        cwd=REPO,
        env={**clean_env(db_path, work_dir), **env},
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
        check=False,
    )


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_repo_seed_ships_header_only() -> None:
    assert DEFAULT_TARGETS_CSV.read_text() == HEADER
    assert read_targets_csv(DEFAULT_TARGETS_CSV) == []


def test_valid_targets_file_is_accepted(tmp_path: Path) -> None:
    """A spreadsheet export: byte-order mark, columns in another order, spaces around values."""
    path = tmp_path / "targets.csv"
    rows = " 85 ,voice , Sales,\n90,,,q-support\n\n70,chat,Sales,q-x\n"
    path.write_text("\ufefftarget_pct,media_type,queue_name,queue_id\n" + rows, encoding="utf-8")
    assert read_targets_csv(path) == [
        {"queue_id": "", "queue_name": "Sales", "media_type": "voice", "target_pct": "85"},
        {"queue_id": "q-support", "queue_name": "", "media_type": "", "target_pct": "90"},
        {"queue_id": "q-x", "queue_name": "Sales", "media_type": "chat", "target_pct": "70"},
    ]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("q1,,voice,0\n", "line 2: target_pct 0 is out of range"),
        ("q1,,voice,100.5\n", "line 2: target_pct 100.5 is out of range"),
        ("q1,,voice,nan\n", "line 2: target_pct nan is out of range"),
        ("q1,,voice,\n", "line 2: target_pct '' is not a number"),
        # a queue_id row matches by id only, so another label does not make it a different override
        ("q1,Sales,voice,80\nq1,Sales (old),voice,85\n", "line 3: duplicates line 2"),
        (",Sales,,80\n,Sales,,85\n", "line 3: duplicates line 2"),
        ("q1,,Voice,80\n", "line 2: media_type 'Voice' is not known"),
    ],
)
def test_invalid_targets_file_names_file_and_line(tmp_path: Path, rows: str, message: str) -> None:
    path = tmp_path / "targets.csv"
    path.write_text(HEADER + rows)
    with pytest.raises(ConfigError) as caught:
        read_targets_csv(path)
    assert str(caught.value).startswith(f"{path} {message}")
    assert "\n" not in str(caught.value)


def test_targets_csv_override_sets_the_target(built_project: BuiltProject, tmp_path: Path) -> None:
    """A user's own file (any name, anywhere) becomes the seed; the repo's seed file is left alone."""
    db_path = built_project.copy_db(tmp_path)
    repo_seed = DEFAULT_TARGETS_CSV.read_bytes()
    targets = tmp_path / "my targets.csv"
    targets.write_text("\ufeff" + HEADER + "q-sales,, voice ,55\n,Support ,,65.5\n\n", encoding="utf-8")
    run = _reporting(["build"], db_path, tmp_path, GENESYS_TARGETS_CSV=str(targets))
    assert run.returncode == 0, run.stderr
    with duckdb.connect(str(db_path), read_only=True) as con:
        targets_by_group = dict(
            con.execute(
                "select queue_id || '/' || media_type, target_pct from main.fct_queue_sla_period"
                " where queue_id in ('q-sales', 'q-support')"
            ).fetchall()
        )
        seeded = con.execute("select count(*) from main.queue_sla_targets").fetchone()[0]
    assert seeded == 2
    assert targets_by_group["q-sales/voice"] == 55
    assert targets_by_group["q-support/voice"] == 65.5
    assert targets_by_group["q-sales/message"] != 55  # the override names voice only
    assert DEFAULT_TARGETS_CSV.read_bytes() == repo_seed


@pytest.mark.parametrize(
    ("zone", "fix"),
    [("Asia/Kolkata", "reload at PT30M"), ("Asia/Kathmandu", "PT15M for 45-minute offsets")],
)
def test_zone_that_cuts_buckets_is_refused_before_dbt(
    built_project: BuiltProject, tmp_path: Path, zone: str, fix: str
) -> None:
    """Hourly buckets cannot be cut into days at a :30/:45 offset: exit 2, and the file is byte-identical."""
    db_path = built_project.copy_db(tmp_path)
    before = _digest(db_path)
    run = _reporting(["build", "--report-tz", zone], db_path, tmp_path)
    assert run.returncode == 2, run.stderr
    assert run.stderr.startswith("error: bucket 2026-03-0"), run.stderr
    assert f"straddles local midnight in {zone}" in run.stderr and fix in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
    assert _digest(db_path) == before
    assert not (tmp_path / "target" / "run_results.json").exists()  # dbt never ran


def test_model_guard_still_refuses_straddling_buckets_without_preflight(
    built_project: BuiltProject, tmp_path: Path
) -> None:
    """Second line of defence: plain dbt (no preflight) fails in fct_queue_intervals with the same fix."""
    db_path = built_project.copy_db(tmp_path)
    dbt = subprocess.run(
        [
            str(Path(sys.executable).with_name("dbt")),
            "run",
            "--select",
            "+fct_queue_intervals",  # with its staging views: the copy's file name differs from the built one
            "--full-refresh",
            "--project-dir",
            str(REPO),
            "--vars",
            '{"report_timezone": "Asia/Kolkata"}',
        ],
        cwd=REPO,
        env=clean_env(db_path, tmp_path),
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
        check=False,
    )
    assert dbt.returncode == 1, dbt.stdout
    assert "straddles local midnight in Asia/Kolkata" in dbt.stdout
    assert "reload at PT30M" in dbt.stdout
