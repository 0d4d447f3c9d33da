"""The simulator's clock: real time by default, frozen at a set instant for tests."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


class SimClock:
    """Real UTC time shifted by an offset, or a frozen instant once set.

    A clock created with a start instant (or after `set`) is frozen: it only moves
    when a test calls `advance`, so late-metric and token-expiry tests are exact.
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._frozen: datetime | None = None
        self._offset = timedelta(0)
        if start is not None:
            self.set(start)

    def now(self) -> datetime:
        with self._lock:
            if self._frozen is not None:
                return self._frozen
            return datetime.now(UTC) + self._offset

    def set(self, when: datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("SimClock.set needs an aware datetime (e.g. with tzinfo=UTC)")
        with self._lock:
            self._frozen = when.astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            if self._frozen is not None:
                self._frozen += delta
            else:
                self._offset += delta

    @property
    def is_frozen(self) -> bool:
        return self._frozen is not None
