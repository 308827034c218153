"""Keeping 相关推荐 current: a django.tasks task per changed article, enqueued after commit.

Publishing or editing an article (re)builds its vector and its list, then refreshes the lists of the
articles it is now related to, so a new article also appears under older ones. Removal, unpublishing
and limited reach take it out of every list at once (in the receiver, not later in a worker), and
the lists that lost it are refilled by tasks.
"""

from __future__ import annotations

import logging

from django.dispatch import receiver
from django.tasks import task

from masthead.articles.models import Article
from masthead.articles.signals import article_changed

log = logging.getLogger(__name__)

# IDF is immature while the corpus is small: the first articles were weighed against a handful of
# others. Each time the corpus doubles up to this size everything is re-weighed (seconds at most);
# beyond it one article more or less no longer moves the statistics.
REWEIGH_UP_TO = 1024


@task
def refresh_related(article_id: int, neighbours: bool = True) -> list[int]:
    """Vector and 相关推荐 of one article; with `neighbours`, also refresh the lists it now belongs in."""
    from masthead.discovery.models import ArticleVector, RelatedArticle, TermStat
    from masthead.discovery.related import compute_related, rebuild_related_all
    from masthead.discovery.vectors import DOCS, rebuild_all, update_vector

    article = Article.objects.filter(pk=article_id).first()
    if article is None:
        return []
    is_new = not ArticleVector.objects.filter(article_id=article_id).exists()
    update_vector(article)
    if is_new and neighbours:
        docs = TermStat.objects.filter(term=DOCS).values_list("df", flat=True).first() or 0
        if 4 <= docs <= REWEIGH_UP_TO and docs & (docs - 1) == 0:  # a power of two
            rebuild_all()
            rebuild_related_all()
            return list(
                RelatedArticle.objects.filter(article_id=article_id)
                .order_by("rank")
                .values_list("related_id", flat=True)
            )
    related = compute_related(article_id)
    if neighbours:
        for pk in related:
            refresh_related.enqueue(pk, False)
    return related


@receiver(article_changed, dispatch_uid="related_article_changed")
def on_article_changed(sender, article: Article, **kwargs) -> None:
    from masthead.discovery.related import drop_everywhere
    from masthead.discovery.vectors import drop_vector

    try:
        current = Article.objects.filter(pk=article.pk).values_list("status", "reach_limited").first()
        if current is None:
            return
        status, reach_limited = current
        published = status == Article.Status.PUBLISHED
        if not published or reach_limited:
            # Out of every list now; the lists that lost it are refilled in the background.
            for pk in drop_everywhere(article.pk):
                refresh_related.enqueue(pk, False)
        if not published:
            drop_vector(article.pk)
            from masthead.discovery.models import RelatedArticle

            RelatedArticle.objects.filter(article_id=article.pk).delete()
            return
        refresh_related.enqueue(article.pk, not reach_limited)
    except Exception:
        # The workflow has committed: a failed refresh must not turn the editor's action into an error.
        log.exception("相关推荐 refresh failed for article %s", article.pk)
