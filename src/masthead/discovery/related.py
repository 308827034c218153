"""相关推荐 (related articles): precomputed per article, read by the article page in one query.

`compute_related(article_id)` ranks the articles that share the source's strongest terms and stores
the best LIMIT as RelatedArticle rows with their reasons. It runs when an article is published or
edited (related_tasks.py), never on a page view. Ranking, in order (docs/recommendation.md):

1. Candidates without scanning the corpus: the search index queried with the source's strongest
   words, the newest articles, the newest of its channel, articles sharing a tag, and co-read ones.
2. Cosine of TF-IDF vectors (discovery.vectors), then once more with the query expanded by its ten
   best matches (pseudo-relevance feedback: a short text borrows the vocabulary of its topic).
3. Blend: × (1 + recency + same channel), + co-reading ("readers of this also read").
4. Diversify: a candidate too close to the source or to one already chosen is skipped, so
   near-duplicates never fill the list. Removed, unpublished and limited-reach articles never appear.

`rebuild_related_all()` does the same for every article at once with an in-memory inverted index
(imports, quality measurements).
"""

from __future__ import annotations

import heapq
import logging
import math
from array import array
from collections import Counter, defaultdict
from collections.abc import Callable, Container, Iterable
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from masthead.articles.models import Article
from masthead.articles.queries import for_listing, latest_ids_per_group
from masthead.discovery.models import ArticleVector, RelatedArticle, TermStat
from masthead.discovery.vectors import is_word, update_vector
from masthead.web import pagecache
from masthead.web.pagecache import cached_fragment

log = logging.getLogger(__name__)

LIMIT = 6  # entries stored per article (the page shows up to this many)
FEEDBACK = 10  # best first-pass matches whose vectors expand the query
FEEDBACK_WEIGHT = 1.0  # their mean vector's weight against the source's own (1.0: equal)
FEEDBACK_FLOOR = 0.5  # …counting only matches at least this close to the best one
MIN_DF = 2  # a term no other article has cannot match: left out of the query
INDEX_TERMS = 6  # strongest words sent to the search index…
INDEX_CANDIDATES = 200  # …and how many of its answers are scored
RECENT_CANDIDATES = 300
CHANNEL_CANDIDATES = 50
TAG_CANDIDATES = 100
SHORTLIST = 30  # best by content that the blend and diversification look at
BULK_KEEP = 60  # first-pass matches kept per article by rebuild_related_all
BULK_COMMON_SHARE = 0.05  # …whose first pass skips terms found in more than this share of articles
RECENCY_WEIGHT = 0.1  # a fresh article weighs up to 10 % more than an old one of equal content…
RECENCY_HALF_LIFE_DAYS = 30.0  # …half that after a month
CHANNEL_BONUS = 0.05
CO_READ_WEIGHT = 0.2  # added for articles read by the same readers, saturating with their number
CO_READ_MIN = 2  # readers in common before co-reading counts
CO_READ_READERS = 200  # latest readers of the source looked at
NEAR_DUPLICATE = 0.8  # cosine above which two candidates say the same thing
SAME_AS_SOURCE = 0.95  # cosine above which a candidate is a copy of the source
DUPLICATE_MIN_TERMS = 5  # vectors shorter than this are never judged duplicates
MIN_SCORE = 0.02  # below this, nothing is better than an unrelated recommendation
REASON_WORDS = 3
CO_READ = "co-read"  # reason marker: readers of the source also read it
SAME_CHANNEL = "channel"  # reason marker of the fallback (no computed list yet)


# --- reading (the article page) -----------------------------------------------------------------


def related_articles(article: Article, limit: int = LIMIT) -> list[Article]:
    """The stored 相关推荐 of `article`, each with `.related_reason` (shared words and markers).

    One query on a miss (rows with the related articles joined), none on a hit; the newest of the
    same channel stand in while an article's list has not been computed yet."""

    def build() -> list[Article]:
        rows = (
            RelatedArticle.objects.filter(article_id=article.pk)
            .select_related("related__account", "related__channel", "related__cover")
            .defer("related__body_html", "related__body_text")
            .order_by("rank")[: limit * 2]
        )
        found = []
        for row in rows:
            item = row.related
            if item.status == Article.Status.PUBLISHED and not item.reach_limited:  # rows may lag a change
                item.related_reason = row.reason
                found.append(item)
        return found[:limit] if found else _fallback(article, limit)

    return cached_fragment(f"related:{article.pk}:{limit}", ["fronts", f"article:{article.pk}"], build, timeout=600)


def _fallback(article: Article, limit: int) -> list[Article]:
    # One query along the (channel, status, published_at) index.
    rows = (
        for_listing()
        .filter(channel_id=article.channel_id, status=Article.Status.PUBLISHED, reach_limited=False)
        .exclude(pk=article.pk)
        .order_by("-published_at", "-id")
    )
    items = list(rows[:limit])
    for item in items:
        item.related_reason = [SAME_CHANNEL]
    return items


# --- scoring ----------------------------------------------------------------------------------


@dataclass
class Entry:
    """What ranking needs of a candidate."""

    id: int
    terms: dict[str, float]
    channel_id: int
    published_at: datetime | None


def dot(a: dict[str, float], b: dict[str, float]) -> float:
    return sum([a[t] * b[t] for t in a.keys() & b.keys()])


def _normalised(vector: dict[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum(w * w for w in vector.values())) or 1.0
    return {t: w / norm for t, w in vector.items()}


def query_vector(terms: dict[str, float], df: Callable[[str], int]) -> dict[str, float]:
    """The source's vector without the terms only it has (they cannot match, they only dilute)."""
    return _normalised({t: w for t, w in terms.items() if df(t) >= MIN_DF})


def feedback(scored: list[tuple[int, float]]) -> list[tuple[int, float]]:
    """The first-pass matches that expand the query: the best FEEDBACK, if close to the very best
    (in a small corpus the tenth match may be another topic), each with its share of FEEDBACK_WEIGHT."""
    if not scored or scored[0][1] <= 0:
        return []
    floor = FEEDBACK_FLOOR * scored[0][1]
    best = [(pk, s) for pk, s in scored[:FEEDBACK] if s >= floor]
    total = sum(s for _, s in best)
    return [(pk, FEEDBACK_WEIGHT * s / total) for pk, s in best]


def expand(
    query: dict[str, float], best: list[tuple[dict[str, float], float]], known: Container[str] | None = None
) -> dict[str, float]:
    """Pseudo-relevance feedback: the query plus the weighted mean of its best matches' vectors (only
    the terms in `known`, when given: those more than one article has)."""
    if not best:
        return query
    out = dict(query)
    for vector, share in best:
        for t, w in vector.items():
            if known is None or t in known:
                out[t] = out.get(t, 0.0) + share * w
    return _normalised(out)


def reasons(source: dict[str, float], expanded: dict[str, float], candidate: dict[str, float]) -> list[str]:
    """The words that make a candidate related: shared with the source, else with its topic."""
    for query in (source, expanded):
        shared = sorted(
            ((w * candidate[t], t) for t, w in query.items() if t in candidate and is_word(t)), reverse=True
        )
        if shared:
            return [t for _, t in shared[:REASON_WORDS]]
    return []


def recency(published_at: datetime | None, now: datetime) -> float:
    if published_at is None:
        return 0.0
    age = max((now - published_at).total_seconds() / 86400, 0.0)
    return 0.5 ** (age / RECENCY_HALF_LIFE_DAYS)


def choose(
    source: Entry,
    query: dict[str, float],
    expanded: dict[str, float],
    scored: Iterable[tuple[int, float]],
    entries: dict[int, Entry],
    co_read: dict[int, int],
    now: datetime,
    limit: int = LIMIT,
) -> list[tuple[int, float, list[str]]]:
    """Blend content with recency, channel and co-reading, then pick diversified: (id, score, reasons)."""
    blended = []
    for pk, content in scored:
        entry = entries[pk]
        score = content * (
            1.0
            + RECENCY_WEIGHT * recency(entry.published_at, now)
            + CHANNEL_BONUS * (entry.channel_id == source.channel_id)
        )
        readers = co_read.get(pk, 0)
        if readers >= CO_READ_MIN:
            score += CO_READ_WEIGHT * readers / (readers + 3)
        if score >= MIN_SCORE:
            blended.append((score, pk))
    blended.sort(reverse=True)
    chosen: list[tuple[int, float, list[str]]] = []
    for score, pk in blended:
        terms = entries[pk].terms
        if len(terms) >= DUPLICATE_MIN_TERMS:  # a few shared words alone do not make a duplicate
            if len(source.terms) >= DUPLICATE_MIN_TERMS and dot(source.terms, terms) >= SAME_AS_SOURCE:
                continue
            if any(
                len(entries[other].terms) >= DUPLICATE_MIN_TERMS and dot(entries[other].terms, terms) >= NEAR_DUPLICATE
                for other, _, _ in chosen
            ):
                continue
        why = reasons(query, expanded, terms)
        if co_read.get(pk, 0) >= CO_READ_MIN:
            why.append(CO_READ)
        chosen.append((pk, round(score, 5), why))
        if len(chosen) == limit:
            break
    return chosen


def _top(scores: dict[int, float], n: int) -> list[tuple[int, float]]:
    return heapq.nlargest(n, scores.items(), key=itemgetter(1))


# --- one article (incremental) ----------------------------------------------------------------


def _eligible():
    return ArticleVector.objects.filter(article__status=Article.Status.PUBLISHED, article__reach_limited=False)


def _index_candidates(query: dict[str, float]) -> list[int]:
    """Articles the search index finds for the query's strongest words (any of them), best first."""
    words = [t for t, _ in sorted(query.items(), key=lambda item: -item[1]) if is_word(t)][:INDEX_TERMS]
    if not words:
        return []
    try:
        from masthead.discovery.backends import get_backend
        from masthead.discovery.backends.base import Filters, Query, Term

        terms = [Term(source=w, words=[w]) for w in words]
        with transaction.atomic():  # a savepoint: a failing engine must not spoil the caller's transaction
            page = get_backend().search(
                Query(raw=" ".join(words), terms=terms), Filters(), offset=0, limit=INDEX_CANDIDATES, any_term=True
            )
        return page.ids
    except Exception:  # no engine for this database yet, or an index being rebuilt: other sources remain
        log.warning("search index unavailable for 相关推荐 candidates", exc_info=True)
        return []


def _candidate_ids(article: Article, query: dict[str, float]) -> set[int]:
    ids = set(_index_candidates(query))
    published = Article.objects.filter(status=Article.Status.PUBLISHED)
    ids.update(published.order_by("-published_at").values_list("pk", flat=True)[:RECENT_CANDIDATES])
    ids.update(latest_ids_per_group("channel_id", [article.channel_id], CHANNEL_CANDIDATES))
    through = Article.tags.through.objects
    tag_ids = list(through.filter(article_id=article.pk).values_list("tag_id", flat=True))
    if tag_ids:
        shared = (
            through.filter(tag_id__in=tag_ids)
            .values("article_id")
            .annotate(n=Count("tag_id"))
            .order_by("-n", "-article_id")
            .values_list("article_id", flat=True)[:TAG_CANDIDATES]
        )
        ids.update(shared)
    ids.discard(article.pk)
    return ids


def co_read_counts(article_id: int) -> dict[int, int]:
    """Other articles read by the latest readers of this one: {article id: readers in common}."""
    from masthead.engagement.models import ReadingHistory

    readers = list(
        ReadingHistory.objects.filter(article_id=article_id)
        .order_by("-read_at")
        .values_list("user_id", flat=True)[:CO_READ_READERS]
    )
    if len(readers) < CO_READ_MIN:
        return {}
    rows = (
        ReadingHistory.objects.filter(user_id__in=readers)
        .exclude(article_id=article_id)
        .values("article_id")
        .annotate(n=Count("user_id"))
        .filter(n__gte=CO_READ_MIN)
        .order_by("-n")
        .values_list("article_id", "n")[:SHORTLIST]
    )
    return dict(rows)


def compute_related(article_id: int) -> list[int]:
    """Rank and store the 相关推荐 of one article; returns the related ids, best first.

    An article that is not published loses its list (and its vector)."""
    article = Article.objects.filter(pk=article_id).defer("body_html").first()
    if article is None:
        return []
    if article.status != Article.Status.PUBLISHED:
        RelatedArticle.objects.filter(article_id=article_id).delete()
        return []
    vector = ArticleVector.objects.filter(article_id=article_id).first() or update_vector(article)
    df = dict(TermStat.objects.filter(term__in=list(vector.terms)).values_list("term", "df"))
    query = query_vector(vector.terms, lambda t: df.get(t, 0))
    co_read = co_read_counts(article_id)
    ids = _candidate_ids(article, query) | set(co_read)
    entries = {
        pk: Entry(pk, terms, channel_id, published_at)
        for pk, terms, channel_id, published_at in _eligible()
        .filter(article_id__in=ids)
        .values_list("article_id", "terms", "article__channel_id", "article__published_at")
    }
    first = {pk: dot(query, e.terms) for pk, e in entries.items()}
    expanded = expand(query, [(entries[pk].terms, share) for pk, share in feedback(_top(first, FEEDBACK))])
    second = {pk: dot(expanded, e.terms) for pk, e in entries.items()}
    scored = _top({pk: s for pk, s in second.items() if s > 0 or pk in co_read}, SHORTLIST)
    source = Entry(article.pk, vector.terms, article.channel_id, article.published_at)
    chosen = choose(source, query, expanded, scored, entries, co_read, timezone.now())
    store(article_id, chosen)
    return [pk for pk, _, _ in chosen]


def store(article_id: int, chosen: list[tuple[int, float, list[str]]]) -> None:
    with transaction.atomic():
        RelatedArticle.objects.filter(article_id=article_id).delete()
        RelatedArticle.objects.bulk_create(
            RelatedArticle(article_id=article_id, related_id=pk, rank=rank, score=score, reason=why)
            for rank, (pk, score, why) in enumerate(chosen, start=1)
        )
    pagecache.purge(f"article:{article_id}")


def drop_everywhere(article_id: int) -> list[int]:
    """Take an article out of every list at once; returns the articles whose list lost it."""
    with transaction.atomic():
        sources = list(RelatedArticle.objects.filter(related_id=article_id).values_list("article_id", flat=True))
        RelatedArticle.objects.filter(related_id=article_id).delete()
    if sources:
        pagecache.purge(*(f"article:{pk}" for pk in sources))
    return sources


# --- every article at once (imports, measurements) --------------------------------------------


def rebuild_related_all(log: Callable[[str], None] | None = None, batch: int = 5000) -> int:
    """Compute the 相关推荐 of every published article from the stored vectors (run vectors.rebuild_all()
    first after an import). Exact first pass over the whole corpus through an in-memory inverted index;
    the feedback pass reuses the first-pass lists (q + mean(v_j))·d = q·d + mean(v_j·d), each list
    kept to its best BULK_KEEP."""
    say = log or (lambda message: None)
    entries: dict[int, Entry] = {}
    limited: set[int] = set()
    rows = ArticleVector.objects.filter(article__status=Article.Status.PUBLISHED).values_list(
        "article_id", "terms", "article__channel_id", "article__published_at", "article__reach_limited"
    )
    for pk, terms, channel_id, published_at, reach_limited in rows.iterator(chunk_size=2000):
        entries[pk] = Entry(pk, terms, channel_id, published_at)
        if reach_limited:
            limited.add(pk)
    df: Counter[str] = Counter()
    for entry in entries.values():
        df.update(entry.terms.keys())
    index: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for pk, entry in entries.items():
        if pk not in limited:
            for t, w in entry.terms.items():
                if df[t] >= MIN_DF:
                    index[t].append((pk, w))
    say(f"indexed {len(entries)} vectors, {len(index)} terms")

    common = max(BULK_COMMON_SHARE * len(entries), 50)  # terms in more articles add little and cost most
    queries: dict[int, dict[str, float]] = {}
    first: dict[int, tuple[array, array]] = {}  # best first-pass matches (ids, scores), compactly
    for n, (pk, entry) in enumerate(entries.items(), start=1):
        query = queries[pk] = query_vector(entry.terms, lambda t: df[t])
        acc: dict[int, float] = defaultdict(float)
        for t, w in query.items():
            if df[t] <= common:
                for other, x in index.get(t, ()):
                    acc[other] += w * x
        acc.pop(pk, None)
        best = heapq.nlargest(BULK_KEEP, acc.items(), key=itemgetter(1))
        first[pk] = (array("l", [j for j, _ in best]), array("d", [s for _, s in best]))
        if n % 5000 == 0:
            say(f"first pass: {n}/{len(entries)}")

    co_read = _co_read_all()
    now = timezone.now()
    pending: list[RelatedArticle] = []
    done = 0
    with transaction.atomic():
        RelatedArticle.objects.all().delete()
        for pk, entry in entries.items():
            ids, scores = first[pk]
            combined: dict[int, float] = dict(zip(ids, scores, strict=True))
            best = feedback(list(zip(ids[:FEEDBACK], scores[:FEEDBACK], strict=True)))
            for j, share in best:
                for other, s in zip(*first[j], strict=True):
                    if other != pk:
                        combined[other] = combined.get(other, 0.0) + share * s
            mine = co_read.get(pk, {})
            for j in mine:
                if j in entries and j not in limited and j != pk:
                    combined.setdefault(j, 0.0)
            expanded = expand(queries[pk], [(entries[j].terms, share) for j, share in best], index)
            shortlist = heapq.nlargest(SHORTLIST, combined.items(), key=itemgetter(1))
            chosen = choose(entry, queries[pk], expanded, shortlist, entries, mine, now)
            pending.extend(
                RelatedArticle(article_id=pk, related_id=j, rank=rank, score=score, reason=why)
                for rank, (j, score, why) in enumerate(chosen, start=1)
            )
            done += 1
            if len(pending) >= batch:
                RelatedArticle.objects.bulk_create(pending, batch_size=1000)
                pending = []
                say(f"related lists: {done}/{len(entries)}")
        RelatedArticle.objects.bulk_create(pending, batch_size=1000)
    pagecache.purge("fronts")
    return done


def _co_read_all() -> dict[int, dict[int, int]]:
    """Readers in common for every pair of articles read by the same readers (bounded per reader)."""
    from masthead.engagement.models import ReadingHistory

    by_user: dict[int, list[int]] = defaultdict(list)
    for user_id, article_id in (
        ReadingHistory.objects.order_by("user_id", "-read_at")
        .values_list("user_id", "article_id")
        .iterator(chunk_size=5000)
    ):
        if len(by_user[user_id]) < 50:  # a heavy reader's whole history would dominate
            by_user[user_id].append(article_id)
    pairs: dict[int, Counter[int]] = defaultdict(Counter)
    for reads in by_user.values():
        for a in reads:
            for b in reads:
                if a != b:
                    pairs[a][b] += 1
    return {a: {b: n for b, n in counts.items() if n >= CO_READ_MIN} for a, counts in pairs.items()}
