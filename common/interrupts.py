"""SIGINT and SIGTERM stop a command: the handler raises, and also remembers the signal.

Why remember it: when a signal arrives while DuckDB runs a query, DuckDB runs the Python handler, drops the
exception it raised and raises RuntimeError('Query interrupted') instead. Code that retries or wraps such
errors (dlt's load step retries a failed job) would then carry on as if nothing had happened: a SIGTERM was
lost that way and the load ran to the end with exit 0. So `handled_signals` turns any failure that follows a
signal into the interrupt, and long work checks `raise_if_interrupted()` where it moves on, to stop promptly.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from types import FrameType

_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_received = 0  # the first signal of the running command, 0 if none


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that every `finally` runs the same way; exit code 143."""


def exit_code(exc: KeyboardInterrupt) -> int:
    """130 for Ctrl-C, 143 for SIGTERM (128 + the signal number, as a shell reports them)."""
    return 143 if isinstance(exc, Terminated) else 130


def received() -> bool:
    """Whether SIGINT or SIGTERM arrived since `handled_signals` was entered."""
    return bool(_received)


def raise_if_interrupted() -> None:
    """Raise the interrupt again if a signal arrived, in case its first raise was swallowed."""
    if _received:
        raise _interrupt(_received)


def _interrupt(signum: int) -> KeyboardInterrupt:
    return Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()


@contextlib.contextmanager
def handled_signals(*, ignore_repeats: bool) -> Iterator[None]:
    """Route SIGINT and SIGTERM to the handler for the block (main thread only; elsewhere a no-op).

    After a signal, whatever the block raises is raised as the interrupt (it failed because of it, e.g.
    DuckDB's 'Query interrupted'), and a block that ends normally raises it at its end (its first raise was
    swallowed). `ignore_repeats`: once one arrived, further signals are ignored, so that a second Ctrl-C
    cannot break the cleanup of what was committed with a traceback."""
    global _received

    def on_signal(signum: int, frame: FrameType | None) -> None:
        global _received
        _received = _received or signum
        if ignore_repeats:
            for sig in _SIGNALS:
                signal.signal(sig, signal.SIG_IGN)
        raise _interrupt(signum)

    _received = 0
    try:
        previous = {sig: signal.signal(sig, on_signal) for sig in _SIGNALS}
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    except Exception as exc:
        if _received:
            raise _interrupt(_received) from exc
        raise
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    raise_if_interrupted()
