"""Load progress: a live tqdm bar on a terminal (windows, rows, rows/s, ETA, retries), else log lines."""

from __future__ import annotations

import logging
import sys
from typing import IO, Any

from tqdm import tqdm

from loader.feed import WindowDone
from loader.windows import Window

# The per-window INFO line that the bar replaces on a terminal.
WINDOW_LOGGER = "loader.source"


class Progress:
    """Called once per loaded window; draws a bar when `stream` is a terminal, otherwise leaves the
    per-window log lines (`window i of n: rows, API calls, retries`) as the progress report."""

    def __init__(self, stream: IO[str] | None = None, live: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.live = _isatty(self.stream) if live is None else live
        self._bar: tqdm | None = None
        self._level = logging.getLogger(WINDOW_LOGGER).level
        if self.live:
            logging.getLogger(WINDOW_LOGGER).setLevel(logging.WARNING)

    def __call__(self, done: WindowDone, window: Window, run: Any) -> None:
        if not self.live:
            return
        if self._bar is None:
            self._bar = tqdm(
                total=len(run.windows),
                initial=run.windows_done - 1,
                desc="loading windows",
                unit="window",
                file=self.stream,
                dynamic_ncols=True,
                mininterval=0.2,
            )
        self._bar.update(1)
        rows = run.rows.get("queue_intervals", 0)
        elapsed = max(1e-6, self._bar.format_dict.get("elapsed") or 1e-6)
        self._bar.set_postfix(
            rows=f"{rows:,}",
            rows_per_s=f"{rows / elapsed:,.0f}",
            retries=run.http.stats.retries,
            refresh=False,
        )

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        logging.getLogger(WINDOW_LOGGER).setLevel(self._level)


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
