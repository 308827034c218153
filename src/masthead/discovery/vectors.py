"""Article term vectors (TF-IDF over our segmentation) and the corpus statistics behind them.

An article's vector is built from its title (counted TITLE_REPEAT times), summary, tags and body:
words from discovery.text, plus character bigrams when the text is short (a headline has too few
words to meet another headline on). Weights are sublinear tf × idf, the strongest TOP_TERMS kept
and L2-normalised, so the dot product of two vectors is their cosine. See docs/recommendation.md.

TermStat holds the document frequency of each term over the stored vectors of published articles
(df counts an article once per term it keeps), plus one row under the empty term whose df is the
number of vectors, the N of the IDF. Publishing, editing and removal adjust it incrementally;
`rebuild_all()` recomputes everything for imports.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator

from django.db import connection, transaction
from django.db.models import F

from masthead.articles.models import Article
from masthead.discovery import text
from masthead.discovery.models import ArticleVector, TermStat

TOP_TERMS = 80
KEYWORDS = 8  # kept on the vector for "why" lines and interest tags
TITLE_REPEAT = 2
TAG_REPEAT = 2
SHORT_TEXT_WORDS = 40  # below this many words, character bigrams join the vector
GRAM = "#"  # prefix that keeps bigram features apart from words of the same two characters
DOCS = ""  # TermStat row whose df is the number of vectors
MEMORY_TERMS = 5_000_000  # rebuild_all keeps term counts between its passes up to this many entries
PRECISION = 5  # decimals stored per weight: enough for ranking, a third of the JSON

_HAN = re.compile(f"[{text.HAN}]")


def is_word(term: str) -> bool:
    """A word worth a dimension: two or more Han characters, or a Latin word/code that is not a bare number."""
    if term.startswith(GRAM):
        return False
    if _HAN.search(term):
        return len(term) >= 2
    return len(term) >= 2 and not term.replace(".", "").replace("-", "").isdigit()


def term_counts(title: str, summary: str = "", tags: Iterable[str] = (), body: str = "") -> Counter[str]:
    """Raw term counts of an article's parts (title weighted up)."""
    counts: Counter[str] = Counter()
    title_words = [w for w in text.words(title) if is_word(w)]
    for _ in range(TITLE_REPEAT):
        counts.update(title_words)
    for tag in tags:
        tag = text.normalize(tag).strip()
        if tag and len(tag) <= text.MAX_TERM_LENGTH:
            counts[tag] += TAG_REPEAT
    counts.update(w for w in text.words(summary) if is_word(w))
    counts.update(w for w in text.words(body) if is_word(w))
    if sum(counts.values()) < SHORT_TEXT_WORDS:
        for part in (title, summary, body):
            counts.update(GRAM + g for g in text.bigrams(part) if len(g) == 2)
    return counts


def article_counts(article: Article, tag_names: Iterable[str] | None = None) -> Counter[str]:
    if tag_names is None:
        tag_names = [t.name for t in article.tags.all()]
    return term_counts(article.title, article.summary, tag_names, article.body_text)


def idf(df: int, docs: int) -> float:
    return math.log((docs + 1) / (df + 0.5))


def weigh(counts: Counter[str], df: Callable[[str], int], docs: int, shared_only: bool = False) -> dict[str, float]:
    """Top TOP_TERMS terms by sublinear tf × idf, L2-normalised. `df(term)` includes this article.

    `shared_only` leaves out the terms no other article has (a bulk rebuild knows them: they cannot
    match and would only shrink every cosine); one article at a time keeps them, so that df counts
    them when a second article brings them."""
    scored = sorted(
        (
            (term, (1.0 + math.log(n)) * idf(df(term), docs))
            for term, n in counts.items()
            if not shared_only or df(term) >= 2
        ),
        key=lambda item: (-item[1], item[0]),
    )[:TOP_TERMS]
    norm = math.sqrt(sum(w * w for _, w in scored)) or 1.0
    return {term: round(w / norm, PRECISION) for term, w in scored if w > 0}


def pick_keywords(vector: dict[str, float], k: int = KEYWORDS) -> list[str]:
    """The strongest words of a vector (no bigram features), for "why" lines and interest tags."""
    ranked = sorted(vector.items(), key=lambda item: (-item[1], item[0]))
    return [term for term, _ in ranked if is_word(term)][:k]


def _bump(terms: Iterable[str], delta: int) -> None:
    terms = list(terms)
    if not terms:
        return
    if delta > 0:
        TermStat.objects.bulk_create([TermStat(term=t, df=0) for t in terms], ignore_conflicts=True)
    TermStat.objects.filter(term__in=terms).update(df=F("df") + delta)
    if delta < 0:
        TermStat.objects.filter(term__in=terms, df__lte=0).exclude(term=DOCS).delete()


def is_vectorised(article: Article) -> bool:
    """Which articles are part of the corpus: the published ones (limited reach included: readable)."""
    return article.status == Article.Status.PUBLISHED


@transaction.atomic
def update_vector(article: Article) -> ArticleVector | None:
    """Build (or rebuild after an edit) the vector of a published article and keep TermStat in step;
    an article that is no longer published loses its vector. Returns the vector, or None."""
    if not is_vectorised(article):
        drop_vector(article.pk)
        return None
    old = ArticleVector.objects.select_for_update().filter(article_id=article.pk).first()
    old_terms = set(old.terms) if old else set()
    counts = article_counts(article)
    stats = dict(TermStat.objects.filter(term__in=[*counts, DOCS]).values_list("term", "df"))
    docs = stats.get(DOCS, 0) + (0 if old else 1)
    # This article's own occurrence: counted once whether or not it was stored before.
    vector = weigh(counts, lambda t: stats.get(t, 0) - (t in old_terms) + 1, docs)
    new_terms = set(vector)
    _bump(new_terms - old_terms, +1)
    _bump(old_terms - new_terms, -1)
    if old is None:
        _bump([DOCS], +1)
    keywords = pick_keywords(vector)
    if old is None:
        old = ArticleVector.objects.create(article_id=article.pk, terms=vector, keywords=keywords)
    else:
        old.terms, old.keywords = vector, keywords
        old.save(update_fields=["terms", "keywords", "updated_at"])
    transaction.on_commit(text.invalidate_idf)
    return old


@transaction.atomic
def drop_vector(article_id: int) -> None:
    """Take an article out of the corpus statistics (removal, unpublishing)."""
    old = ArticleVector.objects.select_for_update().filter(article_id=article_id).first()
    if old is None:
        return
    _bump(old.terms, -1)
    _bump([DOCS], -1)
    old.delete()
    transaction.on_commit(text.invalidate_idf)


# --- bulk rebuild (imports, first run) ---------------------------------------------------------


def _published_batches(batch: int) -> Iterator[list[tuple[int, Counter[str]]]]:
    """(article id, term counts) of every published article, in id order, a batch at a time."""
    qs = Article.objects.filter(status=Article.Status.PUBLISHED).order_by("pk")
    last = 0
    through = Article.tags.through.objects
    while True:
        rows = list(qs.filter(pk__gt=last).values_list("pk", "title", "summary", "body_text")[:batch])
        if not rows:
            return
        ids = [r[0] for r in rows]
        tags: dict[int, list[str]] = {}
        for aid, name in through.filter(article_id__in=ids).values_list("article_id", "tag__name"):
            tags.setdefault(aid, []).append(name)
        yield [(pk, term_counts(title, summary, tags.get(pk, ()), body)) for pk, title, summary, body in rows]
        last = ids[-1]


def rebuild_all(batch: int = 2000, log: Callable[[str], None] | None = None) -> int:
    """Recompute every published article's vector and TermStat from scratch; returns the article count.

    Two passes over the text (document frequencies first, then weights), so memory stays flat at any size.
    """
    say = log or (lambda message: None)
    full_df: Counter[str] = Counter()
    docs = 0
    kept: list[list[tuple[int, Counter[str]]]] | None = []  # the counts, while they fit in memory
    size = 0
    for rows in _published_batches(batch):
        for _, counts in rows:
            full_df.update(counts.keys())
            size += len(counts)
        docs += len(rows)
        if kept is not None:
            kept.append(rows)
            if size > MEMORY_TERMS:
                kept = None  # segment again in the second pass instead
        say(f"counted {docs} articles")
    stored_df: Counter[str] = Counter()
    with transaction.atomic():
        ArticleVector.objects.all().delete()
        TermStat.objects.all().delete()
        done = 0
        for rows in kept if kept is not None else _published_batches(batch):
            vectors = []
            for pk, counts in rows:
                vector = weigh(counts, lambda t: full_df[t], docs, shared_only=True)
                stored_df.update(vector.keys())
                vectors.append(ArticleVector(article_id=pk, terms=vector, keywords=pick_keywords(vector)))
            ArticleVector.objects.bulk_create(vectors, batch_size=500)
            done += len(rows)
            say(f"weighed {done} articles")
        stored_df[DOCS] = docs
        # Tens of thousands of rows: plain executemany, without building a model instance per row.
        table = connection.ops.quote_name(TermStat._meta.db_table)
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {table} (term, df) VALUES (%s, %s)",
                [(t, n) for t, n in stored_df.items() if len(t) <= text.MAX_TERM_LENGTH],
            )
    text.invalidate_idf()
    return docs
