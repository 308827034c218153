"""Views and shares: counted on every read (cached pages included), written to the database in batches.

`record()` only touches the buffer; `flush()` moves buffered increments into Article counters (one
UPDATE per article) and hourly stats (one upsert per batch of rows). Flushing happens at most every
MASTHEAD_COUNTER_FLUSH_SECONDS from the request path, at process exit, and on demand
(`masthead flushcounters`). If the configured buffer (Redis) fails, increments go to this process's
memory for RETRY_SECONDS and are flushed from there: a Redis that is down costs no page and no count.
"""

import logging
import threading
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from functools import cache

from django.conf import settings
from django.core.signals import setting_changed
from django.db import connection, transaction
from django.db.models import F
from django.dispatch import receiver
from django.utils.module_loading import import_string

from masthead.engagement.backends.base import CounterBackend, Key
from masthead.engagement.backends.memory import MemoryCounters

log = logging.getLogger(__name__)

BACKENDS = {
    "memory": "masthead.engagement.backends.memory.MemoryCounters",
    "redis": "masthead.engagement.backends.redis.RedisCounters",
}
# metric -> (Article field, ArticleStatHour field)
METRIC_FIELDS = {"views": ("view_count", "views"), "shares": ("share_count", "shares")}
RETRY_SECONDS = 5.0  # after a failure, skip the configured buffer this long instead of failing every read
UPSERT_BATCH = 500

_fallback = MemoryCounters()
_down_until = 0.0
_flush_lock = threading.Lock()
_last_flush = time.monotonic()


@cache
def backend() -> CounterBackend:
    return import_string(BACKENDS[settings.MASTHEAD_COUNTERS])()


@receiver(setting_changed)
def _reset_backend(*, setting: str, **kwargs) -> None:
    global _down_until
    if setting in ("MASTHEAD_COUNTERS", "REDIS_URL"):
        backend.cache_clear()
        _down_until = 0.0


def current_hour() -> int:
    return int(time.time()) // 3600 * 3600


def record(metric: str, article_id: int, amount: int = 1) -> None:
    """Count a view or share; never fails the request (a buffer that is down falls back to memory)."""
    global _down_until
    if metric not in METRIC_FIELDS:
        raise ValueError(f"unknown metric {metric!r}")
    key = (metric, int(article_id), current_hour())
    if time.monotonic() >= _down_until:
        try:
            backend().incr(*key, amount)
        except Exception:
            _down_until = time.monotonic() + RETRY_SECONDS
            log.warning("counter backend unavailable; buffering in memory for %ss", RETRY_SECONDS, exc_info=True)
        else:
            maybe_flush()
            return
    _fallback.incr(*key, amount)
    maybe_flush()


def maybe_flush() -> None:
    global _last_flush
    if time.monotonic() - _last_flush < settings.MASTHEAD_COUNTER_FLUSH_SECONDS:
        return
    if _flush_lock.acquire(blocking=False):
        try:
            _last_flush = time.monotonic()
            flush()
        except Exception:
            log.exception("counter flush failed")
        finally:
            _flush_lock.release()


def _upsert_hours(rows: list[tuple[int, datetime, int, int]]) -> None:
    """Add to hourly stats in one statement per batch; ON CONFLICT … DO UPDATE is the same on SQLite and
    PostgreSQL, and adding (not overwriting) keeps concurrent flushes from different servers right."""
    from masthead.engagement.models import ArticleStatHour

    meta, q = ArticleStatHour._meta, connection.ops.quote_name
    table = q(meta.db_table)
    article, hour, views, shares = (q(meta.get_field(f).column) for f in ("article", "hour", "views", "shares"))
    with connection.cursor() as cursor:
        for start in range(0, len(rows), UPSERT_BATCH):
            batch = rows[start : start + UPSERT_BATCH]
            values = ", ".join(["(%s, %s, %s, %s)"] * len(batch))
            params = [p for aid, at, v, s in batch for p in (aid, connection.ops.adapt_datetimefield_value(at), v, s)]
            cursor.execute(
                f"INSERT INTO {table} ({article}, {hour}, {views}, {shares}) VALUES {values} "
                f"ON CONFLICT ({article}, {hour}) DO UPDATE SET "
                f"{views} = {table}.{views} + excluded.{views}, {shares} = {table}.{shares} + excluded.{shares}",
                params,
            )


def _write(counts: dict[Key, int]) -> int:
    from masthead.articles.models import Article

    per_article: dict[int, Counter[str]] = defaultdict(Counter)
    per_hour: dict[tuple[int, int], Counter[str]] = defaultdict(Counter)
    for (metric, article_id, hour), amount in counts.items():
        article_field, stat_field = METRIC_FIELDS[metric]
        per_article[article_id][article_field] += amount
        per_hour[(article_id, hour)][stat_field] += amount
    with transaction.atomic():
        # Increments for deleted articles are dropped (their hourly rows would break the foreign key).
        existing = set(Article.objects.filter(pk__in=list(per_article)).values_list("pk", flat=True))
        # Sorted: servers flushing at once lock rows in the same order and cannot deadlock.
        for article_id in sorted(existing):
            fields = per_article[article_id]
            Article.objects.filter(pk=article_id).update(**{f: F(f) + n for f, n in fields.items()})
        rows = [
            (article_id, datetime.fromtimestamp(hour, UTC), amounts["views"], amounts["shares"])
            for (article_id, hour), amounts in sorted(per_hour.items())
            if article_id in existing
        ]
        if rows:
            _upsert_hours(rows)
    return sum(per_article[article_id].total() for article_id in existing)


def flush() -> int:
    """Write buffered increments to the database; returns how many were written (those of deleted
    articles are dropped)."""
    counts: Counter[Key] = Counter(_fallback.drain())
    try:
        counts.update(backend().drain())
    except Exception:  # left in the buffer; the next flush takes it
        log.warning("could not drain the %s counter buffer", settings.MASTHEAD_COUNTERS, exc_info=True)
    if not counts:
        return 0
    try:
        return _write(counts)
    except Exception:
        _fallback.restore(counts)  # kept in memory, retried by the next flush
        raise


def flush_quietly() -> None:
    """Flush at process exit so a worker's memory buffer is not lost."""
    try:
        flush()
    except Exception:
        log.warning("final counter flush failed", exc_info=True)
