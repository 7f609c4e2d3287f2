"""Detection workers handed out oldest work first.

A worker slot goes to the waiting text whose work started earliest (an inference's
BeginInference time for its output and final scans, the call's own time otherwise), not
to whichever asked first. An inference already under way finishes before new ones take
the workers: under load its latency stays near the mean instead of queueing behind each
new request at every step, and its raw text is held for less time.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time

__all__ = ["PrioritySlots"]

# How often a waiter looks at its `cancelled` event.
_POLL_SECONDS = 0.05


class PrioritySlots:
    """`count` slots; `acquire` takes one, lowest `since` first (ties: first come)."""

    def __init__(self, count: int) -> None:
        if count < 1:
            raise ValueError("count must be at least 1")
        self._count = count
        self._free = count
        self._waiting: list[tuple[float, int]] = []
        self._arrivals = itertools.count()
        self._changed = threading.Condition()

    def acquire(self, since: float, cancelled: threading.Event) -> bool:
        """Wait for a slot; False (and no slot) once `cancelled` is set."""
        with self._changed:
            entry = (since, next(self._arrivals))
            heapq.heappush(self._waiting, entry)
            try:
                while not (self._free and self._waiting[0] == entry):
                    if cancelled.is_set():
                        return False
                    self._changed.wait(_POLL_SECONDS)
                heapq.heappop(self._waiting)
                self._free -= 1
                if self._free and self._waiting:
                    self._changed.notify_all()  # the next in line may take another one
                return True
            finally:
                if entry in self._waiting:  # gave up: the next in line may go now
                    self._waiting.remove(entry)
                    heapq.heapify(self._waiting)
                    self._changed.notify_all()

    def try_acquire(self) -> bool:
        """Take a slot only if one is free and nobody is waiting for one; never waits."""
        with self._changed:
            if self._free and not self._waiting:
                self._free -= 1
                return True
            return False

    def release(self) -> None:
        with self._changed:
            if self._free == self._count:
                raise ValueError("released more often than acquired")
            self._free += 1
            self._changed.notify_all()

    @staticmethod
    def now() -> float:
        """The `since` of work that starts now."""
        return time.time()
