"""Buffered counters: increments land in fast storage and are flushed to the database in batches.

Besides counts, the buffer collects distinct readers (per article per day). How they are counted
depends on the engine: the memory buffer hands the reader digests to the flush, which stores them in
a small per-day table and counts there; Redis counts them itself in a HyperLogLog per article-day
(about 0.8 % error, 12 KB at most per key) and hands the flush only the counts.
"""

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import date

# A buffered increment is addressed by (metric, article id, hour bucket as epoch seconds).
Key = tuple[str, int, int]
# A reader of an article on a (local) day: (article id, day, salted digest of the reader).
ReaderKey = tuple[int, date, str]
DayKey = tuple[int, date]


@dataclass
class Readers:
    """Readers taken out of a buffer: digests still to be stored and counted in the database, and/or
    distinct counts the buffer already knows (each the day's total so far, not an increment)."""

    members: set[ReaderKey] = field(default_factory=set)
    counts: dict[DayKey, int] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.members or self.counts)


class CounterBackend(ABC):
    @abstractmethod
    def incr(self, metric: str, article_id: int, hour: int, amount: int = 1) -> None:
        """Add to a buffered counter; must be cheap and never touch the database."""

    @abstractmethod
    def drain(self) -> dict[Key, int]:
        """Take every buffered increment out atomically (what is taken is no longer buffered)."""

    @abstractmethod
    def restore(self, counts: dict[Key, int]) -> None:
        """Put increments back after a failed flush, so nothing is lost."""

    @abstractmethod
    def add_reader(self, article_id: int, day: date, reader: str) -> None:
        """Note that `reader` read the article on `day` (idempotent within the day)."""

    @abstractmethod
    def drain_readers(self) -> Readers:
        """Take out what the flush must write about readers since the last drain."""

    @abstractmethod
    def restore_readers(self, readers: Readers) -> None:
        """Put readers back (after a failed flush, or digests another buffer collected)."""

    def push(self, counts: dict[Key, int], readers: Readers) -> None:
        """Add increments and reader digests gathered elsewhere (a process's batch), at once."""
        self.restore(counts)
        self.restore_readers(readers)
