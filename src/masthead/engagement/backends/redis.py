"""Shared buffer in Redis: counters in one hash, distinct readers in one HyperLogLog per article-day."""

from datetime import date

import redis
from django.conf import settings

from masthead.engagement.backends.base import CounterBackend, DayKey, Key, Readers

HASH = "masthead:counters"
READERS = "masthead:readers:{article_id}:{day}"  # PFADD reader digests
DIRTY = "masthead:readers:dirty"  # set of "article_id:day" whose count changed since the last drain
# Kept past the end of the day so late reads and a flush after midnight still count against the same set.
READERS_TTL = 3 * 24 * 3600


def _readers_key(article_id: int, day: date) -> str:
    return READERS.format(article_id=article_id, day=day.isoformat())


class RedisCounters(CounterBackend):
    def __init__(self, url: str | None = None) -> None:
        # Short timeouts: a Redis that hangs must cost a reader a fraction of a second, not a page.
        self.client = redis.Redis.from_url(url or settings.REDIS_URL, socket_timeout=0.5, socket_connect_timeout=0.5)

    def incr(self, metric: str, article_id: int, hour: int, amount: int = 1) -> None:
        self.client.hincrby(HASH, f"{metric}:{article_id}:{hour}", amount)

    def drain(self) -> dict[Key, int]:
        # HGETALL and DEL in one MULTI/EXEC: no increment can land between them, and nothing is left
        # behind under another name if this process dies half-way.
        pipe = self.client.pipeline(transaction=True)
        pipe.hgetall(HASH)
        pipe.delete(HASH)
        raw, _ = pipe.execute()
        counts: dict[Key, int] = {}
        for field, value in raw.items():
            metric, article_id, hour = field.decode().split(":")
            counts[(metric, int(article_id), int(hour))] = int(value)
        return counts

    def restore(self, counts: dict[Key, int]) -> None:
        self.push(counts, Readers())

    def push(self, counts: dict[Key, int], readers: Readers) -> None:
        # One round trip for a whole batch of reads.
        pipe = self.client.pipeline(transaction=False)
        for (metric, article_id, hour), amount in counts.items():
            pipe.hincrby(HASH, f"{metric}:{article_id}:{hour}", amount)
        self._add(pipe, readers.members)
        for article_id, day in readers.counts:
            pipe.sadd(DIRTY, f"{article_id}:{day.isoformat()}")  # recounted by the next flush
        pipe.execute()

    def add_reader(self, article_id: int, day: date, reader: str) -> None:
        self._add(self.client.pipeline(transaction=False), [(article_id, day, reader)]).execute()

    @staticmethod
    def _add(pipe, members):
        by_key: dict[tuple[int, date], list[str]] = {}
        for article_id, day, reader in members:
            by_key.setdefault((article_id, day), []).append(reader)
        for (article_id, day), digests in by_key.items():
            key = _readers_key(article_id, day)
            pipe.pfadd(key, *digests)
            pipe.expire(key, READERS_TTL)
            pipe.sadd(DIRTY, f"{article_id}:{day.isoformat()}")
        return pipe

    def drain_readers(self) -> Readers:
        # The dirty set is taken atomically; the HyperLogLogs stay (they are the day's running sets).
        pipe = self.client.pipeline(transaction=True)
        pipe.smembers(DIRTY)
        pipe.delete(DIRTY)
        raw, _ = pipe.execute()
        pairs: list[DayKey] = []
        for member in raw:
            article_id, day = member.decode().split(":")
            pairs.append((int(article_id), date.fromisoformat(day)))
        if not pairs:
            return Readers()
        pipe = self.client.pipeline(transaction=False)
        for article_id, day in pairs:
            pipe.pfcount(_readers_key(article_id, day))
        return Readers(counts=dict(zip(pairs, pipe.execute(), strict=True)))

    def restore_readers(self, readers: Readers) -> None:
        self.push({}, readers)
