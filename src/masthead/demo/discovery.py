"""After bulk-made demo content: build what publishing would have built one article at a time.

The demo loader and the synthetic generator insert rows directly (no per-article signals), so the
search index, the 相关推荐 vectors and lists, and the hot list are built here in bulk.
"""

from collections.abc import Callable

# Above this many articles, 相关推荐 for every article takes minutes (about 10 for 100,000): then each
# list is left to the task that computes it when its article is published or edited.
RELATED_LIMIT = 20_000


def build(log: Callable[[str], None] = print) -> None:
    from masthead.articles.models import Article
    from masthead.discovery import hot_score, indexing, related, vectors

    log(f"search index: {indexing.reindex()} articles")
    if Article.objects.filter(status=Article.Status.PUBLISHED).count() <= RELATED_LIMIT:
        vectors.rebuild_all()
        log(f"相关推荐: {related.rebuild_related_all()} lists")
    else:
        log(f"相关推荐: more than {RELATED_LIMIT} articles, computed as articles are published or edited")
    hot_score.refresh()
