"""热点推荐 (the hot list): the ranking `hot_score.refresh()` stored, with editors' pins and removals.

Reading it costs two queries (the live overrides, then the top scores with what a list item shows)
and is cached as a fragment until the next refresh or any change to the fronts. Editors change it
through `pin()`, `remove()` and `clear()`: validated, written in a transaction, audited.
"""

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from masthead.accounts.roles import is_editor
from masthead.articles.models import Article
from masthead.discovery.hot_score import HOT_TAG, LISTED
from masthead.discovery.models import HotOverride, HotScore
from masthead.moderation import audit
from masthead.web.pagecache import cached_fragment, purge

PAGE_SIZE = 50  # the /hot/ page; pins may go anywhere on it
REASON_LIMIT = 300
CACHE_SECONDS = 60


@dataclass
class Entry:
    article: Article
    score: float | None  # None for a pinned article the refresh did not rank
    pinned: bool = False


def live_overrides(now: datetime | None = None) -> QuerySet[HotOverride]:
    now = now or timezone.now()
    return HotOverride.objects.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))


def _listed(article: Article) -> bool:
    return article.status == Article.Status.PUBLISHED and not article.reach_limited


def ranking(limit: int, channel_id: int | None = None, now: datetime | None = None) -> list[Entry]:
    """The list as readers see it: stored scores without removed, unpublished or limited articles,
    pins at their positions. Two queries."""
    overrides = list(
        live_overrides(now)
        .select_related("article__account", "article__channel", "article__cover")
        .defer("article__body_html", "article__body_text")
    )
    removed = {o.article_id for o in overrides if o.kind == HotOverride.Kind.REMOVE}
    pins = [
        o
        for o in overrides
        if o.kind == HotOverride.Kind.PIN
        and _listed(o.article)
        and (channel_id is None or o.article.channel_id == channel_id)
    ]
    pinned_ids = {o.article_id for o in pins}
    scores = (
        HotScore.objects.alias(listed=LISTED)
        .filter(listed=1)
        .select_related("article__account", "article__channel", "article__cover")
        .defer("article__body_html", "article__body_text")
        .order_by("-score", "article_id")
    )
    if channel_id is not None:
        scores = scores.filter(channel_id=channel_id)
    if removed:
        scores = scores.exclude(article_id__in=removed)
    top = list(scores[: limit + len(pinned_ids)])
    found = {s.article_id: s.score for s in top if s.article_id in pinned_ids}
    entries = [Entry(s.article, s.score) for s in top if s.article_id not in pinned_ids]
    for pin in sorted(pins, key=lambda o: (o.position, -o.created_at.timestamp())):
        entries.insert(min(pin.position - 1, len(entries)), Entry(pin.article, found.get(pin.article_id), True))
    return entries[:limit]


def hot_entries(limit: int = 10, channel_id: int | None = None) -> list[Entry]:
    """`ranking()`, cached until the next refresh (or any change to the fronts)."""
    return cached_fragment(
        f"hot:entries:{channel_id}:{limit}", ["fronts", HOT_TAG], lambda: ranking(limit, channel_id), CACHE_SECONDS
    )


def hot_articles(limit: int = 10, channel_id: int | None = None) -> list[Article]:
    """The hottest articles (site-wide, or of one channel), for sidebars and the /hot/ page; each
    carries `hot_score` (None when pinned and unranked) and `hot_pinned`."""
    articles = []
    for entry in hot_entries(limit, channel_id):
        entry.article.hot_score, entry.article.hot_pinned = entry.score, entry.pinned
        articles.append(entry.article)
    return articles


# --- editors' overrides (audited) ----------------------------------------------------------------------


def _check(by, reason: str, *, required: bool = True) -> str:
    if not is_editor(by):
        raise ValidationError(_("只有编辑可以调整热榜。"))
    reason = (reason or "").strip()
    if required and not reason:
        raise ValidationError({"reason": _("请填写理由。")})
    if len(reason) > REASON_LIMIT:
        raise ValidationError({"reason": _("理由不能超过 %(n)d 字。") % {"n": REASON_LIMIT}})
    return reason


def _state(override: HotOverride | None) -> dict:
    if override is None:
        return {}
    state = {"kind": override.kind, "reason": override.reason}
    if override.kind == HotOverride.Kind.PIN:
        state["position"] = override.position
    if override.expires_at:
        state["expires_at"] = override.expires_at.isoformat()
    return state


def _set(article: Article, by, kind: str, reason: str, position: int, expires_at: datetime | None) -> HotOverride:
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": _("到期时间必须晚于现在。")})
    with transaction.atomic():
        before = HotOverride.objects.select_for_update().filter(article=article).first()
        old = _state(before)
        override, _created = HotOverride.objects.update_or_create(
            article=article,
            defaults={
                "kind": kind,
                "position": position,
                "reason": reason,
                "created_by": by,
                "expires_at": expires_at,
                "created_at": timezone.now(),
            },
        )
        audit.record(by, f"hot.{kind}", article, reason=reason, before=old, after=_state(override))
        purge("fronts", HOT_TAG)
    return override


def pin(article: Article, *, by, position: int, reason: str, expires_at: datetime | None = None) -> HotOverride:
    """Put the article at `position` (1 = top) of the hot list until `expires_at` (or until unpinned)."""
    reason = _check(by, reason)
    if not 1 <= position <= PAGE_SIZE:
        raise ValidationError({"position": _("位置须在 1 到 %(n)d 之间。") % {"n": PAGE_SIZE}})
    if not _listed(article):
        raise ValidationError(_("只能置顶已发布且未限制推荐的文章。"))
    return _set(article, by, HotOverride.Kind.PIN, reason, position, expires_at)


def remove(article: Article, *, by, reason: str, expires_at: datetime | None = None) -> HotOverride:
    """Keep the article off every hot list until `expires_at` (or until restored); it stays readable."""
    reason = _check(by, reason)
    return _set(article, by, HotOverride.Kind.REMOVE, reason, 1, expires_at)


def clear(override: HotOverride, *, by, reason: str = "") -> None:
    """Unpin, or let a removed article back on the list."""
    reason = _check(by, reason, required=False)
    with transaction.atomic():
        article = override.article
        action = "hot.unpin" if override.kind == HotOverride.Kind.PIN else "hot.restore"
        audit.record(by, action, article, reason=reason, before=_state(override))
        override.delete()
        purge("fronts", HOT_TAG)


def expire_overrides(now: datetime | None = None) -> int:
    """Delete overrides whose time is up (they already stopped applying), each with an audit entry."""
    now = now or timezone.now()
    with transaction.atomic():
        due = list(HotOverride.objects.select_related("article").filter(expires_at__lte=now))
        for override in due:
            audit.record(None, "hot.expire", override.article, before=_state(override))
        HotOverride.objects.filter(pk__in=[o.pk for o in due]).delete()
    return len(due)
