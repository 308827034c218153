"""First, simple discovery: 相关推荐 by shared tags and channel, 热点推荐 by reads in the last 24 hours.

The discovery issue replaces these with real engines behind pluggable backends. Both are written so
their cost follows the number of candidates, not the number of articles: ids are picked from narrow
indexed queries, then the rows are fetched by primary key and their status checked in Python.
"""

from datetime import timedelta

from django.db.models import BigIntegerField, Count, ExpressionWrapper, F, Sum
from django.utils import timezone

from masthead.articles.models import Article
from masthead.articles.queries import by_ids, latest_ids_per_group
from masthead.engagement.models import ArticleStatHour
from masthead.web.pagecache import cached_fragment

HOT_WINDOW = timedelta(hours=24)


def related_articles(article: Article, limit: int = 6) -> list[Article]:
    """Published articles sharing the most tags with `article`, then the newest of its channel."""
    tag_ids = [t.pk for t in article.tags.all()]  # prefetched by the page query

    def build() -> list[Article]:
        through = Article.tags.through.objects
        shared = dict(
            through.filter(tag_id__in=tag_ids)
            .exclude(article_id=article.pk)
            .values("article_id")
            .annotate(n=Count("tag_id"))
            .order_by("-n", "-article_id")
            .values_list("article_id", "n")[: limit * 5]
        )
        same_channel = latest_ids_per_group("channel_id", [article.channel_id], limit + 1)
        candidates = by_ids([*shared, *same_channel])
        candidates = [a for a in candidates if a.pk != article.pk]
        candidates.sort(
            key=lambda a: (-shared.get(a.pk, 0), a.channel_id != article.channel_id, -a.published_at.timestamp())
        )
        return candidates[:limit]

    return cached_fragment(f"related:{article.pk}:{limit}", ["fronts"], build, timeout=600)


def hot_articles(limit: int = 10, channel_id: int | None = None) -> list[Article]:
    """Most read in the last 24 hours (from the hourly stats the counter flush writes)."""

    def build() -> list[Article]:
        stats = ArticleStatHour.objects.filter(hour__gte=timezone.now() - HOT_WINDOW)
        if channel_id is not None:
            stats = stats.filter(article__channel_id=channel_id)
        # "+ 0" keeps SQLite from grouping along the (article, hour) index, which would read every
        # row ever written; it reads the last day's rows through the hour index instead.
        key = ExpressionWrapper(F("article_id") + 0, output_field=BigIntegerField())
        top = stats.annotate(aid=key).values("aid").annotate(recent=Sum("views")).order_by("-recent", "-aid")
        scores = dict(top.values_list("aid", "recent")[: limit * 3])
        articles = by_ids(list(scores))
        articles.sort(key=lambda a: (-scores[a.pk], -a.published_at.timestamp()))
        return articles[:limit]

    return cached_fragment(f"hot:{channel_id}:{limit}", ["fronts"], build, timeout=60)
