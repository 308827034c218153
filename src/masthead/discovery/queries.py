"""First, simple discovery: 相关推荐 by channel and shared tags, 热点推荐 by reads in the last 24 hours.

The discovery issue replaces these with real engines behind pluggable backends.
"""

from datetime import timedelta

from django.db.models import Count, Q, Sum
from django.utils import timezone

from masthead.articles.models import Article
from masthead.articles.queries import for_listing
from masthead.web.pagecache import cached_fragment

HOT_WINDOW = timedelta(hours=24)


def related_articles(article: Article, limit: int = 6) -> list[Article]:
    """Published articles sharing the most tags with `article`, same channel first, newest first."""
    tag_ids = [t.pk for t in article.tags.all()]  # prefetched by the page query

    def build() -> list[Article]:
        shared = Count("tags", filter=Q(tags__in=tag_ids), distinct=True) if tag_ids else Count(None)
        return list(
            for_listing()
            .filter(Q(channel_id=article.channel_id) | Q(tags__in=tag_ids))
            .exclude(pk=article.pk)
            .annotate(shared=shared)
            .order_by("-shared", "-published_at")
            .distinct()[:limit]
        )

    return cached_fragment(f"related:{article.pk}:{limit}", ["fronts"], build, timeout=600)


def hot_articles(limit: int = 10, channel_id: int | None = None) -> list[Article]:
    """Most read in the last 24 hours (from the hourly stats the counter flush writes)."""

    def build() -> list[Article]:
        since = timezone.now() - HOT_WINDOW
        qs = for_listing().filter(hourly_stats__hour__gte=since)
        if channel_id is not None:
            qs = qs.filter(channel_id=channel_id)
        return list(qs.annotate(recent=Sum("hourly_stats__views")).order_by("-recent", "-published_at")[:limit])

    return cached_fragment(f"hot:{channel_id}:{limit}", ["fronts"], build, timeout=60)
