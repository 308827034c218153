"""Pagination of article lists that stays fast deep into 100,000 articles.

The page's ids come from an index-only query, the rows are then fetched by primary key, and the
total (a COUNT over the whole list) is cached until the next publish.
"""

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.functional import cached_property

from masthead.articles.models import Article
from masthead.articles.queries import by_ids
from masthead.web.pagecache import cached_fragment

PAGE_SIZE = 20


class CachedCountPaginator(Paginator):
    def __init__(self, object_list, per_page: int, *, count_key: str):
        super().__init__(object_list, per_page)
        self.count_key = count_key

    @cached_property
    def count(self) -> int:
        return cached_fragment(f"count:{self.count_key}", ["fronts"], self.object_list.count, timeout=300)


def article_page(request: HttpRequest, qs: QuerySet[Article], *, count_key: str, size: int = PAGE_SIZE) -> Page:
    """The requested page of published articles in `qs`'s order (out-of-range numbers give the last page)."""
    paginator = CachedCountPaginator(qs.values_list("pk", flat=True), size, count_key=count_key)
    page = paginator.get_page(request.GET.get("page"))
    ids = list(page.object_list)
    rows = {a.pk: a for a in by_ids(ids)}
    page.object_list = [rows[pk] for pk in ids if pk in rows]
    return page
