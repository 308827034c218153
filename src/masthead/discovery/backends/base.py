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

from masthead.discovery import text

COLUMNS = ("title_w", "meta_w", "body_w", "title_g", "meta_g", "body_g")
MAX_TERMS = 8  # more terms than this add little and cost a lot; the rest are ignored
MAX_QUERY_LENGTH = 100
# Query chunks: runs of Han characters, or Latin/number tokens (with inner - . + # _).
_LATIN = rf"[^\W_{text.HAN}]"
_CHUNK = re.compile(rf"[{text.HAN}]+|{_LATIN}(?:(?:{_LATIN}|[.+#_-])*(?:{_LATIN}|[+#]))?")

# Ranking: how much each column counts (word columns above bigram columns, title above body) and
# how strongly recency lifts a relevance score: score × (1 + RECENCY_BOOST / (1 + age_days / HALF_LIFE)).
WEIGHTS = {"title_w": 10.0, "meta_w": 4.0, "body_w": 1.0, "title_g": 5.0, "meta_g": 2.0, "body_g": 0.5}
RECENCY_BOOST = 0.5
RECENCY_DAYS = 30.0


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
    total: int  # matches in all (for pagination)
    debunked_by: list[int] = field(default_factory=list)  # debunking articles of rumours among the matches


class SearchBackend:
    """What an engine implements. Every method takes and returns plain ids; search.py loads rows."""

    vendor = ""

    def index(self, documents: list[Document]) -> None:
        """Add or replace these articles in the index."""
        raise NotImplementedError

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
        raise NotImplementedError
