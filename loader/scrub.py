"""Secret scrubbing: a registry of the run's secrets (client secret, Basic credentials, every token issued)
and `scrub(text)`, applied to every error message and log line before it can reach stderr, logs, dlt state
or the dlt trace."""

from __future__ import annotations

import base64
import logging
import re
import threading
from urllib.parse import quote, quote_plus

MASK = "***"
# Shorter values would mask ordinary words; no real secret or token is this short.
MIN_LENGTH = 6

_lock = threading.Lock()
_secrets: set[str] = set()
_pattern: re.Pattern[str] | None = None


def register(*values: str | None) -> None:
    """Remember values that must never be shown (each also URL-encoded, as a form or query would carry it)."""
    global _pattern
    added = False
    with _lock:
        for value in values:
            if not value or len(value) < MIN_LENGTH:
                continue
            for form in {value, quote(value, safe=""), quote_plus(value)}:
                if form not in _secrets:
                    _secrets.add(form)
                    added = True
        if added:
            # Longest first, so a secret inside a longer registered value never leaves a part of it behind.
            ordered = sorted(_secrets, key=len, reverse=True)
            _pattern = re.compile("|".join(re.escape(value) for value in ordered))


def register_client(client_id: str | None, client_secret: str | None) -> None:
    """The client secret and the HTTP Basic credentials built from the pair (base64 of id:secret)."""
    if not client_secret:
        return
    pair = f"{client_id or ''}:{client_secret}".encode()
    register(client_secret, base64.b64encode(pair).decode("ascii"), base64.urlsafe_b64encode(pair).decode())


def scrub(text: object) -> str:
    """`text` with every registered secret replaced by ***."""
    value = str(text)
    pattern = _pattern
    return pattern.sub(MASK, value) if pattern is not None else value


def forget() -> None:
    """Empty the registry (tests)."""
    global _pattern
    with _lock:
        _secrets.clear()
        _pattern = None


class ScrubFilter(logging.Filter):
    """A logging filter that renders each record's message and scrubs it (and its exception text)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _pattern is None:
            return True
        record.msg = scrub(record.getMessage())
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            # Format the traceback now, scrubbed; the handler then prints exc_text as it is.
            record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True
