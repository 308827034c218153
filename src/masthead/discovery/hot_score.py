"""热点推荐's scoring: how hot each article is, recomputed by `refresh()` every minute.

    heat = P / (T + 2) ** GRAVITY

T is the article's age in hours; P its engagement points from the last two days (today and
yesterday, Asia/Shanghai), each signal counted once per person per article per day:

    P = 1 × readers + 3 × likes + 5 × commenters + 5 × sharers

`readers` are the distinct readers the view counters already keep per article and day, less what the
source evidence below shows to be bots or bursts from one network. docs/hot-list.md explains the
formula and compares it with Hacker News' and Reddit's.

Source evidence. For every read, `note_read()` (called by engagement.readers.record_view) files the
reader under their source network (the /24 of an IPv4 address, the /48 of an IPv6 one) or under
"bot". Neither the address nor the network is kept: the network becomes an HMAC under the readers'
daily salt, the reader a 24-bit tag of their (already salted) daily digest. Reads are buffered in the
process and merged every few seconds into the shared cache (the page cache's backend: files, or
Redis), in a few entries per day. From it, a network's `n` distinct readers count as
`damped(n)`: `n` up to NETWORK_FREE, then only logarithmically more. The discount per article-day
(the excess over `damped(n)` of every network, plus every bot) is stored next to it for `refresh()`.
If the evidence is lost (cache cleared), readers count in full: it only ever lowers a count.
"""

import hashlib
import hmac
import ipaddress
import logging
import math
import re
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Case, Count, F, IntegerField, Q, Value, When
from django.http import HttpRequest
from django.utils import timezone

from masthead.articles.models import Article
from masthead.engagement import counters, readers
from masthead.engagement.models import ArticleLike, ArticleSharer, ArticleStatDay, Comment
from masthead.web import pagecache

# Whether an article may be ranked, as an expression no index can serve. With the plain conditions,
# SQLite (which keeps no statistics) drives each query from the articles through the status index,
# visiting every published article (140–225 ms at 100,000) instead of the window's few rows found
# through the date indexes of the engagement tables; PostgreSQL plans either form well.
LISTED = Case(
    When(Q(article__status=Article.Status.PUBLISHED, article__reach_limited=False), then=Value(1)),
    default=Value(0),
    output_field=IntegerField(),
)

log = logging.getLogger(__name__)

GRAVITY = 1.5
WEIGHTS = {"readers": 1.0, "likes": 3.0, "commenters": 5.0, "sharers": 5.0}
WINDOW_DAYS = 2  # today and yesterday: the days whose reader digests are still kept
KEEP_SITE = 200  # rows kept for the site-wide list (the /hot/ page shows 50; removals eat into it)
KEEP_CHANNEL = 30  # rows kept per channel, for the channel lists
HOT_TAG = "hot"  # page-cache tag of everything that shows the list; purged by every refresh

# Source evidence
NETWORK_FREE = 4  # distinct readers from one network that count in full (a household, a small office)
IPV4_PREFIX = 24
IPV6_PREFIX = 48
BOT = "bot"
TAG_BITS = 24  # reader tags: among 1,000 readers of one network, two share a tag with a chance of 3 %
NET_CAP = 4096  # tags kept per network; beyond, further reads count as new readers (an upper bound)
MAX_NETS = 5000  # networks kept per article-day; the smallest go first (they carry no discount)
# Evidence is kept in SHARDS entries per day (articles by id modulo SHARDS), so that a merge is a few
# cache calls whatever the number of articles, and the discounts in one entry per day, so that the
# refresh reads them in one call.
SHARDS = 32
SOURCES_KEY = "hot:src:{}:{}"  # day, shard: {article id: {network: [reader tags, reads beyond NET_CAP]}}
DISCOUNT_KEY = "hot:discount:{}"  # day: {article id: (bots, excess)}, what refresh() reads
SOURCES_TTL = 3 * 24 * 3600
MERGE_LOCK = "hot:src:lock"
REFRESH_LOCK = "hot:refresh:lock"
LOCK_SECONDS = 30

# Crawlers, link previews, monitors, scripts and headless browsers; real browsers always send a
# User-Agent, so an empty one is treated as a script too.
BOT_AGENT = re.compile(
    r"^\s*$|bot\b|bot/|spider|crawl|slurp|scrap|archiver|fetcher|preview|monitor|uptime|pingdom|lighthouse"
    r"|headless|phantom|selenium|puppeteer|playwright|curl/|wget/|python|java/|go-http|okhttp|httpclient"
    r"|libwww|axios|node-fetch|facebookexternalhit|bytespider|yisou|baiduspider|sogou|360spider",
    re.IGNORECASE,
)


def is_bot(user_agent: str) -> bool:
    return bool(BOT_AGENT.search(user_agent[:500]))


def network_free() -> int:
    return int(getattr(settings, "MASTHEAD_HOT_NETWORK_FREE", NETWORK_FREE))


def damped(n: float, free: int | None = None) -> float:
    """What `n` distinct readers from one network count for: n up to `free`, then
    free × (1 + ln(n / free)), which continues the line smoothly and grows only logarithmically."""
    free = network_free() if free is None else free
    if n <= free:
        return float(n)
    return free * (1 + math.log(n / free))


# --- source evidence -------------------------------------------------------------------------------


def network_of(address: str) -> str | None:
    """The source network of an address (IPv4 /24, IPv6 /48), or None for something unparseable."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    prefix = IPV4_PREFIX if ip.version == 4 else IPV6_PREFIX
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def network_tag(network: str, day: date) -> str:
    """The network as an HMAC under the day's reader salt: comparable within a day, nothing more."""
    return hmac.new(readers.daily_salt(day), f"net:{network}".encode(), hashlib.sha256).hexdigest()[:12]


class SourceBuffer:
    """This process's source evidence since the last merge: {(article, day): {network: {reader tags}}}."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._data: dict[tuple[int, date], dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))

    def add(self, article_id: int, day: date, source: str, tag: int) -> None:
        with self._lock:
            self._data[(article_id, day)][source].add(tag)

    def drain(self) -> dict[tuple[int, date], dict[str, set[int]]]:
        with self._lock:
            data, self._data = self._data, defaultdict(lambda: defaultdict(set))
        return data

    def restore(self, data: dict[tuple[int, date], dict[str, set[int]]]) -> None:
        with self._lock:
            for key, nets in data.items():
                for source, tags in nets.items():
                    self._data[key][source] |= tags


_buffer = SourceBuffer()
_merge_lock = threading.Lock()
_last_merge = time.monotonic()


def merge_seconds() -> float:
    return float(getattr(settings, "MASTHEAD_HOT_MERGE_SECONDS", settings.MASTHEAD_COUNTER_FLUSH_SECONDS))


def note_read(request: HttpRequest, article_id: int, reader: str, at: datetime | None = None) -> None:
    """File one read (by `reader`, the day's salted digest) under its source network, or as a bot."""
    day = counters.local_day(at)
    if is_bot(request.META.get("HTTP_USER_AGENT", "")):
        source = BOT
    else:
        network = network_of(readers.client_address(request))
        source = network_tag(network, day) if network else "unknown"
    _buffer.add(int(article_id), day, source, int(reader[: TAG_BITS // 4], 16))
    maybe_merge()


def maybe_merge() -> None:
    global _last_merge
    if time.monotonic() - _last_merge < merge_seconds():
        return
    if _merge_lock.acquire(blocking=False):
        try:
            _last_merge = time.monotonic()
            merge_sources()
        except Exception:
            log.warning("hot list source evidence not merged", exc_info=True)
        finally:
            _merge_lock.release()


def _add_tags(nets: dict, source: str, tags: set[int]) -> None:
    stored = nets.get(source)
    if stored is None:
        stored = nets[source] = [set(), 0]  # [reader tags, reads beyond NET_CAP]
    known, _ = stored
    for tag in tags:
        if tag in known:
            continue
        if len(known) < NET_CAP:
            known.add(tag)
        else:
            stored[1] += 1


def _trim(nets: dict) -> None:
    if len(nets) <= MAX_NETS:
        return
    keep = sorted(nets, key=lambda s: len(nets[s][0]) + nets[s][1], reverse=True)[: MAX_NETS * 3 // 4]
    for source in set(nets) - set(keep):
        del nets[source]


def discount_of(nets: dict, free: int | None = None) -> tuple[int, float]:
    """(bots, excess) of an article-day's sources: distinct bot readers, and what bursts from one
    network count beyond `damped()`."""
    bots, excess = 0, 0.0
    for source, (tags, beyond) in nets.items():
        n = len(tags) + beyond
        if source == BOT:
            bots = n
        else:
            excess += n - damped(n, free)
    return bots, excess


def merge_sources() -> int:
    """Merge this process's evidence into the shared cache; returns the article-days written. Merges
    from several processes take turns through a lock in the cache (a turn missed is retried later)."""
    pending = _buffer.drain()
    if not pending:
        return 0
    try:
        if not cache.add(MERGE_LOCK, 1, LOCK_SECONDS):
            _buffer.restore(pending)
            return 0
        try:
            shards = {(day, article_id % SHARDS) for article_id, day in pending}
            days = {day for day, _ in shards}
            keys = {shard: SOURCES_KEY.format(shard[0].isoformat(), shard[1]) for shard in shards}
            day_keys = {day: DISCOUNT_KEY.format(day.isoformat()) for day in days}
            stored = cache.get_many([*keys.values(), *day_keys.values()])
            sources = {keys[shard]: stored.get(keys[shard]) or {} for shard in shards}
            discounts = {day_keys[day]: stored.get(day_keys[day]) or {} for day in days}
            for (article_id, day), nets in pending.items():
                merged = sources[keys[(day, article_id % SHARDS)]].setdefault(article_id, {})
                for source, tags in nets.items():
                    _add_tags(merged, source, tags)
                _trim(merged)
                bots, excess = discount_of(merged)
                if bots or excess:
                    discounts[day_keys[day]][article_id] = (bots, excess)
            cache.set_many({**sources, **discounts}, SOURCES_TTL)
        finally:
            cache.delete(MERGE_LOCK)
    except Exception:
        _buffer.restore(pending)  # kept for the next merge
        raise
    return len(pending)


# --- scoring -----------------------------------------------------------------------------------------


@dataclass
class Heat:
    article_id: int
    channel_id: int
    published_at: datetime
    readers: float = 0.0  # after the discount
    likes: int = 0
    commenters: int = 0
    sharers: int = 0

    @property
    def points(self) -> float:
        return sum(WEIGHTS[name] * getattr(self, name) for name in WEIGHTS)

    def score(self, now: datetime) -> float:
        return heat(self.points, now - self.published_at)


def heat(points: float, age: timedelta) -> float:
    """P / (T + 2) ** GRAVITY, T in hours (an article published in the future counts as new)."""
    hours = max(age.total_seconds(), 0.0) / 3600
    return points / (hours + 2) ** GRAVITY


def window_start(now: datetime) -> tuple[list[date], datetime]:
    """The days counted and the moment they start (00:00 of yesterday, Asia/Shanghai)."""
    today = counters.local_day(now)
    days = [today - timedelta(days=i) for i in range(WINDOW_DAYS - 1, -1, -1)]
    start = timezone.make_aware(datetime.combine(days[0], datetime.min.time()), timezone.get_default_timezone())
    return days, start


def compute(now: datetime | None = None) -> list[Heat]:
    """Every eligible article with engagement in the window, with its signals (not yet ranked)."""
    now = now or timezone.now()
    days, since = window_start(now)
    day_rows = list(
        ArticleStatDay.objects.alias(listed=LISTED)
        .filter(day__in=days, readers__gt=0, listed=1)
        .values_list("article_id", "day", "readers")
    )
    # (bots, excess) of the article-days that have evidence: one entry per day, one cache call.
    found = cache.get_many([DISCOUNT_KEY.format(day.isoformat()) for day in days])
    discounts = {day: found.get(DISCOUNT_KEY.format(day.isoformat())) or {} for day in days}
    readers_of: dict[int, float] = defaultdict(float)
    for article_id, day, n in day_rows:
        bots, excess = discounts[day].get(article_id, (0, 0.0))
        readers_of[article_id] += max(0.0, n - bots - excess)

    not_own = {"user_id": F("article__account__owner_id")}  # an author's own likes and comments count for nothing
    # Counted here, not grouped in SQL: SQLite would walk every like in article order to group them
    # instead of reading the window's few through their date index.
    likes = Counter(
        ArticleLike.objects.alias(listed=LISTED)
        .filter(created_at__gte=since, listed=1)
        .exclude(**not_own)
        .values_list("article_id", flat=True)
    )
    commenters = dict(
        Comment.objects.alias(listed=LISTED)
        .filter(created_at__gte=since, status=Comment.Status.VISIBLE, listed=1)
        .exclude(**not_own)
        .values("article_id")
        .annotate(n=Count("user_id", distinct=True))
        .values_list("article_id", "n")
    )
    sharers = dict(
        ArticleSharer.objects.alias(listed=LISTED)
        .filter(day__in=days, listed=1)
        .values("article_id")
        .annotate(n=Count("id"))
        .values_list("article_id", "n")
    )
    ids = {a for a, n in readers_of.items() if n > 0} | set(likes) | set(commenters) | set(sharers)
    rows = Article.objects.filter(pk__in=ids).values_list("pk", "channel_id", "published_at")
    return [
        Heat(
            article_id=pk,
            channel_id=channel_id,
            published_at=published_at,
            readers=readers_of.get(pk, 0.0),
            likes=likes.get(pk, 0),
            commenters=commenters.get(pk, 0),
            sharers=sharers.get(pk, 0),
        )
        for pk, channel_id, published_at in rows.iterator(chunk_size=2000)
        if published_at is not None
    ]


def select(heats: list[Heat], now: datetime) -> list[tuple[Heat, float]]:
    """The rows worth storing: the site-wide top KEEP_SITE and each channel's top KEEP_CHANNEL."""
    scored = sorted(((h, h.score(now)) for h in heats), key=lambda pair: (-pair[1], -pair[0].published_at.timestamp()))
    scored = [(h, s) for h, s in scored if s > 0]
    kept: dict[int, tuple[Heat, float]] = {h.article_id: (h, s) for h, s in scored[:KEEP_SITE]}
    per_channel: dict[int, int] = defaultdict(int)
    for h, s in scored:
        if per_channel[h.channel_id] < KEEP_CHANNEL:
            per_channel[h.channel_id] += 1
            kept.setdefault(h.article_id, (h, s))
    return sorted(kept.values(), key=lambda pair: -pair[1])


def refresh(now: datetime | None = None) -> int | None:
    """Recompute the hot list and replace the stored one in one transaction; returns the rows written,
    or None when another refresh is running."""
    from masthead.discovery.models import HotScore

    now = now or timezone.now()
    try:
        merge_sources()  # this process's latest evidence
    except Exception:
        log.warning("hot list source evidence not merged before the refresh", exc_info=True)
    try:
        locked = cache.add(REFRESH_LOCK, 1, LOCK_SECONDS * 4)
    except Exception:
        locked = True  # without a cache, refreshes may overlap; the transaction keeps each whole
    if not locked:
        return None
    try:
        chosen = select(compute(now), now)
        with transaction.atomic():
            HotScore.objects.all().delete()
            rows = [
                HotScore(article_id=h.article_id, channel_id=h.channel_id, score=s, computed_at=now) for h, s in chosen
            ]
            HotScore.objects.bulk_create(rows, batch_size=500)
            pagecache.purge(HOT_TAG)
    finally:
        try:
            cache.delete(REFRESH_LOCK)
        except Exception:
            log.warning("hot list refresh lock not released", exc_info=True)
    return len(chosen)
