"""What the personal feed knows about a reader: the on/off switch and the inferred interest tags.

Interest tags are the keywords of what the reader read (recent reads count more) and of the latest
articles of the accounts they follow, minus the keywords of articles they marked 不感兴趣. The reader
sees every tag and can delete it; a deleted tag stays as a blocked row so that reading does not bring
it back. With personalization off nothing is inferred and the feed uses no personal signal at all.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone

from masthead.articles.models import Article
from masthead.articles.queries import latest_ids_per_group
from masthead.discovery.models import ArticleVector, Dismissal, FeedPreference, Interest

MAX_INTERESTS = 30
HISTORY_READS = 100  # latest reads looked at
HALF_LIFE_DAYS = 30.0  # a read a month old counts half
FOLLOWED_ACCOUNTS = 50
FOLLOWED_ARTICLES = 3  # latest articles per followed account
FOLLOW_WEIGHT = 0.5  # a followed account's article counts half a read
DISMISSED_WEIGHT = -1.0  # a 不感兴趣 article's words count against
DISMISS_FACTOR = 0.5  # 不感兴趣 halves the tags of that article at once
REFRESH_EVERY = timedelta(minutes=10)


def is_personalized(user) -> bool:
    """The reader's switch (on unless they turned it off); always off for anonymous readers."""
    if not getattr(user, "is_authenticated", False):
        return False
    value = FeedPreference.objects.filter(user=user).values_list("personalized", flat=True).first()
    return True if value is None else value


def set_personalized(user, on: bool) -> FeedPreference:
    pref, _ = FeedPreference.objects.update_or_create(user=user, defaults={"personalized": on})
    return pref


def _keyword_weights(article_ids: list[int]) -> dict[int, list[str]]:
    return dict(ArticleVector.objects.filter(article_id__in=article_ids).values_list("article_id", "keywords"))


def _add(scores: Counter[str], keywords: list[str], weight: float) -> None:
    # The first keyword is the strongest: a linear fall-off to half for the last.
    for rank, term in enumerate(keywords):
        scores[term] += weight * (1.0 - 0.5 * rank / max(len(keywords), 1))


@transaction.atomic
def infer_interests(user) -> list[Interest]:
    """Recompute the reader's interest tags; blocked tags stay blocked. Returns the visible tags."""
    if not is_personalized(user):
        return []
    from masthead.accounts.models import Follow
    from masthead.engagement.models import ReadingHistory

    now = timezone.now()
    scores: Counter[str] = Counter()
    reads = list(
        ReadingHistory.objects.filter(user=user)
        .order_by("-read_at")
        .values_list("article_id", "read_at")[:HISTORY_READS]
    )
    followed = list(
        Follow.objects.filter(user=user)
        .order_by("-created_at")
        .values_list("account_id", flat=True)[:FOLLOWED_ACCOUNTS]
    )
    followed_ids = latest_ids_per_group("account_id", followed, FOLLOWED_ARTICLES)
    dismissed = list(Dismissal.objects.filter(user=user).values_list("article_id", flat=True)[:200])
    keywords = _keyword_weights([pk for pk, _ in reads] + followed_ids + dismissed)
    for pk, read_at in reads:
        age = max((now - read_at).total_seconds() / 86400, 0.0)
        _add(scores, keywords.get(pk, []), 0.5 ** (age / HALF_LIFE_DAYS))
    for pk in followed_ids:
        _add(scores, keywords.get(pk, []), FOLLOW_WEIGHT)
    for pk in dismissed:
        _add(scores, keywords.get(pk, []), DISMISSED_WEIGHT)
    blocked = set(Interest.objects.filter(user=user, blocked=True).values_list("term", flat=True))
    top = [(t, w) for t, w in scores.most_common() if w > 0 and t not in blocked][:MAX_INTERESTS]
    Interest.objects.filter(user=user, blocked=False).exclude(term__in=[t for t, _ in top]).delete()
    Interest.objects.bulk_create(
        [Interest(user=user, term=t, weight=round(w, 4)) for t, w in top],
        update_conflicts=True,
        unique_fields=["user", "term"],
        update_fields=["weight", "updated_at"],
    )
    # bulk_create skips auto_now on conflict updates in some backends: mark the refresh explicitly.
    Interest.objects.filter(user=user, blocked=False).update(updated_at=now)
    return visible_interests(user)


def visible_interests(user) -> list[Interest]:
    return list(Interest.objects.filter(user=user, blocked=False, weight__gt=0).order_by("-weight", "term"))


def refresh_if_stale(user) -> None:
    """Re-infer when the reader has read or followed something since the last inference (bounded rate)."""
    if not is_personalized(user):
        return
    from masthead.accounts.models import Follow
    from masthead.engagement.models import ReadingHistory

    last = Interest.objects.filter(user=user).aggregate(at=Max("updated_at"))["at"]
    if last is not None and timezone.now() - last < REFRESH_EVERY:
        return
    newest = max(
        (
            at
            for at in (
                ReadingHistory.objects.filter(user=user).aggregate(at=Max("read_at"))["at"],
                Follow.objects.filter(user=user).aggregate(at=Max("created_at"))["at"],
            )
            if at is not None
        ),
        default=None,
    )
    if newest is not None and (last is None or newest > last):
        infer_interests(user)


@transaction.atomic
def delete_interest(user, term: str) -> None:
    """The reader deletes a tag: it is kept blocked (weight 0) so that reading does not bring it back."""
    Interest.objects.update_or_create(user=user, term=term[:40], defaults={"blocked": True, "weight": 0})


def lower_for_article(user, article: Article) -> None:
    """不感兴趣 on an article: halve the reader's tags that come from its keywords, at once."""
    keywords = ArticleVector.objects.filter(article_id=article.pk).values_list("keywords", flat=True).first() or []
    if keywords:
        Interest.objects.filter(user=user, term__in=keywords, blocked=False).update(weight=F("weight") * DISMISS_FACTOR)
