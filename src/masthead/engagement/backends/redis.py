"""Shared buffer in a Redis hash: every app server increments the same counters atomically."""

import redis
from django.conf import settings

from masthead.engagement.backends.base import CounterBackend, Key

HASH = "masthead:counters"


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
        pipe = self.client.pipeline()
        for (metric, article_id, hour), amount in counts.items():
            pipe.hincrby(HASH, f"{metric}:{article_id}:{hour}", amount)
        pipe.execute()
