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
from datetime import UTC, datetime

from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from masthead.discovery.backends.base import (
    ARM_LIMIT,
    ARMS,
    CANDIDATES,
    COLUMNS,
    FILTER_SCAN,
    RANKED,
    Candidate,
    Filters,
    Query,
    SearchBackend,
    Term,
)
from masthead.discovery.search_models import FTS_TABLE, SearchEntry

WORD_COLUMNS = "{title_w meta_w body_w}"
GRAM_COLUMNS = "{title_g meta_g body_g}"
# Column filters that make each candidate arm (base.ARMS); FTS5 intersects them with the term's own.
ARM_COLUMNS = {
    "title": "{title_w title_g}",
    "title_words": "{title_w}",
    "words": "{title_w meta_w body_w}",
    "meta": "{meta_w meta_g}",
}
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
    return zlib.compress(json.dumps(columns, ensure_ascii=False).encode(), 1)


def _unpack(payload: bytes) -> list[str]:
    return json.loads(zlib.decompress(bytes(payload)))


class SqliteBackend(SearchBackend):
    vendor = "sqlite"

    def write(self, rows, *, replace: bool = True) -> None:
        if not rows:
            return
        joined = [(pk, [" ".join(cols[c]) for c in COLUMNS]) for pk, cols in rows]
        with transaction.atomic():
            if replace:
                self._delete_rows([pk for pk, _ in joined])
            with connection.cursor() as cursor:
                cursor.executemany(
                    f"INSERT INTO {FTS_TABLE} (rowid, {_COLS}) VALUES (%s, {_MARKS})",
                    [(pk, *values) for pk, values in joined],
                )
            SearchEntry.objects.bulk_create(
                [SearchEntry(article_id=pk, payload=_pack(values)) for pk, values in joined],
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

    def candidates(self, query, filters, *, exclude=(), any_term=False) -> tuple[list[Candidate], bool]:
        # FTS5 walks its doclists in rowid order, so ORDER BY rowid DESC LIMIT stops early instead of
        # scoring every match; each arm is such a list of ids, without touching the (wide) article rows.
        expression = match_expression(query, any_term)
        where, where_params = _where(filters, ())
        filtered = bool(where_params)
        arms_sql, params = [], []
        for number, arm in enumerate(ARMS):
            columns = ARM_COLUMNS.get(arm)
            keep = CANDIDATES if arm == "all" else ARM_LIMIT
            scan = (FILTER_SCAN if arm == "all" else FILTER_SCAN // 5) if filtered else keep + len(exclude)
            arms_sql.append(
                f"SELECT id, {number} AS arm FROM (SELECT rowid AS id FROM {FTS_TABLE} WHERE {FTS_TABLE} "
                f"MATCH %s ORDER BY rowid DESC LIMIT {scan})"
            )
            params.append(f"{columns} : ({expression})" if columns else expression)
        with connection.cursor() as cursor:
            allowed = None
            if filtered:
                # The ids a filter allows come from the article table's covering indexes
                # (channel/account/status + published_at), not from its rows.
                cursor.execute(f"SELECT a.id FROM articles_article AS a WHERE {where}", where_params)
                allowed = {pk for (pk,) in cursor.fetchall()}
            cursor.execute(" UNION ALL ".join(arms_sql), params)
            arms_of: dict[int, set[str]] = {}
            kept = dict.fromkeys(range(len(ARMS)), 0)
            scanned_all = 0
            skip = {int(pk) for pk in exclude}
            for pk, number in cursor.fetchall():
                scanned_all += number == 0
                limit = CANDIDATES if number == 0 else ARM_LIMIT
                if pk in skip or (allowed is not None and pk not in allowed) or kept[number] >= limit:
                    continue
                kept[number] += 1
                arms_of.setdefault(pk, set()).add(ARMS[number])
            if not arms_of:
                return [], False
            # Only what will be ranked is read from the wide article rows; the rest of the newest
            # matches only fill deep pages, newest first (search.py skips any that is not published).
            newest = sorted((pk for pk, kinds in arms_of.items() if "all" in kinds), reverse=True)
            tail = set(newest[RANKED:])
            ranked = [pk for pk, kinds in arms_of.items() if pk not in tail or len(kinds) > 1]
            marks = ", ".join(["%s"] * len(ranked))
            cursor.execute(
                "SELECT a.id, a.title, a.published_at, CASE WHEN a.mark = 'rumour' THEN a.debunked_by_id END "
                f"FROM articles_article AS a WHERE a.status = 'published' AND a.id IN ({marks})",
                ranked,
            )
            rows = cursor.fetchall()
        candidates = [
            Candidate(pk, title, _datetime(published_at), arms_of[pk], debunker)
            for pk, title, published_at, debunker in rows
        ]
        fetched = {c.article_id for c in candidates}
        candidates += [Candidate(pk, "", None, {"all"}) for pk in newest[RANKED:] if pk not in fetched]
        capped = kept[0] >= CANDIDATES or (filtered and scanned_all >= FILTER_SCAN)
        return candidates, capped


def _datetime(value) -> datetime | None:
    if value is None:
        return None
    parsed = value if isinstance(value, datetime) else parse_datetime(str(value))
    if parsed is not None and timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def _where(filters: Filters, exclude) -> tuple[str, list]:
    sql = ["a.status = 'published'"]
    params: list = []
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
    if exclude:
        sql.append(f"a.id NOT IN ({', '.join(str(int(pk)) for pk in exclude)})")
    return " AND ".join(sql), params
