"""The 推荐 feed: personal for signed-in readers who keep personalization on, the default otherwise.

Candidates, each with the reason shown to the reader:
- the latest articles of followed accounts ("因为你关注了「…」"),
- the 相关推荐 of the reader's latest reads ("因为你读过「…」"; co-reading is part of those lists),
- recent articles matching the reader's interest tags ("与你的兴趣「…」相关"),
- the non-personalized default: the hot list, then the newest articles.
Scores fall with age; articles already read or marked 不感兴趣 are left out, an account's articles
count less for every 不感兴趣 on it, and no account fills more than PER_ACCOUNT places. Removed,
unpublished and limited-reach articles never appear. With personalization off none of the reader's
data is read: the feed is exactly the default that anonymous readers get.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from masthead.articles.models import Article
from masthead.articles.queries import by_ids, latest_ids_per_group, published
from masthead.discovery.hot import hot_articles
from masthead.discovery.interests import is_personalized
from masthead.discovery.models import ArticleVector, Dismissal, Interest, RelatedArticle
from masthead.web.pagecache import cached_fragment

FEED_SIZE = 30
FOLLOWED_ACCOUNTS = 50
PER_FOLLOWED = 5
RECENT_READS = 10  # whose 相关推荐 feed the feed
READ_EXCLUDED = 300  # latest reads left out of the feed
INTEREST_TERMS = 10
WINDOW = 500  # newest articles that interest tags are matched against (shared by every reader)
WINDOW_TERMS = 24
PER_ACCOUNT = 3
HALF_LIFE_HOURS = 72.0
DISMISS_FACTOR = 0.5  # per 不感兴趣 on an account
# Base weight of each source before freshness: what the reader chose outweighs what we guess.
WEIGHTS = {"follow": 1.0, "read": 0.8, "interest": 0.7, "hot": 0.35, "latest": 0.25}


@dataclass
class FeedItem:
    article: Article
    kind: str  # follow, read, interest, hot, latest
    reason: str  # "why you see this", ready to show
    score: float = 0.0


def _fresh(article: Article, now) -> float:
    if article.published_at is None:
        return 0.0
    hours = max((now - article.published_at).total_seconds() / 3600, 0.0)
    return 0.5 ** (hours / HALF_LIFE_HOURS)


def _eligible(article: Article) -> bool:
    return article.status == Article.Status.PUBLISHED and not article.reach_limited


def default_feed(limit: int = FEED_SIZE) -> list[FeedItem]:
    """The non-personalized feed: the hot list first, then the newest; the same for every reader."""

    def build() -> list[FeedItem]:
        items: list[FeedItem] = []
        seen: set[int] = set()
        for article in hot_articles(limit):
            if _eligible(article) and article.pk not in seen:
                seen.add(article.pk)
                items.append(FeedItem(article, "hot", _("正在热读")))
        newest = published().filter(reach_limited=False).order_by("-published_at").values_list("pk", flat=True)
        for article in by_ids(list(newest[: limit + len(seen)])):
            if _eligible(article) and article.pk not in seen and len(items) < limit:
                seen.add(article.pk)
                items.append(FeedItem(article, "latest", _("最新发布")))
        newest_first = [i for i in items if i.kind == "latest"]
        newest_first.sort(key=lambda i: i.article.published_at, reverse=True)
        return [i for i in items if i.kind == "hot"] + newest_first

    return cached_fragment(f"feed:default:{limit}:{get_language()}", ["fronts"], build, timeout=60)


def _window() -> list[tuple[int, dict[str, float]]]:
    """The newest articles' strongest terms, shared by every reader (one cached query)."""

    def build() -> list[tuple[int, dict[str, float]]]:
        rows = (
            ArticleVector.objects.filter(article__status=Article.Status.PUBLISHED, article__reach_limited=False)
            .order_by("-article__published_at")
            .values_list("article_id", "terms")[:WINDOW]
        )
        out = []
        for pk, terms in rows:
            top = sorted(terms.items(), key=lambda item: -item[1])[:WINDOW_TERMS]
            out.append((pk, dict(top)))
        return out

    return cached_fragment("feed:window", ["fronts"], build, timeout=300)


def feed_for(user, limit: int = FEED_SIZE) -> list[FeedItem]:
    """The 推荐 feed of one reader (the default when signed out or with personalization off)."""
    if not is_personalized(user):
        return default_feed(limit)
    from masthead.accounts.models import Follow
    from masthead.engagement.models import ReadingHistory

    now = timezone.now()
    scores: dict[int, tuple[float, str, str]] = {}  # article id → (score, kind, reason)

    def offer(pk: int, score: float, kind: str, reason: str) -> None:
        if pk not in scores or scores[pk][0] < score:
            scores[pk] = (score, kind, reason)

    # Followed accounts' latest articles.
    followed = dict(
        Follow.objects.filter(user=user)
        .order_by("-created_at")
        .values_list("account_id", "account__name")[:FOLLOWED_ACCOUNTS]
    )
    for pk in latest_ids_per_group("account_id", list(followed), PER_FOLLOWED):
        offer(pk, WEIGHTS["follow"], "follow", "")  # the account's name is filled in once loaded

    # The 相关推荐 of the latest reads.
    reads = list(
        ReadingHistory.objects.filter(user=user)
        .order_by("-read_at")
        .values_list("article_id", flat=True)[:READ_EXCLUDED]
    )
    recent = reads[:RECENT_READS]
    if recent:
        titles = dict(Article.objects.filter(pk__in=recent).values_list("pk", "title"))
        rows = RelatedArticle.objects.filter(article_id__in=recent).values_list("article_id", "related_id", "score")
        best = max((s for _, _, s in rows), default=1.0) or 1.0
        for source, pk, score in rows:
            reason = _("因为你读过「%(title)s」") % {"title": titles.get(source, "")}
            offer(pk, WEIGHTS["read"] * (0.5 + 0.5 * score / best), "read", reason)

    # Interest tags against the newest articles.
    interests = dict(
        Interest.objects.filter(user=user, blocked=False, weight__gt=0)
        .order_by("-weight")
        .values_list("term", "weight")[:INTEREST_TERMS]
    )
    if interests:
        top = max(interests.values())
        for pk, terms in _window():
            matched = [(interests[t] * w, t) for t, w in terms.items() if t in interests]
            if matched:
                value, term = max(matched)
                score = sum(v for v, _ in matched) / top
                reason = _("与你的兴趣「%(term)s」相关") % {"term": term}
                offer(pk, WEIGHTS["interest"] * min(score * 2, 1.0), "interest", reason)

    # The default fills the rest and keeps the feed alive for a new reader.
    for item in default_feed(limit):
        offer(item.article.pk, WEIGHTS[item.kind], item.kind, item.reason)

    dismissed = set(Dismissal.objects.filter(user=user).values_list("article_id", flat=True))
    excluded = dismissed | set(reads)
    ids = [pk for pk in scores if pk not in excluded]
    articles = [a for a in by_ids(ids) if _eligible(a)]
    account_dismissals = Counter(
        dict(
            Dismissal.objects.filter(user=user)
            .values("article__account_id")
            .annotate(n=Count("id"))
            .values_list("article__account_id", "n")
        )
    )
    items = []
    for article in articles:
        score, kind, reason = scores[article.pk]
        if kind == "follow":
            reason = _("因为你关注了「%(name)s」") % {"name": followed.get(article.account_id, article.account.name)}
        value = score * (0.25 + 0.75 * _fresh(article, now)) * DISMISS_FACTOR ** account_dismissals[article.account_id]
        items.append(FeedItem(article, kind, reason, value))
    items.sort(key=lambda i: (-i.score, -i.article.pk))
    shown: list[FeedItem] = []
    per_account: Counter[int] = Counter()
    for item in items:
        if per_account[item.article.account_id] < PER_ACCOUNT:
            per_account[item.article.account_id] += 1
            shown.append(item)
            if len(shown) == limit:
                break
    return shown


@transaction.atomic
def dismiss(user, article: Article) -> bool:
    """不感兴趣: the article leaves the reader's feed at once, its account and words count less.
    Returns whether this was new (a double submit is harmless)."""
    from masthead.discovery.interests import lower_for_article

    _, created = Dismissal.objects.get_or_create(user=user, article=article)
    if created:
        lower_for_article(user, article)
    return created
