"""Buffered counters: increments land in fast storage and are flushed to the database in batches."""

from abc import ABC, abstractmethod

# A buffered increment is addressed by (metric, article id, hour bucket as epoch seconds).
Key = tuple[str, int, int]


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
