"""RateLimiter: one request allowance shared by every loader thread (per-minute count, Retry-After, pacing,
requests in flight halved on repeated 429s)."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager

logger = logging.getLogger(__name__)

# Genesys allows 300 requests per minute per token until a reply says otherwise (inin-ratelimit-allowed).
DEFAULT_PER_MINUTE = 300
WINDOW_S = 60.0
# Request starts are spaced over a slightly longer window than the server's: the server counts a request
# when it arrives, a little after it started here, and that skew must never tip a minute over the limit.
WINDOW_MARGIN_S = 0.5
HALVE_AFTER_429S = 2  # this many 429s in a row halve the requests in flight


class Stopped(Exception):
    """The limiter was closed (the load is stopping): the waiting thread gives up its request."""


class RateLimiter:
    """Admit one request at a time into a shared allowance, from any thread.

    A request may start when (1) fewer than `concurrency` requests are in flight, (2) no pause is in force
    (Retry-After or inin-ratelimit-reset after a 429, or pacing when inin-ratelimit-count nears the
    allowance) and (3) fewer than `allowed` requests started in the last minute. Every wait ends early
    when the limiter is closed, so worker threads stop promptly on an interrupt.
    """

    def __init__(self, concurrency: int, pace_ratio: float = 0.9, cap_s: float = 60.0) -> None:
        self.concurrency = max(1, concurrency)
        self.pace_ratio = pace_ratio
        self.cap_s = cap_s
        self.allowed = DEFAULT_PER_MINUTE
        self.in_flight = 0
        self.peak_in_flight = 0
        self.waited_s = 0.0
        self.halvings = 0
        self._starts: deque[float] = deque()
        self._pause_until = 0.0
        self._throttled_in_row = 0
        self._closed = False
        self._cond = threading.Condition()

    # --- admission ---------------------------------------------------------------------------------
    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one in-flight place for the duration of a request."""
        self.acquire()
        try:
            yield
        finally:
            self.release()

    def acquire(self) -> None:
        started = time.monotonic()
        with self._cond:
            while True:
                if self._closed:
                    raise Stopped
                now = time.monotonic()
                while self._starts and now - self._starts[0] >= WINDOW_S + WINDOW_MARGIN_S:
                    self._starts.popleft()
                if self.in_flight >= self.concurrency:
                    wait = 1.0  # woken by release()
                elif self._pause_until > now:
                    wait = self._pause_until - now
                elif len(self._starts) >= self.allowed:
                    wait = self._starts[0] + WINDOW_S + WINDOW_MARGIN_S - now
                else:
                    break
                self._cond.wait(timeout=max(0.001, wait))
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            self._starts.append(now)
            self.waited_s += now - started

    def release(self) -> None:
        with self._cond:
            self.in_flight -= 1
            self._cond.notify_all()

    def sleep(self, seconds: float) -> None:
        """A backoff wait that a close() cuts short (raising Stopped)."""
        deadline = time.monotonic() + seconds
        with self._cond:
            while not self._closed:
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                self._cond.wait(timeout=left)
        raise Stopped

    def close(self) -> None:
        """Refuse every further request and wake every waiting thread."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    @property
    def closed(self) -> bool:
        return self._closed

    # --- what replies say ----------------------------------------------------------------------------
    def observe(
        self,
        status: int,
        allowed: float | None,
        count: float | None,
        reset: float | None,
        retry_after: float | None,
    ) -> None:
        """Learn from one reply's status and inin-ratelimit-* / Retry-After headers."""
        now = time.monotonic()
        with self._cond:
            if allowed and allowed >= 1:
                self.allowed = int(allowed)
            if status == 429:
                self._throttled_in_row += 1
                pause = retry_after if retry_after is not None else (reset or 1.0)
                self._pause_until = max(self._pause_until, now + min(self.cap_s, max(0.0, pause)))
                if self._throttled_in_row >= HALVE_AFTER_429S and self.concurrency > 1:
                    self.concurrency = max(1, self.concurrency // 2)
                    self.halvings += 1
                    self._throttled_in_row = 0
                    logger.warning("repeated HTTP 429: now at most %d request(s) in flight", self.concurrency)
            else:
                self._throttled_in_row = 0
                if allowed and count is not None and count >= allowed * self.pace_ratio:
                    # Spread what is left of the allowance over what is left of the server's minute.
                    left = reset or 1.0
                    remaining = max(1.0, allowed - count)
                    pause = left / remaining if count < allowed else left
                    self._pause_until = max(self._pause_until, now + min(self.cap_s, pause))
            self._cond.notify_all()
