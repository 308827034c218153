"""Views and shares: counted on every read (cached pages included), written to the database in batches.

`record()` only touches the buffer; `flush()` moves buffered increments into Article counters and
hourly stats with one UPDATE per article and metric. Flushing happens at most every
MASTHEAD_COUNTER_FLUSH_SECONDS from the request path, and on demand (`masthead flushcounters`).
"""

import logging
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime
from functools import cache

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.module_loading import import_string

from masthead.engagement.backends.base import CounterBackend, Key

log = logging.getLogger(__name__)

BACKENDS = {
    "memory": "masthead.engagement.backends.memory.MemoryCounters",
    "redis": "masthead.engagement.backends.redis.RedisCounters",
}
METRIC_FIELDS = {"views": ("view_count", "views"), "shares": ("share_count", "shares")}
_fallback = None
_flush_lock = threading.Lock()
_last_flush = time.monotonic()


@cache
def backend() -> CounterBackend:
    return import_string(BACKENDS[settings.MASTHEAD_COUNTERS])()


def _memory_fallback() -> CounterBackend:
    global _fallback
    if _fallback is None:
        _fallback = import_string(BACKENDS["memory"])()
    return _fallback


def current_hour() -> int:
    return int(time.time()) // 3600 * 3600


def record(metric: str, article_id: int, amount: int = 1) -> None:
    """Count a view or share; never fails the request (a buffer that is down falls back to memory)."""
    if metric not in METRIC_FIELDS:
        raise ValueError(f"unknown metric {metric!r}")
    try:
        backend().incr(metric, int(article_id), current_hour(), amount)
    except Exception:
        log.warning("counter backend unavailable; buffering %s in memory", metric, exc_info=True)
        _memory_fallback().incr(metric, int(article_id), current_hour(), amount)
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


def _write(counts: dict[Key, int]) -> None:
    from masthead.articles.models import Article
    from masthead.engagement.models import ArticleStatHour

    totals: dict[tuple[str, int], int] = defaultdict(int)
    for (metric, article_id, _hour), amount in counts.items():
        totals[(metric, article_id)] += amount
    with transaction.atomic():
        for (metric, article_id), amount in totals.items():
            field = METRIC_FIELDS[metric][0]
            Article.objects.filter(pk=article_id).update(**{field: F(field) + amount})
        existing_ids = set(Article.objects.filter(pk__in={k[1] for k in counts}).values_list("pk", flat=True))
        for (metric, article_id, hour), amount in counts.items():
            if article_id not in existing_ids:
                continue
            field = METRIC_FIELDS[metric][1]
            at = datetime.fromtimestamp(hour, UTC)
            updated = ArticleStatHour.objects.filter(article_id=article_id, hour=at).update(
                **{field: F(field) + amount}
            )
            if not updated:
                try:
                    with transaction.atomic():
                        ArticleStatHour.objects.create(article_id=article_id, hour=at, **{field: amount})
                except IntegrityError:  # another process created the row first
                    ArticleStatHour.objects.filter(article_id=article_id, hour=at).update(**{field: F(field) + amount})


def flush() -> int:
    """Write buffered increments to the database; returns how many increments were written."""
    counts: dict[Key, int] = {}
    sources = [backend()] + ([_fallback] if _fallback is not None else [])
    for source in sources:
        try:
            for key, amount in source.drain().items():
                counts[key] = counts.get(key, 0) + amount
        except Exception:
            log.warning("could not drain counters from %s", type(source).__name__, exc_info=True)
    if not counts:
        return 0
    try:
        _write(counts)
    except Exception:
        _memory_fallback().restore(counts)
        raise
    return sum(counts.values())


def flush_quietly() -> None:
    """Flush at process exit so a worker's memory buffer is not lost."""
    try:
        flush()
    except Exception:
        log.warning("final counter flush failed", exc_info=True)
