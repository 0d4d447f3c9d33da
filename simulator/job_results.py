"""An async job's result containers, rendered a page of groups at a time as its pages are asked for."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable

from simulator.data import group_key, order_pairs
from simulator.org import SimQueue

Pair = tuple[SimQueue, str]


class JobResults:
    """The non-empty result containers of a job, in the order one eager render of the job gives them.

    Rendering a 31-day job of 400 groups at once took ~3.5 s of the simulator's CPU on the submission,
    where the real service answers at once and computes on its own hardware. A group's container depends
    only on its own pairs, its buckets and the job's as-of instant, so rendering the groups a chunk at a
    time, when a page needs them, gives the same bytes (tests/simulator/test_sim_jobs.py compares them).
    """

    def __init__(
        self,
        pairs: list[Pair],
        group_by: tuple[str, ...],
        render: Callable[[list[Pair]], list[bytes]],
        chunk_groups: int,
    ) -> None:
        ordered = order_pairs(pairs, group_by)
        # the pairs of each group, in report order
        self._groups = [list(g) for _, g in itertools.groupby(ordered, key=lambda p: group_key(p, group_by))]
        self._render = render
        self._chunk = max(1, chunk_groups)
        self._next = 0  # first group not rendered yet
        self._containers: list[bytes] = []
        self._lock = threading.Lock()

    @property
    def rendered_groups(self) -> int:
        """How many groups have been rendered so far (for tests of the laziness)."""
        return self._next

    def first(self, count: int) -> list[bytes]:
        """The first `count` containers, or all of them when the job has fewer."""
        with self._lock:  # one render per chunk even when two requests for the job overlap
            while len(self._containers) < count and self._next < len(self._groups):
                chunk = self._groups[self._next : self._next + self._chunk]
                self._containers += self._render([pair for group in chunk for pair in group])
                self._next += len(chunk)
            return self._containers[:count]
