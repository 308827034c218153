"""Per-process buffer: right for the embedded default (each worker flushes its own increments)."""

import threading
from collections import Counter

from masthead.engagement.backends.base import CounterBackend, Key


class MemoryCounters(CounterBackend):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[Key] = Counter()

    def incr(self, metric: str, article_id: int, hour: int, amount: int = 1) -> None:
        with self._lock:
            self._counts[(metric, article_id, hour)] += amount

    def drain(self) -> dict[Key, int]:
        with self._lock:
            counts, self._counts = self._counts, Counter()
        return dict(counts)

    def restore(self, counts: dict[Key, int]) -> None:
        with self._lock:
            self._counts.update(counts)
