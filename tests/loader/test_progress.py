"""Progress: a live bar on a terminal (windows done of total, rows, rows/s, ETA, retries), else log lines."""

from __future__ import annotations

import io

import pytest

from loader.progress import Progress
from tests.loader.conftest import load

pytestmark = pytest.mark.timeout(120)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_a_live_bar(sim, db):
    stream = _Terminal()
    progress = Progress(stream)
    assert progress.live
    try:
        load(sim, db, start="2026-04-01", end="2026-04-04", progress=progress)
    finally:
        progress.close()
    text = stream.getvalue()
    assert "4/4" in text and "window" in text  # windows done of total
    for word in ("rows=", "rows_per_s=", "retries=", "<"):  # '<' precedes tqdm's ETA
        assert word in text, text


def test_no_terminal_no_bar(sim, db, caplog):
    stream = io.StringIO()
    progress = Progress(stream)
    assert not progress.live
    with caplog.at_level("INFO", logger="loader.source"):
        load(sim, db, start="2026-04-01", end="2026-04-02", progress=progress)
    progress.close()
    assert stream.getvalue() == ""
    assert "window 1 of 2" in caplog.text and "window 2 of 2" in caplog.text
