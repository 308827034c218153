"""热点推荐 (the hot list). First version: reads in the last 24 hours; the discovery issue replaces it."""

from datetime import timedelta

from django.db.models import BigIntegerField, ExpressionWrapper, F, Sum
from django.utils import timezone

from masthead.articles.models import Article
from masthead.articles.queries import by_ids
from masthead.engagement.models import ArticleStatHour
from masthead.web.pagecache import cached_fragment

HOT_WINDOW = timedelta(hours=24)


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
