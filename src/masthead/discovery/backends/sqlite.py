"""SQLite FTS5 engine: a contentless FTS5 table over our own tokens, ranked by bm25 per column.

Each column holds space-joined tokens (search-mode words, or Han bigrams), so FTS5's unicode61
tokenizer only splits on the spaces we put there. bm25() weights the columns (word columns above bigram
columns, title above body) and the score is lifted for recent articles. The table is contentless to
keep the database small; SearchEntry.payload keeps the tokens a row was indexed with, because FTS5
needs them to delete the row.
"""

from __future__ import annotations

import json
import zlib

from django.db import connection, transaction

from masthead.discovery.backends.base import (
    COLUMNS,
    RECENCY_BOOST,
    RECENCY_DAYS,
    WEIGHTS,
    Document,
    Filters,
    Page,
    Query,
    SearchBackend,
    Term,
)
from masthead.discovery.search_models import FTS_TABLE, SearchEntry

WORD_COLUMNS = "{title_w meta_w body_w}"
GRAM_COLUMNS = "{title_g meta_g body_g}"
_COLS = ", ".join(COLUMNS)
_MARKS = ", ".join(["%s"] * len(COLUMNS))


def _quote(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


def term_expression(term: Term) -> str:
    """FTS5 syntax for one term: all its words in the word columns, or its bigrams as a phrase."""
    words = " AND ".join(_quote(w) + ("*" if term.prefix else "") for w in term.words)
    parts = [f"{WORD_COLUMNS} : ({words})"]
    if len(term.grams) == 1 and len(term.grams[0]) == 1:
        # A single Han character: any bigram starting with it (bigrams are indexed, not characters).
        parts.append(f"{GRAM_COLUMNS} : {_quote(term.grams[0])}*")
    elif term.grams:
        parts.append(f"{GRAM_COLUMNS} : {_quote(' '.join(term.grams))}")
    return "(" + " OR ".join(parts) + ")"


def match_expression(query: Query, any_term: bool = False) -> str:
    joiner = " OR " if any_term else " AND "
    return joiner.join(term_expression(t) for t in query.terms)


def _pack(columns: list[str]) -> bytes:
    return zlib.compress(json.dumps(columns, ensure_ascii=False).encode(), 6)


def _unpack(payload: bytes) -> list[str]:
    return json.loads(zlib.decompress(bytes(payload)))


class SqliteBackend(SearchBackend):
    vendor = "sqlite"

    def index(self, documents: list[Document]) -> None:
        if not documents:
            return
        rows = []
        for doc in documents:
            cols = doc.columns()
            rows.append((doc.article_id, [" ".join(cols[c]) for c in COLUMNS]))
        with transaction.atomic():
            self._delete_rows([doc.article_id for doc in documents])
            with connection.cursor() as cursor:
                cursor.executemany(
                    f"INSERT INTO {FTS_TABLE} (rowid, {_COLS}) VALUES (%s, {_MARKS})",
                    [(pk, *values) for pk, values in rows],
                )
            SearchEntry.objects.bulk_create(
                [SearchEntry(article_id=pk, payload=_pack(values)) for pk, values in rows],
                update_conflicts=True,
                unique_fields=["article"],
                update_fields=["payload", "indexed_at"],
            )

    def _delete_rows(self, article_ids: list[int]) -> None:
        old = SearchEntry.objects.filter(article_id__in=article_ids, payload__isnull=False)
        deletes = [(pk, *_unpack(payload)) for pk, payload in old.values_list("article_id", "payload")]
        if deletes:
            with connection.cursor() as cursor:
                cursor.executemany(
                    f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}, rowid, {_COLS}) VALUES ('delete', %s, {_MARKS})",
                    deletes,
                )

    def remove(self, article_ids: list[int]) -> None:
        if not article_ids:
            return
        with transaction.atomic():
            self._delete_rows(article_ids)
            SearchEntry.objects.filter(article_id__in=article_ids).delete()

    def clear(self) -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}) VALUES ('delete-all')")
            SearchEntry.objects.all().delete()

    def _where(self, query: Query, filters: Filters, any_term: bool) -> tuple[str, list]:
        sql = ["a.status = 'published'"]
        params: list = [match_expression(query, any_term)]  # for the MATCH in the inner query
        if filters.channel_id:
            sql.append("a.channel_id = %s")
            params.append(filters.channel_id)
        if filters.account_id:
            sql.append("a.account_id = %s")
            params.append(filters.account_id)
        if filters.since:
            sql.append("a.published_at >= %s")
            params.append(connection.ops.adapt_datetimefield_value(filters.since))
        if filters.until:
            sql.append("a.published_at < %s")
            params.append(connection.ops.adapt_datetimefield_value(filters.until))
        return " AND ".join(sql), params

    def search(self, query, filters, *, offset, limit, exclude=(), any_term=False) -> Page:
        if not query.terms:
            return Page([], 0)
        where, params = self._where(query, filters, any_term)
        if exclude:
            where += f" AND f.rowid NOT IN ({', '.join(str(int(pk)) for pk in exclude)})"
        weights = ", ".join(str(WEIGHTS[c]) for c in COLUMNS)
        # One pass gives the page, the number of matches and the debunking articles of matched rumours.
        # CROSS JOIN keeps the FTS table as the outer loop (a filter must not make it a lookup per row).
        sql = (
            f"SELECT f.rowid, count(*) OVER (), "
            f"group_concat(CASE WHEN a.mark = 'rumour' THEN a.debunked_by_id END) OVER () "
            f"FROM (SELECT rowid, bm25({FTS_TABLE}, {weights}) AS score FROM {FTS_TABLE} "
            f"WHERE {FTS_TABLE} MATCH %s) AS f "
            f"CROSS JOIN articles_article AS a ON a.id = f.rowid WHERE {where} "
            f"ORDER BY f.score * (1.0 + {RECENCY_BOOST} / "
            f"(1.0 + max(julianday('now') - julianday(a.published_at), 0) / {RECENCY_DAYS})), a.id DESC "
            f"LIMIT %s OFFSET %s"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, int(limit), int(offset)])
            rows = cursor.fetchall()
            if not rows and offset:  # past the last page: still say how many there are
                cursor.execute(sql, [*params, 1, 0])
                first = cursor.fetchall()
                return Page([], first[0][1] if first else 0, _ids(first[0][2]) if first else [])
        if not rows:
            return Page([], 0)
        return Page([r[0] for r in rows], rows[0][1], _ids(rows[0][2]))


def _ids(joined: str | None) -> list[int]:
    return sorted({int(x) for x in joined.split(",")}) if joined else []
