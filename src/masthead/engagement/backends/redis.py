"""Shared buffer in a Redis hash: every app server increments the same counters atomically."""

import uuid

import redis
from django.conf import settings

from masthead.engagement.backends.base import CounterBackend, Key

HASH = "masthead:counters"


class RedisCounters(CounterBackend):
    def __init__(self, url: str | None = None) -> None:
        self.client = redis.Redis.from_url(url or settings.REDIS_URL, socket_timeout=2)

    def incr(self, metric: str, article_id: int, hour: int, amount: int = 1) -> None:
        self.client.hincrby(HASH, f"{metric}:{article_id}:{hour}", amount)

    def drain(self) -> dict[Key, int]:
        # RENAME is atomic: increments after it go to a fresh hash and wait for the next flush.
        taken = f"{HASH}:flush:{uuid.uuid4().hex}"
        try:
            self.client.rename(HASH, taken)
        except redis.ResponseError:  # nothing buffered
            return {}
        raw = self.client.hgetall(taken)
        self.client.delete(taken)
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
