"""PostgreSQL engine: two tsvectors per article over our own tokens, each with a GIN index.

The tsvectors are built in Python from the same six token columns as on SQLite. `document` holds all
six, weighted A title words, B title bigrams and meta words, C body words and meta bigrams, D body
bigrams; `head` (migration 0003) holds only the title and meta columns, each lexeme tagged with its
column instead of weighted.
Bigrams are stored with a "~" prefix so that a bigram never counts as a word. Positions follow the
token order, so a term's bigrams are matched as a phrase (<->).

Why two: a weight-restricted tsquery (the title and meta arms) makes PostgreSQL recheck every GIN
match against the stored tsvector, and `document` is large and toasted, so a common word cost seconds.
Those arms use the small, unweighted `head`, which GIN answers without a recheck (phrases excepted);
the "all" and "words" arms need no weights and stay on `document`.
Each arm collects its matches through the GIN index first (a materialized CTE), sorts the ids and only
then joins the article table, stopping at the arm's limit; the planner otherwise tends to walk the
primary key backwards and test every row's tsvector.
"""

from __future__ import annotations

from django.db import connection, transaction

from masthead.discovery.backends.base import (
    ARM_LIMIT,
    ARMS,
    CANDIDATES,
    FILTER_SCAN,
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


DOCUMENT_COLUMNS = ("title_w", "title_g", "meta_w", "meta_g", "body_w", "body_g")
# `head` has no weights: each lexeme carries its column instead ("T" title, "M" meta; tokens are lower
# case, so no token starts with these). A GIN match then needs no recheck, except for phrases.
HEAD_TAG = {"title_w": "T", "title_g": "T", "meta_w": "M", "meta_g": "M"}


def tsvector_literal(columns: dict[str, list[str]], *, head: bool = False) -> str:
    entries: dict[str, list[str]] = {}
    position = 0
    for name in HEAD_TAG if head else DOCUMENT_COLUMNS:
        weight = "" if head else WEIGHT_OF[name]
        prefix = (HEAD_TAG[name] if head else "") + (GRAM if name.endswith("_g") else "")
        position += 1  # a gap: a phrase must not run from one column into the next
        for token in columns[name]:
            position = min(position + 1, MAX_POSITION)
            entries.setdefault(prefix + token, []).append(f"{position}{weight}")
    # A lexeme keeps at most 256 positions; the rest add nothing to ranking.
    return " ".join(f"{_lexeme(t)}:{','.join(p[:256])}" for t, p in entries.items())


# How each candidate arm (base.ARMS) is asked: (column, tag of the word part, tag of the bigram part);
# None leaves the bigram part out. "words" is every term a word token anywhere in `document` (bigrams
# carry "~", so an unprefixed lexeme is always a word); the title and meta arms use `head`'s tags.
ARM_QUERY = {
    "all": ("document", "", ""),
    "title": ("head", "T", "T"),
    "title_words": ("head", "T", None),
    "words": ("document", "", None),
    "meta": ("head", "M", "M"),
}


def term_tsquery(term: Term, arm: str = "all") -> str:
    _, word_tag, gram_tag = ARM_QUERY[arm]
    label = ":*" if term.prefix else ""
    parts = ["(" + " & ".join(_lexeme(word_tag + w) + label for w in term.words) + ")"]
    if gram_tag is not None:
        grams = [_lexeme(gram_tag + GRAM + g) for g in term.grams]
        if len(term.grams) == 1 and len(term.grams[0]) == 1:
            parts.append(grams[0] + ":*")
        elif grams:
            parts.append("(" + " <-> ".join(grams) + ")")
    return "(" + " | ".join(parts) + ")"


def tsquery_literal(query: Query, any_term: bool = False, arm: str = "all") -> str:
    return (" | " if any_term else " & ").join(term_tsquery(t, arm) for t in query.terms)


class PostgresBackend(SearchBackend):
    vendor = "postgresql"

    def write(self, rows, *, replace: bool = True) -> None:
        if not rows:
            return
        values = [(pk, tsvector_literal(columns), tsvector_literal(columns, head=True)) for pk, columns in rows]
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO discovery_searchentry (article_id, indexed_at, document, head) "
                "VALUES (%s, now(), %s::tsvector, %s::tsvector) ON CONFLICT (article_id) DO UPDATE "
                "SET document = EXCLUDED.document, head = EXCLUDED.head, indexed_at = now()",
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
        matches_sql, arms_sql, params = [], [], []
        for number, arm in enumerate(ARMS):
            # Every match's id straight from the GIN index (MATERIALIZED keeps the planner from
            # pushing the LIMIT down into a backward primary-key walk that tests each row)…
            matches_sql.append(
                f"m{number} AS MATERIALIZED (SELECT article_id FROM discovery_searchentry "
                f"WHERE {ARM_QUERY[arm][0]} @@ %s::tsquery)"
            )
            params.append(tsquery_literal(query, any_term, arm))
        filtered = bool(filters.channel_id or filters.account_id or filters.since or filters.until)
        for number, arm in enumerate(ARMS):
            # …then newest first, each checked against its article row by primary key (a LATERAL
            # subquery: always a nested loop, so it stops at the arm's limit instead of merging with a
            # walk over the whole article table). With filters, as on SQLite, only the newest
            # FILTER_SCAN matches are looked at (a fifth for the stronger arms): each check reads a row.
            keep = CANDIDATES if arm == "all" else ARM_LIMIT
            scan = f"LIMIT {FILTER_SCAN if arm == 'all' else FILTER_SCAN // 5}" if filtered else "OFFSET 0"
            arms_sql.append(
                f"(SELECT s.article_id AS id, {number} AS arm "
                f"FROM (SELECT article_id FROM m{number} ORDER BY article_id DESC {scan}) s "
                "CROSS JOIN LATERAL (SELECT 1 FROM articles_article a "
                f"WHERE a.id = s.article_id AND {where} OFFSET 0) ok "
                f"ORDER BY s.article_id DESC LIMIT {keep})"
            )
            params += where_params
        if filtered:  # one more row, id 0: how many matches there are, up to FILTER_SCAN
            arms_sql.append(f"(SELECT 0, count(*) FROM (SELECT 1 FROM m0 LIMIT {FILTER_SCAN}) n)")
        sql = (
            f"WITH {', '.join(matches_sql)} "
            "SELECT c.id, string_agg(c.arm::text, ','), a.title, a.published_at, "
            "CASE WHEN a.mark = 'rumour' THEN a.debunked_by_id END "
            f"FROM ({' UNION ALL '.join(arms_sql)}) c LEFT JOIN articles_article a ON a.id = c.id "
            "GROUP BY c.id, a.id"
        )
        with transaction.atomic(), connection.cursor() as cursor:
            # A sequential scan tests every row's tsvector (detoasting `document`: seconds), but the
            # planner costs it as cheap once a term is common; the GIN index is always the better way.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(sql, params)
            rows = cursor.fetchall()
            cursor.execute("RESET enable_seqscan")  # inside an outer transaction, later queries plan as usual
        scanned = 0
        candidates, in_all = [], 0
        for pk, arms, title, published_at, debunker in rows:
            if pk == 0:
                scanned = int(arms)
                continue
            kinds = {ARMS[int(n)] for n in arms.split(",")}
            in_all += "all" in kinds
            candidates.append(Candidate(pk, title, published_at, kinds, debunker))
        return candidates, in_all >= CANDIDATES or scanned >= FILTER_SCAN


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
