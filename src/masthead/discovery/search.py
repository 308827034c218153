"""Search: the public API the search page (and anything else) calls.

    search("AI大模型", channel=None, account=None, since=None, until=None, page=1, per_page=10)

returns `Results`: hits (articles with a highlighted title and snippet), total, pages, and suggestions
(channels and accounts whose name, pinyin or pinyin initials match). A fixed number of queries: the
engine's one ranked query (page, total and matched rumours in one pass), one to load the page's
articles, and the name list for suggestions when it is not cached. When a matched rumour has a
debunking article, that article is shown first on page 1.
"""

from __future__ import annotations

import re
import threading
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from math import ceil

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from pypinyin import lazy_pinyin

from masthead.articles.models import Article
from masthead.discovery import text
from masthead.discovery.backends import get_backend
from masthead.discovery.backends.base import Filters, parse

SNIPPET_LENGTH = 110
MAX_PAGE = 50  # deep pages cost more and nobody reads them
SUGGESTION_LIMIT = 5
NAMES_TTL = 60.0


@dataclass
class Hit:
    article: Article
    title: SafeString  # escaped, with <mark> around matched terms
    snippet: SafeString
    debunks: bool = False  # shown first because it debunks a rumour matching the query


@dataclass
class Suggestion:
    kind: str  # "account" | "channel"
    name: str
    url: str


@dataclass
class Results:
    query: str
    hits: list[Hit] = field(default_factory=list)
    total: int = 0
    page: int = 1
    per_page: int = 10
    suggestions: list[Suggestion] = field(default_factory=list)
    capped: bool = False  # there are more matches than `total` (broad queries are not counted to the end)
    relaxed: bool = False  # no article had every term; these have some of them
    searched: bool = False  # False for an empty or junk query (nothing to search for)

    @property
    def pages(self) -> int:
        return min(MAX_PAGE, ceil(self.total / self.per_page)) if self.total else 0

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def _pk(value) -> int | None:
    if value in (None, ""):
        return None
    return int(getattr(value, "pk", value))


def search(
    query: str,
    *,
    channel=None,
    account=None,
    since: datetime | None = None,
    until: datetime | None = None,
    page: int = 1,
    per_page: int = 10,
) -> Results:
    """Published articles matching `query`, best first (see docs/search.md for the ranking)."""
    page = max(1, min(int(page), MAX_PAGE))
    parsed = parse(query)
    results = Results(query=parsed.raw.strip(), page=page, per_page=per_page)
    results.suggestions = suggest(query)
    if not parsed.terms:
        return results
    results.searched = True
    filters = Filters(channel_id=_pk(channel), account_id=_pk(account), since=since, until=until)
    backend = get_backend()
    offset = (page - 1) * per_page
    found = backend.search(parsed, filters, offset=offset, limit=per_page)
    if not found.total and len(parsed.terms) > 1:
        found = backend.search(parsed, filters, offset=offset, limit=per_page, any_term=True)
        results.relaxed = bool(found.total)
    pinned: list[int] = []
    if found.debunked_by:
        # Rare: a rumour matched and has a debunking article. Put that first and rank the rest after it.
        pinned = [a.pk for a in _load(found.debunked_by).values() if a.status == Article.Status.PUBLISHED]
        if pinned:
            first = pinned if page == 1 else []
            offset = max(0, offset - len(pinned)) if page > 1 else 0
            rest = backend.search(
                parsed, filters, offset=offset, limit=per_page - len(first), exclude=pinned, any_term=results.relaxed
            )
            found.ids, found.total = [*first, *rest.ids], rest.total + len(pinned)
            found.capped = rest.capped
    results.total, results.capped = found.total, found.capped
    articles = _load(found.ids)
    marks = parsed.highlights
    for pk in found.ids:
        article = articles.get(pk)
        if article is None or article.status != Article.Status.PUBLISHED:
            continue
        body = article.summary + "\n" + article.body_text if article.summary else article.body_text
        results.hits.append(
            Hit(
                article=article,
                title=highlight(article.title, marks),
                snippet=snippet(body, marks),
                debunks=pk in pinned,
            )
        )
    return results


def _load(ids: list[int]) -> dict[int, Article]:
    if not ids:
        return {}
    return Article.objects.select_related("account", "channel", "cover").defer("body_html").in_bulk(ids)


# --- highlighting -------------------------------------------------------------------------------


def _normalized_with_offsets(value: str) -> tuple[str, Sequence[int]]:
    """normalize() character by character, remembering which original character each one came from."""
    folded = text.normalize(value)
    if len(folded) == len(value):
        return folded, range(len(value))  # the common case (full-width punctuation folds one to one)
    parts, owners = [], []
    for i, ch in enumerate(value):
        n = unicodedata.normalize("NFKC", ch).lower()
        parts.append(n)
        owners.extend([i] * len(n))
    return "".join(parts), owners


def _spans(value: str, terms: list[str]) -> list[tuple[int, int]]:
    """Where the terms occur in `value` (original offsets), longest term first, without overlaps."""
    terms = [t for t in terms if t]
    if not terms or not value:
        return []
    norm, owners = _normalized_with_offsets(value)
    pattern = re.compile("|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)))
    return [(owners[m.start()], owners[m.end() - 1] + 1) for m in pattern.finditer(norm)]


def _marked(value: str, spans: list[tuple[int, int]], start: int = 0, end: int | None = None) -> str:
    end = len(value) if end is None else end
    out, pos = [], start
    for a, b in spans:
        if b <= start or a >= end:
            continue
        a, b = max(a, start), min(b, end)
        out.append(escape(value[pos:a]))
        out.append(f"<mark>{escape(value[a:b])}</mark>")
        pos = b
    out.append(escape(value[pos:end]))
    return "".join(out)


def highlight(value: str, terms: list[str]) -> SafeString:
    """`value` escaped, with <mark> around every occurrence of the terms."""
    return mark_safe(_marked(value, _spans(value, terms)))


def snippet(value: str, terms: list[str], length: int = SNIPPET_LENGTH) -> SafeString:
    """About `length` characters of `value` around the first matched term, highlighted."""
    value = " ".join(value.split())
    spans = _spans(value, terms)
    start = max(0, spans[0][0] - length // 4) if spans else 0
    end = min(len(value), start + length)
    body = _marked(value, spans, start, end)
    return mark_safe(("…" if start else "") + body + ("…" if end < len(value) else ""))


# --- suggestions: accounts and channels by name, pinyin or initials -----------------------------


class _Names:
    """Channel and account names with their pinyin, kept per process for NAMES_TTL seconds."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._at = -NAMES_TTL
        self._rows: list[tuple[str, str, str, str, str]] = []  # kind, name, url, pinyin, initials

    def invalidate(self) -> None:
        self._at = -NAMES_TTL

    def rows(self) -> list[tuple[str, str, str, str, str]]:
        if time.monotonic() - self._at > NAMES_TTL:
            with self._lock:
                if time.monotonic() - self._at > NAMES_TTL:
                    self._rows = self._load()
                    self._at = time.monotonic()
        return self._rows

    def _load(self) -> list[tuple[str, str, str, str, str]]:
        from django.urls import reverse

        from masthead.accounts.models import Account
        from masthead.channels.models import Channel

        rows = []
        for name, slug in Channel.objects.filter(is_active=True).values_list("name", "slug"):
            rows.append(("channel", name, reverse("web:channel", args=[slug]), *_pinyin(name)))
        for name, handle in Account.objects.values_list("name", "handle"):
            rows.append(("account", name, reverse("web:creator", args=[handle]), *_pinyin(name)))
        return rows


def _pinyin(name: str) -> tuple[str, str]:
    syllables = [s for s in lazy_pinyin(text.normalize(name)) if s.strip()]
    return "".join(syllables).replace(" ", ""), "".join(s[0] for s in syllables)


names = _Names()
_LETTERS = re.compile(r"^[a-z0-9]+$")


def suggest(query: str, limit: int = SUGGESTION_LIMIT) -> list[Suggestion]:
    """Channels and accounts whose name contains the query, or whose pinyin or initials start with it."""
    q = "".join(text.normalize(query).split())
    if not q:
        return []
    latin = bool(_LETTERS.match(q))
    if latin and len(q) < 2:
        return []
    scored = []
    for kind, name, url, pinyin, initials in names.rows():
        folded = text.normalize(name).replace(" ", "")
        if q == folded or (latin and q in (pinyin, initials)):
            rank = 0
        elif q in folded:
            rank = 1
        elif latin and (pinyin.startswith(q) or initials.startswith(q)):
            rank = 2
        else:
            continue
        scored.append((rank, kind != "channel", len(name), name, Suggestion(kind, name, url)))
    scored.sort(key=lambda s: s[:4])
    return [s[-1] for s in scored[:limit]]
