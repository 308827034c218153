"""Views, shares, read completion and distinct readers: counted on every read (cached pages
included), written to the database in batches.

`record()` / `record_reader()` only touch the buffer; `flush()` moves buffered increments into
Article counters (one UPDATE per article), hourly stats (the hot list) and daily stats (creators'
statistics), one upsert per batch of rows. Flushing happens at most every
MASTHEAD_COUNTER_FLUSH_SECONDS from the request path, at process exit, and on demand
(`masthead flushcounters`). If the configured buffer (Redis) fails, increments go to this process's
memory for RETRY_SECONDS and are flushed from there: a Redis that is down costs no page and no count.

With a shared buffer (Redis) a read does not wait for it either: increments gather in this process
for MASTHEAD_COUNTER_PUSH_SECONDS and a timer thread sends them in one pipeline, so a burst of
cached hits costs one round trip a second, not two per hit. A process killed outright (kill -9)
loses at most that second of counts; a normal exit flushes them.
"""

import logging
import os
import threading
import time
from collections import Counter, defaultdict
from datetime import UTC, date, datetime
from functools import cache

from django.conf import settings
from django.core.signals import setting_changed
from django.db import transaction
from django.db.models import F
from django.dispatch import receiver
from django.utils import timezone
from django.utils.module_loading import import_string

from masthead.engagement import daily
from masthead.engagement.backends.base import CounterBackend, Key, Readers
from masthead.engagement.backends.memory import MemoryCounters

log = logging.getLogger(__name__)

BACKENDS = {
    "memory": "masthead.engagement.backends.memory.MemoryCounters",
    "redis": "masthead.engagement.backends.redis.RedisCounters",
}
# metric -> (Article field, ArticleStatHour field, ArticleStatDay field); None where it is not kept.
METRICS = {
    "views": ("view_count", "views", "views"),
    "shares": ("share_count", "shares", "shares"),
    "depth": (None, None, "depth_sum"),  # reported read depths (0–100), summed
    "depth_reports": (None, None, "depth_count"),  # how many reports the sum is over
}
EVENTS = ("views", "shares", "depth_reports")  # what flush() counts as "increments written"
RETRY_SECONDS = 5.0  # after a failure, skip the configured buffer this long instead of failing every read

_fallback = MemoryCounters()
_pending = MemoryCounters()  # gathered for the next push to a shared buffer
_push_timer: threading.Timer | None = None
_push_lock = threading.Lock()
_down_until = 0.0
_flush_lock = threading.Lock()
_last_flush = time.monotonic()
_purged_on: date | None = None


@cache
def backend() -> CounterBackend:
    return import_string(BACKENDS[settings.MASTHEAD_COUNTERS])()


@receiver(setting_changed)
def _reset_backend(*, setting: str, **kwargs) -> None:
    global _down_until
    if setting in ("MASTHEAD_COUNTERS", "REDIS_URL"):
        backend.cache_clear()
        _down_until = 0.0


def current_hour(at: datetime | None = None) -> int:
    seconds = at.timestamp() if at is not None else time.time()
    return int(seconds) // 3600 * 3600


def local_day(at: datetime | None = None) -> date:
    """The day (in the site's time zone, Asia/Shanghai) statistics file a moment under."""
    return timezone.localdate(at or timezone.now())


def _buffered(method: str, *args) -> None:
    """Note an increment for the configured buffer, or in this process's memory while it is failing;
    never raises."""
    global _down_until
    target: CounterBackend = _fallback
    if time.monotonic() >= _down_until:
        try:
            target = backend()
        except Exception:  # e.g. a malformed REDIS_URL: counted in memory, as while Redis is down
            _down_until = time.monotonic() + RETRY_SECONDS
            log.warning("counter backend unavailable; buffering in memory for %ss", RETRY_SECONDS, exc_info=True)
            target = _fallback
        if not isinstance(target, MemoryCounters):
            target = _pending  # a shared buffer gets it with the next push
    getattr(target, method)(*args)
    if target is _pending:
        _schedule_push()
    maybe_flush()


def _schedule_push() -> None:
    global _push_timer
    delay = settings.MASTHEAD_COUNTER_PUSH_SECONDS
    if delay <= 0:
        push()
        return
    with _push_lock:
        # A timer of the parent process does not survive a fork: the pid tells a worker it has none.
        if _push_timer is None or _push_timer.pid != os.getpid() or not _push_timer.is_alive():
            _push_timer = threading.Timer(delay, push)
            _push_timer.pid = os.getpid()
            _push_timer.daemon = True
            _push_timer.start()


def push() -> None:
    """Send what this process gathered to the shared buffer in one round trip (kept in memory for the
    next flush if it fails); never raises."""
    global _down_until
    counts, readers = _pending.drain(), _pending.drain_readers()
    if not counts and not readers:
        return
    try:
        backend().push(counts, readers)
    except Exception:
        _down_until = time.monotonic() + RETRY_SECONDS
        log.warning("counter backend unavailable; buffering in memory for %ss", RETRY_SECONDS, exc_info=True)
        _fallback.restore(counts)
        _fallback.restore_readers(readers)


def record(metric: str, article_id: int, amount: int = 1, at: datetime | None = None) -> None:
    """Count a view, share or read-depth report; never fails the request."""
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}")
    _buffered("incr", metric, int(article_id), current_hour(at), amount)


def record_completion(article_id: int, depth: int, at: datetime | None = None) -> None:
    """One reader got `depth` per cent of the way through the article (0–100)."""
    if not 0 <= depth <= 100:
        raise ValueError("depth is a percentage")
    record("depth", article_id, depth, at)
    record("depth_reports", article_id, 1, at)


def record_reader(article_id: int, reader: str, at: datetime | None = None) -> None:
    """Note a (salted, daily) reader digest for the article's distinct readers of the day."""
    _buffered("add_reader", int(article_id), local_day(at), reader)


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


def _write(counts: dict[Key, int], readers: Readers) -> int:
    from masthead.articles.models import Article

    per_article: dict[int, Counter[str]] = defaultdict(Counter)
    per_hour: dict[tuple[int, int], Counter[str]] = defaultdict(Counter)
    per_day: dict[tuple[int, date], Counter[str]] = defaultdict(Counter)
    events: Counter[int] = Counter()
    for (metric, article_id, hour), amount in counts.items():
        article_field, hour_field, day_field = METRICS[metric]
        if article_field:
            per_article[article_id][article_field] += amount
        if hour_field:
            per_hour[(article_id, hour)][hour_field] += amount
        per_day[(article_id, local_day(datetime.fromtimestamp(hour, UTC)))][day_field] += amount
        if metric in EVENTS:
            events[article_id] += amount
    touched = set(events) | {a for a, _, _ in readers.members} | {a for a, _ in readers.counts}
    with transaction.atomic():
        # Increments for deleted articles are dropped (their stats rows would break the foreign key).
        existing = set(Article.objects.filter(pk__in=list(touched)).values_list("pk", flat=True)) if touched else set()
        # Sorted: servers flushing at once lock rows in the same order and cannot deadlock.
        for article_id in sorted(existing & set(per_article)):
            fields = per_article[article_id]
            Article.objects.filter(pk=article_id).update(**{f: F(f) + n for f, n in fields.items()})
        hours = [
            (article_id, datetime.fromtimestamp(hour, UTC), amounts["views"], amounts["shares"])
            for (article_id, hour), amounts in sorted(per_hour.items())
            if article_id in existing
        ]
        if hours:
            daily.upsert_hours(hours)
        days = {key: amounts for key, amounts in per_day.items() if key[0] in existing}
        if days:
            daily.add_to_days(days)
        distinct = dict(readers.counts)
        members = {m for m in readers.members if m[0] in existing}
        if members:
            # The table holds every digest of the day, so its count is the day's total so far.
            for key, n in daily.store_readers(members).items():
                distinct[key] = max(distinct.get(key, 0), n)
        distinct = {key: n for key, n in distinct.items() if key[0] in existing}
        if distinct:
            daily.raise_readers(distinct)
    return sum(events[article_id] for article_id in existing)


def flush(now: datetime | None = None) -> int:
    """Write buffered increments to the database; returns how many events (views, shares, read-depth
    reports) were written (those of deleted articles are dropped)."""
    counts: Counter[Key] = Counter(_fallback.drain())
    counts.update(_pending.drain())  # not pushed yet: written directly, like the fallback's
    readers = _fallback.drain_readers()
    readers.members |= _pending.drain_readers().members
    buffer = backend()
    try:
        if readers.members and not isinstance(buffer, MemoryCounters):
            # Digests kept in memory while Redis was down join its HyperLogLogs, so they are counted
            # together with everything else (if Redis is still down they are stored in the table below).
            buffer.restore_readers(readers)
            readers = Readers()
        counts.update(buffer.drain())
        taken = buffer.drain_readers()
        readers = Readers(readers.members | taken.members, {**readers.counts, **taken.counts})
    except Exception:  # left in the buffer; the next flush takes it
        log.warning("could not drain the %s counter buffer", settings.MASTHEAD_COUNTERS, exc_info=True)
    if not counts and not readers:
        return 0  # an idle flush (e.g. at the exit of a management command) touches no table
    try:
        written = _write(counts, readers)
    except Exception:
        _fallback.restore(counts)  # kept in memory, retried by the next flush
        _restore_readers(readers)
        raise
    _purge_readers(local_day(now))
    return written


def _purge_readers(today: date) -> None:
    """Reader digests are deleted once their day is counted and over: by the first flush of each day in
    each process (one DELETE a day, not one per flush), and by `masthead flushcounters`."""
    global _purged_on
    if _purged_on != today:
        daily.purge_readers(today)
        _purged_on = today


def _restore_readers(readers: Readers) -> None:
    if readers.counts:
        try:
            backend().restore_readers(Readers(counts=readers.counts))
        except Exception:
            log.warning("distinct reader counts lost with the buffer down", exc_info=True)
    _fallback.restore_readers(Readers(members=readers.members))


def flush_quietly() -> None:
    """Flush at process exit so a worker's memory buffer is not lost."""
    try:
        flush()
    except Exception:
        log.warning("final counter flush failed", exc_info=True)
