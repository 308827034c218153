"""Keeping the search index in step with what readers may see.

`on_article_changed` (connected to masthead.articles.signals.article_changed, sent after commit on
publish, edit, removal, restore and marks) indexes a published article and drops any other at once,
so a removed article disappears from results immediately. `reindex()` rebuilds everything.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from django.db import transaction

from masthead.articles.models import Article
from masthead.discovery.backends import get_backend
from masthead.discovery.backends.base import Document
from masthead.discovery.search_models import SearchEntry

log = logging.getLogger(__name__)


def document_for(article: Article) -> Document:
    """The indexed text of an article. `tags`, `account` and `channel` should be prefetched."""
    meta = [article.summary, article.account.name, article.channel.name, *(t.name for t in article.tags.all())]
    return Document(article.pk, article.title, "\n".join(m for m in meta if m), article.body_text)


def _with_relations(qs):
    return qs.select_related("account", "channel").prefetch_related("tags")


def index_article(article: Article | int) -> bool:
    """Index `article` if it is published, else take it out. Returns whether it is in the index now."""
    pk = article.pk if isinstance(article, Article) else int(article)
    fresh = _with_relations(Article.objects.filter(pk=pk)).first()  # the state after the commit
    if fresh is None or fresh.status != Article.Status.PUBLISHED:
        unindex_article(pk)
        return False
    get_backend().index([document_for(fresh)])
    return True


def unindex_article(article: Article | int) -> None:
    pk = article.pk if isinstance(article, Article) else int(article)
    get_backend().remove([pk])


def on_article_changed(sender, article: Article, **kwargs) -> None:
    try:
        index_article(article)
    except Exception:
        # The workflow has committed; a failed index update must not turn the editor's action into an
        # error page. `masthead reindex` repairs the index.
        log.exception("search index update failed for article %s", article.pk)


def reindex(*, batch: int = 500, clear: bool = False, progress: Callable[[int, int], None] | None = None) -> int:
    """Index every published article and drop entries of unpublished ones; returns how many are indexed."""
    backend = get_backend()
    if clear:
        backend.clear()
    published = Article.objects.filter(status=Article.Status.PUBLISHED)
    stale = list(
        SearchEntry.objects.exclude(article__status=Article.Status.PUBLISHED).values_list("article_id", flat=True)
    )
    for start in range(0, len(stale), batch):
        backend.remove(stale[start : start + batch])
    ids = list(published.order_by("pk").values_list("pk", flat=True))
    done = 0
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        articles: Iterable[Article] = _with_relations(published.filter(pk__in=chunk)).defer("body_html")
        with transaction.atomic():
            backend.index([document_for(a) for a in articles])
        done += len(chunk)
        if progress:
            progress(done, len(ids))
    return done
