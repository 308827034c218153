"""PostgreSQL engine: one tsvector per article over our own tokens, a GIN index, ts_rank + recency.

The tsvector is built in Python from the same six token columns as on SQLite, with weights that
carry the ranking: A title words, B title bigrams and meta words, C body words and meta bigrams,
D body bigrams. Bigrams are stored with a "~" prefix so that a bigram never counts as a word.
Positions follow the token order, so a term's bigrams are matched as a phrase (<->).
"""

from __future__ import annotations

from django.db import connection, transaction

from masthead.discovery.backends.base import (
    ARM_LIMIT,
    ARMS,
    CANDIDATES,
    Candidate,
    Filters,
    Query,
    SearchBackend,
    Term,
)
from masthead.discovery.search_models import SearchEntry

WEIGHT_OF = {"title_w": "A", "title_g": "B", "meta_w": "B", "body_w": "C", "meta_g": "C", "body_g": "D"}
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


# Weight labels that make each candidate arm (base.ARMS): (for the word part, for the bigram part);
# None leaves that part out. A title words, B title bigrams and meta words, C meta bigrams and body words.
ARM_WEIGHTS = {
    "all": ("", ""),
    "title": ("A", "B"),
    "title_words": ("A", None),
    "words": ("ABC", None),
    "meta": ("B", "C"),
}


def term_tsquery(term: Term, arm: str = "all") -> str:
    word_weight, gram_weight = ARM_WEIGHTS[arm]
    label = ":" + ("*" if term.prefix else "") + word_weight if term.prefix or word_weight else ""
    parts = ["(" + " & ".join(_lexeme(w) + label for w in term.words) + ")"]
    if gram_weight is not None:
        if len(term.grams) == 1 and len(term.grams[0]) == 1:
            parts.append(_lexeme(GRAM + term.grams[0]) + ":*" + gram_weight)
        elif term.grams:
            gram_label = ":" + gram_weight if gram_weight else ""
            parts.append("(" + " <-> ".join(_lexeme(GRAM + g) + gram_label for g in term.grams) + ")")
    return "(" + " | ".join(parts) + ")"


def tsquery_literal(query: Query, any_term: bool = False, arm: str = "all") -> str:
    return (" | " if any_term else " & ").join(term_tsquery(t, arm) for t in query.terms)


class PostgresBackend(SearchBackend):
    vendor = "postgresql"

    def write(self, rows, *, replace: bool = True) -> None:
        if not rows:
            return
        values = [(pk, tsvector_literal(columns)) for pk, columns in rows]
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO discovery_searchentry (article_id, indexed_at, document) VALUES (%s, now(), %s::tsvector) "
                "ON CONFLICT (article_id) DO UPDATE SET document = EXCLUDED.document, indexed_at = now()",
                values,
            )

    def optimize(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE discovery_searchentry")  # fresh statistics after a bulk rebuild

    def remove(self, article_ids: list[int]) -> None:
        if article_ids:
            SearchEntry.objects.filter(article_id__in=article_ids).delete()

    def clear(self) -> None:
        SearchEntry.objects.all().delete()

    def candidates(self, query, filters, *, exclude=(), any_term=False) -> tuple[list[Candidate], bool]:
        where, where_params = _where(filters, exclude)
        arms_sql, params = [], []
        for number, arm in enumerate(ARMS):
            keep = CANDIDATES if arm == "all" else ARM_LIMIT
            arms_sql.append(
                f"(SELECT e.article_id AS id, {number} AS arm FROM discovery_searchentry e "
                "JOIN articles_article a ON a.id = e.article_id "
                f"WHERE e.document @@ %s::tsquery AND {where} ORDER BY e.article_id DESC LIMIT {keep})"
            )
            params += [tsquery_literal(query, any_term, arm), *where_params]
        sql = (
            "SELECT c.id, string_agg(c.arm::text, ','), a.title, a.published_at, "
            "CASE WHEN a.mark = 'rumour' THEN a.debunked_by_id END "
            f"FROM ({' UNION ALL '.join(arms_sql)}) c JOIN articles_article a ON a.id = c.id "
            "GROUP BY c.id, a.id"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        candidates, in_all = [], 0
        for pk, arms, title, published_at, debunker in rows:
            kinds = {ARMS[int(n)] for n in arms.split(",")}
            in_all += "all" in kinds
            candidates.append(Candidate(pk, title, published_at, kinds, debunker))
        return candidates, in_all >= CANDIDATES


def _where(filters: Filters, exclude) -> tuple[str, list]:
    where = ["a.status = 'published'"]
    params: list = []
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
        where.append("a.id <> ALL(%s)")
        params.append([int(pk) for pk in exclude])
    return " AND ".join(where), params
