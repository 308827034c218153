"""Sessions kept in the database and read through the cache (Redis), which may fail.

SESSION_ENGINE = "masthead.ops.sessions" (set when REDIS_URL is). The database is the source of
truth; the cache only saves the session query on most requests. Django's own cached_db engine lets
a cache failure escape in several places (refilling after a miss, the key check at login, the
delete at logout), so a Redis outage would answer 500 to every signed-in reader. Here every cache
call is guarded: reads fall back to the database, writes go to the database alone, and after a
failure the process leaves the cache alone for CACHE_RETRY_SECONDS (one failed call, not one per
request).

A cache entry written or deleted while the cache was failing may now be older than the database (a
logout during the outage would otherwise be undone when Redis comes back with its data). Those keys
are deleted from the cache before this process uses it again; entries also live at most
MASTHEAD_SESSION_CACHE_SECONDS, which bounds what a process that died meanwhile could not clean up.
"""

import itertools
import logging
import time
from collections.abc import Callable

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.sessions.backends.cached_db import SessionStore as CachedDBStore
from django.contrib.sessions.backends.db import SessionStore as DBStore
from django.core.cache import BaseCache
from django.core.signals import setting_changed
from django.dispatch import receiver

log = logging.getLogger(__name__)

CACHE_RETRY_SECONDS = 5.0
MAX_STALE_KEYS = 100_000  # ~10 MB of keys; beyond, MASTHEAD_SESSION_CACHE_SECONDS bounds staleness
CLEANUP_BATCH = 1000
_cache_down_until = 0.0  # monotonic time until which this process reads and writes the database only
_stale: set[str] = set()  # cache keys changed in the database only: their entry may be older


@receiver(setting_changed)
def _reset_cache_state(*, setting: str, **kwargs) -> None:
    global _cache_down_until
    if setting == "CACHES":
        _cache_down_until = 0.0
        _stale.clear()


def _failed(what: str) -> None:
    global _cache_down_until
    _cache_down_until = time.monotonic() + CACHE_RETRY_SECONDS
    log.warning("%s; sessions use the database alone for %ss", what, CACHE_RETRY_SECONDS, exc_info=True)


def _usable(cache: BaseCache) -> bool:
    """Whether to use the cache now: not failing, and nothing written while it failed is left in it."""
    if time.monotonic() < _cache_down_until:
        return False
    while _stale:  # in batches, so a long outage's backlog cannot outlast the socket timeout
        keys = list(itertools.islice(_stale, CLEANUP_BATCH))
        try:
            cache.delete_many(keys)
        except Exception:
            _failed("session cache still unavailable")
            return False
        _stale.difference_update(keys)
    return True


class SessionStore(CachedDBStore):
    def _cache_age(self, **kwargs) -> int:
        return min(self.get_expiry_age(**kwargs), settings.MASTHEAD_SESSION_CACHE_SECONDS)

    def _write(self, key: str, call: Callable[[], object]) -> None:
        """Write a change through to the cache; if that fails or is skipped, the entry is stale until deleted."""
        if _usable(self._cache):
            try:
                call()
                return
            except Exception:
                _failed("session cache write failed")
        if len(_stale) < MAX_STALE_KEYS:
            _stale.add(key)
        else:
            log.error("too many session cache keys to clean up; stale entries expire on their own")

    def load(self) -> dict:
        key = self.cache_key
        usable = _usable(self._cache)
        if usable:
            try:
                data = self._cache.get(key)
            except Exception:
                _failed("session cache read failed")
                usable = False
            else:
                if data is not None:
                    return data
        row = self._get_session_from_db()
        if not row:
            return {}
        data = self.decode(row.session_data)
        if usable:
            # A refill carries what the database holds: when it fails nothing in the cache became stale.
            try:
                self._cache.set(key, data, self._cache_age(expiry=row.expire_date))
            except Exception:
                _failed("session cache write failed")
        return data

    def exists(self, session_key: str) -> bool:
        # The database alone decides (a cached entry without its row is a stale one); this runs when a
        # new key is drawn at login, which must work while the cache is down.
        return DBStore.exists(self, session_key)

    def save(self, must_create: bool = False) -> None:
        if self.session_key is None:
            return self.create()  # draws a key, then saves through here (once)
        DBStore.save(self, must_create)  # a database failure must fail the request: nothing was kept
        key = self.cache_key
        self._write(key, lambda: self._cache.set(key, self._session, self._cache_age()))

    def delete(self, session_key: str | None = None) -> None:
        DBStore.delete(self, session_key)
        session_key = session_key or self.session_key
        if session_key is None:
            return
        key = self.cache_key_prefix + session_key
        self._write(key, lambda: self._cache.delete(key))

    # The site runs under WSGI; async callers get the same guarded code in a thread.
    async def aload(self) -> dict:
        return await sync_to_async(self.load)()

    async def aexists(self, session_key: str) -> bool:
        return await sync_to_async(self.exists)(session_key)

    async def asave(self, must_create: bool = False) -> None:
        await sync_to_async(self.save)(must_create)

    async def adelete(self, session_key: str | None = None) -> None:
        await sync_to_async(self.delete)(session_key)
