"""Reads of articles that pages share, each a fixed number of queries."""

from django.db import connection
from django.db.models import QuerySet

from masthead.articles.models import Article


def published() -> QuerySet[Article]:
    return Article.objects.filter(status=Article.Status.PUBLISHED)


def for_listing(qs: QuerySet[Article] | None = None) -> QuerySet[Article]:
    """Articles with what a list item shows (account, channel, cover) in the same query."""
    qs = published() if qs is None else qs
    return qs.select_related("account", "channel", "cover").defer("body_html", "body_text")


def review_queue() -> QuerySet[Article]:
    """Articles waiting for an editor's approval, the longest-waiting first."""
    return _for_review().filter(status=Article.Status.PENDING).order_by("updated_at", "pk")


def post_review_queue() -> QuerySet[Article]:
    """Articles trusted creators published at once (先发后审), for an editor to look at afterwards."""
    return _for_review().filter(status=Article.Status.PUBLISHED, needs_review=True).order_by("published_at", "pk")


def _for_review() -> QuerySet[Article]:
    return Article.objects.select_related("account", "channel").defer("body_html", "body_text")


def by_ids(ids: list[int]) -> list[Article]:
    """Published articles with these ids, for listing. The status is checked in Python: a status
    condition in SQL makes SQLite walk the status index instead of looking the ids up."""
    if not ids:
        return []
    rows = for_listing(Article.objects.all()).in_bulk(ids).values()
    return [a for a in rows if a.status == Article.Status.PUBLISHED]


def for_page(pk: int) -> Article | None:
    """One article with everything its page shows, in two queries (row + tags)."""
    return (
        Article.objects.select_related("account", "channel", "cover", "debunked_by")
        .prefetch_related("tags")
        .filter(pk=pk)
        .first()
    )


def latest_ids_per_group(column: str, groups: list[int], per_group: int) -> list[int]:
    """Ids of the newest published articles of each group, with one indexed query per group
    glued together by UNION ALL, so the cost does not grow with the number of articles."""
    if not groups:
        return []
    table = connection.ops.quote_name(Article._meta.db_table)
    col = connection.ops.quote_name(column)
    part = (
        f"SELECT * FROM (SELECT id FROM {table} WHERE {col} = %s AND status = %s "
        f"ORDER BY published_at DESC LIMIT {int(per_group)}) AS g{{i}}"
    )
    sql = " UNION ALL ".join(part.format(i=i) for i in range(len(groups)))
    params: list = []
    for group in groups:
        params += [group, Article.Status.PUBLISHED]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]
