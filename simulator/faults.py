"""Access tokens, the per-token rate limit and the choice of injected faults."""

from __future__ import annotations

import math
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from simulator.config import FAULT_KINDS, Faults
from simulator.data import mix64

RATE_WINDOW_S = 60.0


@dataclass
class Token:
    """An issued access token; expiry is judged on the simulator clock."""

    value: str
    expires_at: datetime
    revoked: bool = False
    requests: int = 0


class TokenStore:
    """Issues opaque bearer tokens and says why one is not (or no longer) valid."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[str, Token] = {}

    def issue(self, now: datetime, lifetime_s: int) -> Token:
        token = Token(secrets.token_urlsafe(32), now + timedelta(seconds=lifetime_s))
        with self._lock:
            self._tokens[token.value] = token
        return token

    def check(self, value: str, now: datetime) -> tuple[Token | None, str]:
        """(token, "") when valid, else (token or None, reason: unknown | expired | revoked)."""
        with self._lock:
            token = self._tokens.get(value)
        if token is None:
            return None, "unknown"
        if token.revoked:
            return token, "revoked"
        if now >= token.expires_at:
            return token, "expired"
        return token, ""

    def count_request(self, token: Token, revoke_after: int | None) -> bool:
        """Count one API request on the token; False (and revoked) once it exceeds revoke_after."""
        with self._lock:
            token.requests += 1
            if revoke_after is not None and token.requests > revoke_after:
                token.revoked = True
            return not token.revoked

    def revoke(self, value: str) -> None:
        with self._lock:
            if value in self._tokens:
                self._tokens[value].revoked = True

    def revoke_all(self) -> None:
        with self._lock:
            for token in self._tokens.values():
                token.revoked = True


class RateLimiter:
    """Fixed 60-second windows per token on real (monotonic) time, like inin-ratelimit-* report."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[float, int]] = {}

    def hit(self, key: str, limit: int) -> tuple[bool, int, int]:
        """Count a request: (allowed, count in window, whole seconds until the window resets)."""
        now = time.monotonic()
        with self._lock:
            start, count = self._windows.get(key, (now, 0))
            if now - start >= RATE_WINDOW_S:
                start, count = now, 0
            count += 1
            self._windows[key] = (start, count)
        reset = max(1, math.ceil(RATE_WINDOW_S - (now - start)))
        return (limit <= 0 or count <= limit), count, reset


def pick_fault(faults: Faults, request_number: int) -> str | None:
    """The fault for this API request: the schedule first, then a seeded random draw.

    The random draw is a hash of (random_seed, request number), so a run with the same seed
    and the same request order meets the same faults.
    """
    kind = faults.schedule.get(request_number)
    if kind is None and faults.random_rate > 0 and faults.random_kinds:
        h = np.array([(faults.random_seed << 32) ^ request_number], dtype=np.uint64)
        value = int(mix64(mix64(h))[0])
        if (value >> 11) / float(1 << 53) < faults.random_rate:
            kind = faults.random_kinds[(value & 0xFFFF) % len(faults.random_kinds)]
    if kind is not None and kind not in FAULT_KINDS:
        raise ValueError(f"Unknown fault kind {kind!r}; use one of {', '.join(FAULT_KINDS)}")
    return kind
