"""Readers' reactions: likes, favorites, reading history, notifications read, and counted shares.

Every toggle takes the state wanted ("on" or "off"), never "flip": a form submitted twice, or sent
again by a reader who went back a page, leaves the same state as once.
"""

import logging
from datetime import date, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from masthead.accounts import ratelimit
from masthead.accounts.models import Notification
from masthead.articles.models import Article
from masthead.engagement import counters, readers
from masthead.engagement.comments import RateLimited
from masthead.engagement.models import ArticleLike, ArticleSharer, Favorite, ReadingHistory
from masthead.web import pagecache

log = logging.getLogger(__name__)

# Ways a reader shares an article; each counts toward the same once-a-day share.
SHARE_TARGETS = ("weibo", "qq", "link", "qr")
# Sharer digests of day D are deleted on day D + KEEP_SHARER_DAYS (yesterday's still dedupe a share
# sent just after midnight in another time zone's idea of the day).
KEEP_SHARER_DAYS = 2
# Share attempts per client address (attempts, seconds); a household behind one address shares far less.
SHARE_LIMIT = ("share-ip", 60, 600)
# Likes, favorites and follows per user: generous for a person, a wall for a script.
REACTION_LIMIT = ("reaction-user", 60, 300)
_sharers_purged_on: date | None = None


def _owns(user, article: Article) -> bool:
    return article.account.owner_id is not None and article.account.owner_id == user.pk


def _recount_likes(article_id: int) -> int:
    """Set like_count from the rows, under a lock of the article row; returns the count.

    The lock makes two readers liking at once count one after the other: each count then sees the
    other's row (without it, PostgreSQL lets both miss each other and the last write wins)."""
    # NO KEY UPDATE: does not wait on the key-share lock that inserting an ArticleLike takes.
    list(Article.objects.select_for_update(no_key=True).filter(pk=article_id).values_list("pk", flat=True))
    count = ArticleLike.objects.filter(article_id=article_id).count()
    Article.objects.filter(pk=article_id).update(like_count=count)
    pagecache.purge(f"article:{article_id}")  # waits for the commit
    return count


def count_reaction(user) -> None:
    """Count one like, favorite or follow request of `user` (whatever its outcome); raises RateLimited
    past REACTION_LIMIT. The pages and the API call it before the change, so one limit holds for both."""
    scope = REACTION_LIMIT[0]
    limit, window = ratelimit.configured(*REACTION_LIMIT)
    state = ratelimit.hit(scope, str(user.pk), limit, window)
    if not state.allowed:
        raise RateLimited(state.retry_after, _("操作太频繁，请%(wait)s后再试。"))


@transaction.atomic
def set_like(user, article: Article, on: bool) -> int:
    """Like (on) or stop liking (off) an article; returns its like count. Creators cannot like their
    own articles, and only published articles can be liked (a like can always be taken back)."""
    if on:
        if article.status != Article.Status.PUBLISHED:
            raise PermissionDenied(_("这篇文章不能点赞。"))
        if _owns(user, article):
            raise PermissionDenied(_("不能给自己的文章点赞。"))
        _like, changed = ArticleLike.objects.get_or_create(user=user, article=article)
    else:
        changed = bool(ArticleLike.objects.filter(user=user, article=article).delete()[0])
    if changed:
        article.like_count = _recount_likes(article.pk)
    return article.like_count


@transaction.atomic
def set_favorite(user, article: Article, on: bool) -> bool:
    """Add (on) or remove (off) an article from the reader's favorites; returns whether it changed."""
    if on:
        if article.status != Article.Status.PUBLISHED:
            raise PermissionDenied(_("这篇文章不能收藏。"))
        return Favorite.objects.get_or_create(user=user, article=article)[1]
    return bool(Favorite.objects.filter(user=user, article=article).delete()[0])


def record_read(user, article: Article) -> None:
    """Remember that the reader opened the article now: one upsert, whatever was there before."""
    ReadingHistory.objects.bulk_create(
        [ReadingHistory(user=user, article=article, read_at=timezone.now())],
        update_conflicts=True,
        unique_fields=["user", "article"],
        update_fields=["read_at"],
    )


def delete_history(user, article_id: int | None = None) -> int:
    """Delete one entry of the reader's history, or all of it (None); returns how many went."""
    entries = ReadingHistory.objects.filter(user=user)
    if article_id is not None:
        entries = entries.filter(article_id=article_id)
    return entries.delete()[0]


def mark_notifications_read(user, notification_id: int | None = None) -> int:
    """Mark one of the user's notifications read, or all unread ones (None); returns how many changed."""
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if notification_id is not None:
        unread = unread.filter(pk=notification_id)
    return unread.update(read_at=timezone.now())


def from_elsewhere(request: HttpRequest) -> bool:
    """Whether the browser says the request was started by another site (an <img> or a link on
    someone else's page, a cross-site form): such requests count no share.

    Browsers say it with Sec-Fetch-Site, else Origin, else Referer (which the site's referrer policy
    sends in full to the same origin). A client that says nothing is believed: a script could forge
    any of these headers anyway, and the per-address limit and the daily dedupe bound what it adds."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return fetch_site == "cross-site"  # same-origin, same-site, none (typed, bookmarked): the reader's own
    here = f"{request.scheme}://{request.get_host()}"
    origin = request.headers.get("Origin")
    if origin is not None and origin != "null":
        return origin != here and origin not in settings.CSRF_TRUSTED_ORIGINS
    referer = request.headers.get("Referer")
    if referer:
        parts = urlsplit(referer)
        return f"{parts.scheme}://{parts.netloc}" != here
    return False


def _prefetch(request: HttpRequest) -> bool:
    # Browsers prefetching or prerendering a link say so; only the reader's own click is a share.
    purpose = request.headers.get("Sec-Purpose") or request.headers.get("Purpose") or request.headers.get("X-Moz")
    return purpose is not None and "prefetch" in purpose.lower()


def share_once(request: HttpRequest, article: Article, target: str) -> bool:
    """Count a share of the article by this reader, at most once a day whatever the target (copy the
    link, Weibo, QQ, the WeChat QR code shown); returns whether this one was counted.

    Not counted: requests another site started, prefetches, and a client past SHARE_LIMIT attempts
    (a script changing its User-Agent would otherwise be a new reader each time)."""
    if target not in SHARE_TARGETS:
        raise ValueError(f"unknown share target {target!r}")
    if from_elsewhere(request) or _prefetch(request):
        return False
    scope = SHARE_LIMIT[0]
    limit, window = ratelimit.configured(*SHARE_LIMIT)
    if not ratelimit.hit(scope, ratelimit.client_ip(request), limit, window).allowed:
        return False
    now = timezone.now()
    day = counters.local_day(now)
    try:
        with transaction.atomic():
            ArticleSharer.objects.create(article=article, day=day, reader=readers.reader_digest(request, now))
    except IntegrityError:  # this reader already shared the article today
        return False
    counters.record("shares", article.pk, at=now)
    _purge_old_sharers(day)
    return True


def _purge_old_sharers(today: date) -> None:
    """Sharer digests are only needed for their day: the first counted share of each day in each
    process deletes the old ones (one DELETE a day, not one per share)."""
    global _sharers_purged_on
    if _sharers_purged_on == today:
        return
    _sharers_purged_on = today
    try:
        ArticleSharer.objects.filter(day__lte=today - timedelta(days=KEEP_SHARER_DAYS)).delete()
    except Exception:  # housekeeping must not fail the share; the next day's first share tries again
        log.warning("could not delete old sharer digests", exc_info=True)


def like(user, article: Article) -> int:
    return set_like(user, article, True)


def unlike(user, article: Article) -> int:
    return set_like(user, article, False)


def favorite(user, article: Article) -> bool:
    return set_favorite(user, article, True)


def unfavorite(user, article: Article) -> bool:
    return set_favorite(user, article, False)
