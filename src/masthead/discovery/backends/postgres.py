"""PostgreSQL engine: one tsvector per article over our own tokens, a GIN index, ts_rank + recency.

The tsvector is built in Python from the same six token columns as on SQLite, with weights that
carry the ranking: A title words, B title bigrams and meta words, C body words and meta bigrams,
D body bigrams. Bigrams are stored with a "~" prefix so that a bigram never counts as a word.
Positions follow the token order, so a term's bigrams are matched as a phrase (<->).
"""

from __future__ import annotations

from django.db import connection, transaction

from masthead.discovery.backends.base import (
    RECENCY_BOOST,
    RECENCY_DAYS,
    Document,
    Filters,
    Page,
    Query,
    SearchBackend,
    Term,
)
from masthead.discovery.search_models import SearchEntry

WEIGHT_OF = {"title_w": "A", "title_g": "B", "meta_w": "B", "body_w": "C", "meta_g": "C", "body_g": "D"}
RANK_WEIGHTS = "{0.05, 0.2, 0.5, 1.0}"  # D, C, B, A
GRAM = "~"
MAX_POSITION = 16383  # PostgreSQL's limit; later tokens share it (still found, not as phrases)


def _lexeme(token: str) -> str:
    return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"


def tsvector_literal(columns: dict[str, list[str]]) -> str:
    entries: dict[str, list[str]] = {}
    position = 0
    for name in ("title_w", "title_g", "meta_w", "meta_g", "body_w", "body_g"):
        weight = WEIGHT_OF[name]
        prefix = GRAM if name.endswith("_g") else ""
        position += 1  # a gap: a phrase must not run from one column into the next
        for token in columns[name]:
            position = min(position + 1, MAX_POSITION)
            entries.setdefault(prefix + token, []).append(f"{position}{weight}")
    # A lexeme keeps at most 256 positions; the rest add nothing to ranking.
    return " ".join(f"{_lexeme(t)}:{','.join(p[:256])}" for t, p in entries.items())


def term_tsquery(term: Term) -> str:
    words = " & ".join(_lexeme(w) + (":*" if term.prefix else "") for w in term.words)
    parts = [f"({words})"]
    if len(term.grams) == 1 and len(term.grams[0]) == 1:
        parts.append(_lexeme(GRAM + term.grams[0]) + ":*")
    elif term.grams:
        parts.append("(" + " <-> ".join(_lexeme(GRAM + g) for g in term.grams) + ")")
    return "(" + " | ".join(parts) + ")"


def tsquery_literal(query: Query, any_term: bool = False) -> str:
    return (" | " if any_term else " & ").join(term_tsquery(t) for t in query.terms)


class PostgresBackend(SearchBackend):
    vendor = "postgresql"

    def index(self, documents: list[Document]) -> None:
        if not documents:
            return
        rows = [(doc.article_id, tsvector_literal(doc.columns())) for doc in documents]
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO discovery_searchentry (article_id, indexed_at, document) VALUES (%s, now(), %s::tsvector) "
                "ON CONFLICT (article_id) DO UPDATE SET document = EXCLUDED.document, indexed_at = now()",
                rows,
            )

    def remove(self, article_ids: list[int]) -> None:
        if article_ids:
            SearchEntry.objects.filter(article_id__in=article_ids).delete()

    def clear(self) -> None:
        SearchEntry.objects.all().delete()

    def search(self, query, filters: Filters, *, offset, limit, exclude=(), any_term=False) -> Page:
        if not query.terms:
            return Page([], 0)
        where = ["e.document @@ q.query", "a.status = 'published'"]
        params: list = [tsquery_literal(query, any_term)]
        if filters.channel_id:
            where.append("a.channel_id = %s")
            params.append(filters.channel_id)
        if filters.account_id:
            where.append("a.account_id = %s")
            params.append(filters.account_id)
        if filters.since:
            where.append("a.published_at >= %s")
            params.append(filters.since)
        if filters.until:
            where.append("a.published_at < %s")
            params.append(filters.until)
        if exclude:
            where.append("e.article_id <> ALL(%s)")
            params.append([int(pk) for pk in exclude])
        sql = (
            "SELECT e.article_id, count(*) OVER (), "
            "string_agg(CASE WHEN a.mark = 'rumour' THEN a.debunked_by_id::text END, ',') OVER () "
            "FROM discovery_searchentry e CROSS JOIN (SELECT %s::tsquery AS query) q "
            "JOIN articles_article a ON a.id = e.article_id "
            f"WHERE {' AND '.join(where)} "
            f"ORDER BY ts_rank('{RANK_WEIGHTS}', e.document, q.query) * (1.0 + {RECENCY_BOOST} / "
            f"(1.0 + greatest(extract(epoch from now() - a.published_at) / 86400.0, 0) / {RECENCY_DAYS})) DESC, "
            "a.id DESC LIMIT %s OFFSET %s"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, int(limit), int(offset)])
            rows = cursor.fetchall()
            if not rows and offset:
                cursor.execute(sql, [*params, 1, 0])
                rows_first = cursor.fetchall()
                if not rows_first:
                    return Page([], 0)
                return Page([], rows_first[0][1], _ids(rows_first[0][2]))
        if not rows:
            return Page([], 0)
        return Page([r[0] for r in rows], rows[0][1], _ids(rows[0][2]))


def _ids(joined: str | None) -> list[int]:
    return sorted({int(x) for x in joined.split(",")}) if joined else []
