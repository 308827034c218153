"""Per-process buffer: right for the embedded default (each worker flushes its own increments)."""

import threading
from collections import Counter
from datetime import date

from masthead.engagement.backends.base import CounterBackend, Key, ReaderKey, Readers


class MemoryCounters(CounterBackend):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[Key] = Counter()
        self._readers: set[ReaderKey] = set()

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

    def add_reader(self, article_id: int, day: date, reader: str) -> None:
        with self._lock:
            self._readers.add((article_id, day, reader))

    def drain_readers(self) -> Readers:
        # Digests only: distinct counting happens in the database, across every worker's digests.
        with self._lock:
            members, self._readers = self._readers, set()
        return Readers(members=members)

    def restore_readers(self, readers: Readers) -> None:
        # Counts cannot be merged into digests; a memory buffer only ever hands out members.
        with self._lock:
            self._readers |= readers.members
