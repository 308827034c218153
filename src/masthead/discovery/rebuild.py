"""After a bulk load (the demo, `masthead import --bulk`): build what publishing builds one article
at a time — the search index, 相关推荐 vectors and lists, and the hot list — in bulk."""

from collections.abc import Callable


def after_bulk_load(log: Callable[[str], None] = print, *, related_limit: int | None = None) -> list[str]:
    """Rebuild everything; with `related_limit`, 相关推荐 only when there are at most that many
    published articles (for 100,000 it takes about ten minutes: then each list is left to the task
    that computes it when its article is published or edited). Returns what was rebuilt."""
    from masthead.articles.models import Article
    from masthead.discovery import hot_score, indexing, related, vectors
    from masthead.ops import planner

    done = []
    if planner.analyze():
        log("planner statistics refreshed (ANALYZE)")
    log(f"search index: {indexing.reindex()} articles")
    done.append("search")
    published = Article.objects.filter(status=Article.Status.PUBLISHED).count()
    if related_limit is None or published <= related_limit:
        vectors.rebuild_all()
        log(f"相关推荐: {related.rebuild_related_all()} lists")
        done.append("related")
    else:
        log(f"相关推荐: more than {related_limit} articles, computed as articles are published or edited")
    hot_score.refresh()
    done.append("hot")
    return done
