"""Keeping the search index in step with what readers may see.

`on_article_changed` (connected to masthead.articles.signals.article_changed, sent after commit on
publish, edit, removal, restore and marks) indexes a published article and drops any other at once,
so a removed article disappears from results immediately. `reindex()` rebuilds everything.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterator

from masthead.articles.models import Article
from masthead.discovery import text
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


def _tokenize(documents: list[Document]) -> list[tuple[int, dict[str, list[str]]]]:
    return [(doc.article_id, doc.columns()) for doc in documents]


def _batches(ids: list[int], batch: int) -> Iterator[list[Document]]:
    published = Article.objects.filter(status=Article.Status.PUBLISHED)
    for start in range(0, len(ids), batch):
        articles = _with_relations(published.filter(pk__in=ids[start : start + batch])).defer("body_html")
        yield [document_for(a) for a in articles]


def reindex(
    *,
    batch: int = 500,
    clear: bool = False,
    progress: Callable[[int, int], None] | None = None,
    workers: int | None = None,
) -> int:
    """Index every published article and drop entries of unpublished ones; returns how many are indexed.

    Segmentation is the cost, so it runs in `workers` processes (default: one per CPU, forked, no
    database use) while this process reads the next batch and writes one transaction per batch.
    Articles not in the index yet are written without looking for old rows to delete.
    """
    backend = get_backend()
    if clear:
        backend.clear()
    stale = list(
        SearchEntry.objects.exclude(article__status=Article.Status.PUBLISHED).values_list("article_id", flat=True)
    )
    for start in range(0, len(stale), batch):
        backend.remove(stale[start : start + batch])
    ids = list(Article.objects.filter(status=Article.Status.PUBLISHED).order_by("pk").values_list("pk", flat=True))
    indexed = set(SearchEntry.objects.values_list("article_id", flat=True)) if ids else set()
    text.refresh_user_dictionary()  # before forking, so every worker segments alike
    workers = workers if workers is not None else (os.cpu_count() or 1)
    done = 0

    def store(rows: list[tuple[int, dict[str, list[str]]]]) -> None:
        nonlocal done
        backend.write(rows, replace=any(pk in indexed for pk, _ in rows))
        done += len(rows)
        if progress:
            progress(done, len(ids))

    if workers <= 1 or len(ids) <= batch:
        for documents in _batches(ids, batch):
            store(_tokenize(documents))
        backend.optimize()
        return done
    # Children only segment (no database use) and leave with os._exit, so the open connection is safe.
    # All reads and writes stay in this thread; at most `workers` batches are in flight.
    pending: deque = deque()
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        for documents in _batches(ids, batch):
            pending.append(pool.apply_async(_tokenize, (documents,)))
            if len(pending) > workers:
                store(pending.popleft().get())
        while pending:
            store(pending.popleft().get())
    backend.optimize()
    return done
