"""Chinese text analysis: the one place that decides what a word is.

Search, 相关推荐 and interest tags all call these functions, so they agree on tokens.

- Segmenter: rjieba (jieba's dictionary and algorithm in Rust). It gives the same words as jieba at
  many times the speed and supports a user dictionary (add_word); measured in bench/segmenters.py,
  figures in docs/search.md.
- normalize(): NFKC (full-width → half-width) and lower case, applied before anything else.
- Latin words and numbers stay whole ("s-300", "gpt-4o", "3.14"); a number followed by a Han unit is
  two words ("2026年" → "2026", "年"), which is what the segmenter does and lets "2026" match alone.
- bigrams(): overlapping Han character pairs, the recall net under word segmentation (a reader's words
  and the segmenter's words often disagree); an isolated Han character is its own gram.
- keywords(): TF-IDF with document frequencies from discovery.models.TermStat (kept by the 相关推荐
  code) and the published-article count; jieba's bundled IDF table stands in while TermStat is empty.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
import unicodedata
from collections import Counter
from functools import cache
from importlib import resources
from pathlib import Path

import rjieba

log = logging.getLogger(__name__)

# Han ideographs: CJK Unified (+ Extension A) and Compatibility Ideographs.
HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HAN_RUN = re.compile(f"[{HAN}]+")
_HAS_HAN = re.compile(f"[{HAN}]")
_WORDISH = re.compile(r"\w")
# Trim punctuation around a token but keep the trailing "+"/"#" of c++ and c#.
_EDGE = re.compile(r"^[^\w]+|[^\w+#]+$")
_SPACE_IN_NAME = re.compile(r"\s")

MAX_TERM_LENGTH = 40  # TermStat.term's max_length; longer tokens are noise (URLs, hashes)
IDF_TTL = 300  # seconds the corpus IDF table is kept in memory


def normalize(text: str) -> str:
    """NFKC (full-width letters, digits and punctuation become half-width) and lower case."""
    return unicodedata.normalize("NFKC", text or "").lower()


@cache
def stopwords() -> frozenset[str]:
    path = Path(__file__).with_name("data") / "stopwords.txt"
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def _clean(tokens: list[str]) -> list[str]:
    """Drop whitespace, punctuation and stopwords; trim punctuation glued to Latin tokens."""
    stop = stopwords()
    out = []
    for token in tokens:
        if not _WORDISH.search(token):
            continue
        if not _HAS_HAN.search(token):
            token = _EDGE.sub("", token)
            if not token:
                continue
        if token in stop or len(token) > MAX_TERM_LENGTH:
            continue
        out.append(token)
    return out


def words(text: str) -> list[str]:
    """Segmented words of `text` in order (precise mode), for indexing and similarity."""
    _ensure_user_dictionary()
    return _clean(rjieba.cut(normalize(text)))


def search_words(text: str) -> list[str]:
    """Search-mode segmentation: long words plus the shorter words inside them ("人工智能" → 人工, 智能, …)."""
    _ensure_user_dictionary()
    return _clean(rjieba.cut_for_search(normalize(text)))


def bigrams(text: str) -> list[str]:
    """Overlapping Han character bigrams of each Han run in order; a lone Han character stays whole."""
    grams: list[str] = []
    for run in _HAN_RUN.findall(normalize(text)):
        if len(run) == 1:
            grams.append(run)
        else:
            grams.extend(run[i : i + 2] for i in range(len(run) - 1))
    return grams


def han_runs(text: str) -> list[str]:
    """The runs of Han characters in `text` (normalized), for callers that build phrase queries."""
    return _HAN_RUN.findall(normalize(text))


def has_han(text: str) -> bool:
    return bool(_HAS_HAN.search(text))


# --- keywords (TF-IDF) -------------------------------------------------------------------------


def _is_keyword(term: str) -> bool:
    """Single Han characters and bare numbers are too vague to describe an article."""
    if _HAS_HAN.search(term):
        return len(term) >= 2
    return len(term) >= 2 and not term.replace(".", "").isdigit()


class _Idf:
    """Document frequencies from TermStat, cached per process for IDF_TTL seconds."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loaded_at = -math.inf
        self._df: dict[str, int] = {}
        self._docs = 0

    def invalidate(self) -> None:
        self._loaded_at = -math.inf

    def table(self) -> tuple[dict[str, int], int]:
        if time.monotonic() - self._loaded_at > IDF_TTL:
            with self._lock:
                if time.monotonic() - self._loaded_at > IDF_TTL:
                    self._load()
        return self._df, self._docs

    def _load(self) -> None:
        from masthead.articles.models import Article
        from masthead.discovery.models import TermStat

        try:
            self._df = dict(TermStat.objects.values_list("term", "df").iterator(chunk_size=5000))
            self._docs = Article.objects.filter(status=Article.Status.PUBLISHED).count() if self._df else 0
        except Exception:  # no database yet (migrations, scripts): use the bundled table meanwhile
            log.debug("TermStat unavailable, using the bundled IDF", exc_info=True)
            self._df, self._docs = {}, 0
            return
        self._loaded_at = time.monotonic()


_idf = _Idf()


def invalidate_idf() -> None:
    """Forget the cached corpus statistics (call after rebuilding TermStat)."""
    _idf.invalidate()


@cache
def _bundled_idf() -> tuple[dict[str, float], float]:
    """jieba's IDF table (general Chinese text) and its median, for unknown terms."""
    table: dict[str, float] = {}
    text = resources.files("jieba.analyse").joinpath("idf.txt").read_text(encoding="utf-8")
    for line in text.splitlines():
        term, _, value = line.partition(" ")
        if value:
            table[term] = float(value)
    values = sorted(table.values())
    return table, values[len(values) // 2] if values else 10.0


def idf(term: str) -> float:
    """Smoothed IDF of `term` over our published corpus (or jieba's bundled table while it is empty)."""
    df, docs = _idf.table()
    if docs and df:
        return math.log((docs + 1) / (df.get(term, 0) + 1)) + 1.0
    table, median = _bundled_idf()
    return table.get(term, median)


def keywords(text: str, k: int = 10) -> list[tuple[str, float]]:
    """The `k` strongest terms of `text` by TF-IDF (sublinear tf), strongest first, with their weights."""
    counts = Counter(t for t in words(text) if _is_keyword(t))
    if not counts:
        return []
    scored = [(term, (1.0 + math.log(n)) * idf(term)) for term, n in counts.items()]
    scored.sort(key=lambda item: (-item[1], item[0]))
    return scored[:k]


# --- user dictionary ---------------------------------------------------------------------------

_dictionary_lock = threading.Lock()
_dictionary_loaded = False
_dictionary_retry_at = 0.0  # after a failed load (no database yet), when to try again
_added: set[str] = set()


def _dictionary_terms() -> set[str]:
    from masthead.accounts.models import Account
    from masthead.articles.models import Tag
    from masthead.channels.models import Channel

    names: set[str] = set()
    names.update(Channel.objects.values_list("name", flat=True))
    names.update(Tag.objects.values_list("name", flat=True))
    names.update(Account.objects.values_list("name", flat=True))
    return {normalize(n).strip() for n in names}


def add_words(names: set[str] | list[str]) -> int:
    """Teach the segmenter these names (channel, tag and account names) so they stay one word."""
    added = 0
    for name in names:
        name = normalize(name).strip()
        # A name with spaces can never be one token; one character is already a token.
        if len(name) < 2 or _SPACE_IN_NAME.search(name) or name in _added:
            continue
        rjieba.add_word(name, None, None)
        _added.add(name)
        added += 1
    return added


def refresh_user_dictionary() -> int:
    """Add channel, tag and creator account names to the segmenter; returns how many were new.

    Called lazily before the first segmentation and by discovery.text_signals when a name changes.
    Renamed-away names stay known until restart (rjieba cannot delete words); that only keeps an old
    name whole, which harms nothing.
    """
    global _dictionary_loaded, _dictionary_retry_at
    with _dictionary_lock:
        try:
            terms = _dictionary_terms()
        except Exception:  # no database (yet): segment with the base dictionary, try again later
            log.debug("user dictionary not loaded", exc_info=True)
            _dictionary_retry_at = time.monotonic() + 30
            return 0
        _dictionary_loaded = True
        return add_words(terms)


def _ensure_user_dictionary() -> None:
    if not _dictionary_loaded and time.monotonic() >= _dictionary_retry_at:
        refresh_user_dictionary()
