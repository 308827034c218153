"""Models of the search index (owned by the search engine; see discovery/backends/).

`SearchEntry` records which articles are in the index, on every database. The terms themselves live
where each engine wants them: on SQLite in the FTS5 table `discovery_search_fts` (made by migration
0002, rowid = article id), on PostgreSQL in the tsvector columns `document` (migration 0002) and
`head` (title and meta only, migration 0003) that are added to this model's table, each with a GIN
index. See docs/search.md.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["SearchEntry"]

FTS_TABLE = "discovery_search_fts"


class SearchEntry(models.Model):
    """One article in the search index."""

    article = models.OneToOneField(
        "articles.Article", on_delete=models.CASCADE, primary_key=True, related_name="search_entry"
    )
    indexed_at = models.DateTimeField(auto_now=True)
    # SQLite only: the token columns as indexed (zlib'd JSON). A contentless FTS5 table needs the old
    # values to delete a row, and SQLite before 3.43 has no contentless_delete.
    payload = models.BinaryField(null=True, editable=False)

    class Meta:
        verbose_name = _("搜索索引")
        verbose_name_plural = _("搜索索引")

    def __str__(self) -> str:
        return f"indexed {self.article_id}"
