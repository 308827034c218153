"""The search engine interface and what every engine shares: documents and parsed queries.

An article becomes a `Document` of six token columns: words (search-mode segmentation, so both
"人工智能" and "智能" are words) and overlapping Han bigrams, each for the title, the "meta" text
(summary, tags, account and channel names) and the body. A query becomes `Term`s; a term matches an
article when its words are all word tokens there, or when its Han text appears as a run of bigrams
(a substring). Engines rank word matches above bigram-only matches and blend in recency.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from masthead.discovery import text

COLUMNS = ("title_w", "meta_w", "body_w", "title_g", "meta_g", "body_g")
MAX_TERMS = 8  # more terms than this add little and cost a lot; the rest are ignored
MAX_QUERY_LENGTH = 100
# Query chunks: runs of Han characters, or Latin/number tokens (with inner - . + # _).
_LATIN = rf"[^\W_{text.HAN}]"
_CHUNK = re.compile(rf"[{text.HAN}]+|{_LATIN}(?:(?:{_LATIN}|[.+#_-])*(?:{_LATIN}|[+#]))?")

# Ranking (docs/search.md). Engines do not score every match: they fetch a bounded set of candidates
# (the newest matches, plus the newest matches of each stronger kind: every term in the title, every
# term a word of the title, every term a segmenter word, every term in the meta text) and `rank()`
# orders those in Python. So a broad query costs about as much as a narrow one.
CANDIDATES = 500  # newest matches fetched: as many as 50 pages show; also the cap of the count ("500+")
RANKED = 100  # of those, the newest this many are ranked; the rest follow, newest first
ARM_LIMIT = 100  # newest matches of each stronger kind, ranked as well
FILTER_SCAN = 5000  # with filters, at most this many newest matches are looked at (per stronger kind: a fifth)
ARMS = ("all", "title", "title_words", "words", "meta")

# score = (1 + TITLE × share of the query in the title + TITLE_WORDS × [every term a title word]
#          + COVERAGE × share of the title that is the query + WORDS × [every term a word]
#          + META × [every term in summary, tags or names]) × (1 + RECENCY_BOOST / (1 + age_days / RECENCY_DAYS))
RANKING = {"title": 6.0, "title_words": 3.0, "coverage": 2.0, "words": 1.0, "meta": 1.5}
RECENCY_BOOST = 0.5
RECENCY_DAYS = 30.0
_NOT_WORDISH = re.compile(r"[\W_]+")


@dataclass
class Document:
    article_id: int
    title: str
    meta: str
    body: str

    def columns(self) -> dict[str, list[str]]:
        """The token lists of the six indexed columns."""
        return {
            "title_w": text.search_words(self.title),
            "meta_w": text.search_words(self.meta),
            "body_w": text.search_words(self.body),
            "title_g": text.bigrams(self.title),
            "meta_g": text.bigrams(self.meta),
            "body_g": text.bigrams(self.body),
        }


@dataclass
class Term:
    """One thing the reader asked for: a Han run ("大模型") or a Latin/number token ("s-300")."""

    source: str  # normalized text of the term, for highlighting
    words: list[str]  # all must be word tokens of the article…
    grams: list[str] = field(default_factory=list)  # …or these bigrams must follow one another
    prefix: bool = False  # a Latin token also matches as a prefix ("iphone" finds "iphone16")


@dataclass
class Query:
    raw: str
    terms: list[Term]

    @property
    def highlights(self) -> list[str]:
        """Strings to mark in titles and snippets: the terms and the words inside them."""
        found = {t.source for t in self.terms}
        for t in self.terms:
            found.update(w for w in t.words if len(w) > 1 or not text.has_han(w))
        return sorted(found, key=len, reverse=True)


def parse(raw: str) -> Query:
    """Turn what the reader typed into terms; an empty or junk query has no terms."""
    raw = (raw or "")[:MAX_QUERY_LENGTH]
    normalized = text.normalize(raw)
    terms: list[Term] = []
    seen: set[str] = set()
    for chunk in _CHUNK.findall(normalized):
        if chunk in seen:
            continue
        seen.add(chunk)
        if text.has_han(chunk):
            words = [w for w in text.words(chunk) if w]
            if len(chunk) == 1 and chunk in text.stopwords():
                continue
            terms.append(Term(source=chunk, words=words or [chunk], grams=text.bigrams(chunk)))
        else:
            if chunk in text.stopwords():
                continue
            terms.append(Term(source=chunk, words=[chunk], prefix=len(chunk) >= 2))
    return Query(raw=raw, terms=terms[:MAX_TERMS])


@dataclass
class Filters:
    channel_id: int | None = None
    account_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass
class Page:
    ids: list[int]  # article ids, best first
    total: int  # matches in all (for pagination), at most CANDIDATES
    debunked_by: list[int] = field(default_factory=list)  # debunking articles of rumours among the matches
    capped: bool = False  # there are more than `total` matches


@dataclass
class Candidate:
    """A matching article as the engine fetched it, with the kinds of match it is known to have."""

    article_id: int
    title: str
    published_at: datetime | None
    arms: set[str]
    rumour_debunked_by: int | None = None


def _title_share(query: Query, title: str) -> tuple[float, float]:
    """(share of the query's text found in the title, share of the title's text that is the query)."""
    total = found = 0
    for term in query.terms:
        size = len(term.source)
        total += size
        if term.source in title:
            found += size
        elif term.words and all(w in title for w in term.words):
            found += size * 0.7  # the words are there, not side by side
    letters = len(_NOT_WORDISH.sub("", title)) or 1
    return (found / total if total else 0.0), min(1.0, found / letters)


def rank(
    query: Query, candidates: list[Candidate], now: datetime, weights: dict[str, float] | None = None
) -> list[int]:
    """Candidate ids, best first (the formula above); ties go to the newer article."""
    w = weights or RANKING
    scored = []
    for c in candidates:
        in_title, coverage = _title_share(query, text.normalize(c.title))
        relevance = (
            1.0
            + w["title"] * in_title
            + w["coverage"] * coverage
            + w["title_words"] * ("title_words" in c.arms)
            + w["words"] * ("words" in c.arms)
            + w["meta"] * ("meta" in c.arms)
        )
        age_days = max((now - c.published_at).total_seconds() / 86400.0, 0.0) if c.published_at else 365.0
        scored.append((relevance * (1.0 + RECENCY_BOOST / (1.0 + age_days / RECENCY_DAYS)), c.article_id))
    scored.sort(reverse=True)
    return [pk for _, pk in scored]


def page_of(query: Query, candidates: list[Candidate], *, offset: int, limit: int, capped: bool, now: datetime) -> Page:
    """The requested page of the ranked candidates, with the count and the matched rumours' debunkers."""
    if not candidates:
        return Page([], 0)
    newest = sorted((c.article_id for c in candidates if "all" in c.arms), reverse=True)
    scored = set(newest[:RANKED])
    best = [c for c in candidates if c.article_id in scored or len(c.arms) > 1 or "all" not in c.arms]
    ranked = rank(query, best, now)
    seen = set(ranked)
    ranked += [pk for pk in newest if pk not in seen]  # deep pages of broad queries: newest first
    debunkers = sorted({c.rumour_debunked_by for c in candidates if c.rumour_debunked_by})
    total = min(CANDIDATES, len(newest)) if capped else len(ranked)
    return Page(ranked[offset : offset + limit], total, debunkers, capped)


class SearchBackend:
    """What an engine implements. Every method takes and returns plain ids; search.py loads rows."""

    vendor = ""

    def index(self, documents: list[Document]) -> None:
        """Add or replace these articles in the index."""
        self.write([(doc.article_id, doc.columns()) for doc in documents])

    def write(self, rows: list[tuple[int, dict[str, list[str]]]], *, replace: bool = True) -> None:
        """Store already tokenized articles (article id, Document.columns()). `replace=False` promises that
        none of them is in the index yet (a rebuild after clear()), which saves the deletes."""
        raise NotImplementedError

    def optimize(self) -> None:
        """After a bulk rebuild: whatever the engine needs to plan and answer queries well."""

    def remove(self, article_ids: list[int]) -> None:
        """Take these articles out of the index (a no-op for ids that are not in it)."""
        raise NotImplementedError

    def clear(self) -> None:
        raise NotImplementedError

    def search(
        self,
        query: Query,
        filters: Filters,
        *,
        offset: int,
        limit: int,
        exclude: list[int] | tuple = (),
        any_term=False,
    ) -> Page:
        """Matching published article ids, best first, with the total and the debunking articles of any
        matched rumour (`Page.debunked_by`). `any_term` relaxes AND between terms to OR."""
        if not query.terms:
            return Page([], 0)
        found, capped = self.candidates(query, filters, exclude=exclude, any_term=any_term)
        return page_of(query, found, offset=offset, limit=limit, capped=capped, now=timezone.now())

    def candidates(
        self, query: Query, filters: Filters, *, exclude: list[int] | tuple = (), any_term=False
    ) -> tuple[list[Candidate], bool]:
        """The bounded candidate set (see ARMS) and whether the newest-matches arm was cut off."""
        raise NotImplementedError
