"""make variables reach the programs as plain values: never evaluated by a shell, quotes refused."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def _make(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOURCES__", "GENESYS_", "MAKE"))}
    env["GENESYS_DUCKDB_PATH"] = str(tmp_path / "genesys.duckdb")
    env["GENESYS_BUILD_CACHE_DIR"] = os.environ.get("GENESYS_BUILD_CACHE_DIR") or str(
        tmp_path / "build-cache"
    )
    return subprocess.run(
        ["make", "--no-print-directory", "-C", str(REPO_ROOT), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("target", ["load", "build", "export"])
@pytest.mark.parametrize(
    ("variable", "template"),
    [
        ("START", "2026-11-20'; touch {marker}; echo '"),
        ("END", '2026-11-20"; touch {marker}; echo "'),
        ("REPORT_TZ", "UTC`touch {marker}`"),
        ("BUILD_ARGS", "--var 'sl_formula=genesys'; touch {marker}"),
    ],
)
def test_a_value_with_a_quote_is_refused_and_never_run(
    tmp_path: Path, target: str, variable: str, template: str
) -> None:
    marker = tmp_path / "pwned"
    run = _make(tmp_path, target, f"{variable}={template.format(marker=marker)}")
    assert not marker.exists(), "the shell ran the value"
    assert run.returncode == 2, run
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, run.stderr
    assert f"error: {variable} holds a quote" in lines[0], run.stderr
    assert not (tmp_path / "genesys.duckdb").exists()


def test_make_functions_in_a_value_are_not_expanded_either(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    run = _make(tmp_path, "build", f"REPORT_TZ=$(shell touch {marker})")
    assert not marker.exists(), "make expanded the value"
    # the CLI received the text itself and rejected it as a zone name
    assert run.returncode == 2, run
    assert f"error: time zone '$(shell touch {marker})' is unknown" in run.stderr, run.stderr


def test_values_reach_the_cli_as_arguments(tmp_path: Path) -> None:
    # a bad but harmless START arrives verbatim (spaces and ; included) and is rejected by the CLI
    run = _make(tmp_path, "build", "START=2026-11-20; echo hi", "BUILD_ARGS=--var sl_formula=nope")
    assert run.returncode == 2, run
    assert "error: START '2026-11-20; echo hi' is not a date" in run.stderr, run.stderr
    assert "hi\n" not in run.stdout
