"""A CLI's `main(argv)` run in the test process, with the environment and cwd a subprocess of it would get.

For tests that need what a command builds, not how its process ends: a `python -m reporting build`
subprocess spends ~4 s starting Python and importing dbt before dbt starts. Exit codes, signals and
tracebacks stay with the subprocess tests (tests/e2e/test_bad_input.py, tests/dbt/test_read_safety.py).
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class InProcessRun:
    """What `subprocess.run(..., capture_output=True, text=True)` would report, for the same checks."""

    returncode: int
    stdout: str
    stderr: str


def run_main(
    main: Callable[[list[str]], int], argv: list[str], env: dict[str, str], cwd: Path
) -> InProcessRun:
    """Call main(argv) with os.environ replaced by env and cwd as working folder; both restored after."""
    saved_env, saved_cwd = dict(os.environ), Path.cwd()
    out, err = io.StringIO(), io.StringIO()
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(argv)
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
    return InProcessRun(code, out.getvalue(), err.getvalue())
