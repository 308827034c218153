"""Knowing the page cache's `pc:purged` without asking Redis on every request.

Every cached page served must first learn that no purge happened since its tags were checked, which
is one read of `pc:purged`. With Redis that read is a round trip, the largest part of a hit. Instead,
each process subscribes to a channel on which every purge announces itself, and only then reads the
key: from that moment any later purge reaches this process as a message. A request drains the
subscription without waiting (one poll of a socket) and uses the value it holds unless a message
came. A purge is therefore seen by every process as soon as its message has arrived, which on one
network is before the purging request has even answered.

Whatever goes wrong falls back to reading the key: a broken subscription (Redis restarted, the
connection killed) raises at the next poll and is dropped; the value is re-read at least every
TRUST_SECONDS, which bounds what a silently lost connection or a flushed Redis could hide.
"""

import logging
import os
import threading
import time
from collections.abc import Callable

import redis
from django.conf import settings
from django.core.cache import cache
from django.core.signals import setting_changed
from django.dispatch import receiver
from redis.backoff import NoBackoff
from redis.retry import Retry

log = logging.getLogger(__name__)

TRUST_SECONDS = 2.0  # the longest a value is used without reading the key again
RETRY_SECONDS = 5.0  # after a failed subscription, read the key on every request this long
UNKNOWN = object()


class PurgeWatch:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pubsub: redis.client.PubSub | None = None
        self._pid = 0
        self._value: object = UNKNOWN
        self._read_at = 0.0
        self._retry_at = 0.0
        self._publisher: tuple[tuple[int, str], redis.Redis] | None = None

    @staticmethod
    def _location() -> str | None:
        """The Redis URL of the default cache, or None when it is not Redis (files: nothing to watch)."""
        config = settings.CACHES["default"]
        if not config["BACKEND"].endswith(".RedisCache"):
            return None
        location = config["LOCATION"]
        return location[0] if isinstance(location, list | tuple) else location.split(",")[0]

    @staticmethod
    def channel(key: str) -> str:
        # The cache's own key (prefix and version) names the channel: sites sharing a server stay apart.
        return f"{cache.make_key(key)}:{PurgeWatch._location()}"

    def current(self, key: str, read: Callable[[], object]) -> object:
        """The value of cache key `key` (announced on its channel by `announce`); `read()` reads it."""
        if self._location() is None:
            return read()
        with self._lock:
            now = time.monotonic()
            if not self._watching(key, now):
                return read()
            if self._value is UNKNOWN or now - self._read_at > TRUST_SECONDS:
                value = read()
                # A missing key is not remembered: the next request reads it again.
                self._value, self._read_at = (UNKNOWN if value is None else value), now
                return value
            return self._value

    def _watching(self, key: str, now: float) -> bool:
        """Subscribe if need be and take in the announcements; False when the watch cannot vouch."""
        try:
            if self._pid != os.getpid():  # a forked worker must not share its parent's socket
                self._drop()
            if self._pubsub is None:
                if now < self._retry_at:
                    return False
                self._subscribe(key)
            while self._pubsub.get_message(timeout=0) is not None:
                self._value = UNKNOWN  # a purge was announced (the new value is read below)
            return True
        except Exception:
            self._drop()
            self._retry_at = now + RETRY_SECONDS
            log.warning("page cache purge watch lost; reading %s on every request for now", key, exc_info=True)
            return False

    def forget(self) -> None:
        """The key was seen holding something else: read it again at the next request."""
        self._value = UNKNOWN

    def announce(self, key: str, value: object) -> None:
        """Tell every watching process that `key` changed (raises if Redis does not take it)."""
        location = self._location()
        if location is None:
            return
        self._value = UNKNOWN
        if self._publisher is None or self._publisher[0] != (os.getpid(), location):
            client = redis.Redis.from_url(location, socket_timeout=0.5, socket_connect_timeout=0.5)
            self._publisher = ((os.getpid(), location), client)
        self._publisher[1].publish(self.channel(key), str(value))

    def _subscribe(self, key: str) -> None:
        # No retries: a reconnect would resubscribe silently and hide the purges announced meanwhile.
        client = redis.Redis.from_url(
            self._location(), socket_timeout=0.5, socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0)
        )
        pubsub = client.pubsub()
        pubsub.subscribe(self.channel(key))
        # Only once Redis confirms is every later announcement sure to arrive; then the key is read.
        confirmed = pubsub.get_message(timeout=0.5)
        if confirmed is None or confirmed["type"] != "subscribe":
            pubsub.close()
            raise redis.ConnectionError("no subscription confirmed")
        self._pubsub, self._pid, self._value = pubsub, os.getpid(), UNKNOWN

    def _drop(self) -> None:
        pubsub, self._pubsub, self._value = self._pubsub, None, UNKNOWN
        if pubsub is not None and self._pid == os.getpid():
            try:
                pubsub.close()
            except Exception:
                log.debug("closing a broken subscription failed", exc_info=True)

    def reset(self) -> None:
        with self._lock:
            self._drop()
            self._retry_at = 0.0
            self._publisher = None


watch = PurgeWatch()


@receiver(setting_changed)
def _reset(*, setting: str, **kwargs) -> None:
    if setting == "CACHES":
        watch.reset()
