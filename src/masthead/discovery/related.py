"""相关推荐 (related articles). First version: shared tags and channel; the discovery issue replaces it."""

from django.db.models import Count

from masthead.articles.models import Article
from masthead.articles.queries import by_ids, latest_ids_per_group
from masthead.web.pagecache import cached_fragment


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
