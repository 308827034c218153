"""Search latency at scale: p50/p95 of search() over a few hundred realistic queries.

    .venv/bin/python bench/search.py [--articles 100000] [--queries 300] [--slowest 20]

Prepares the database in MASTHEAD_DATA_DIR (default var/bench, shared with bench/pages.py): migrate,
demo content, synthetic articles (demo/synthetic.py) up to --articles, and `masthead reindex` when the
index is behind. Runs on whatever DATABASE_URL names (SQLite by default; set DATABASE_URL to measure
PostgreSQL); --reindex times a full rebuild first. Queries: two or three words of random titles, single
common words, tag and channel
names, mixed Latin/number queries and misses; filters and page 2 in a share of them.
"""

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("MASTHEAD_DATA_DIR", str(ROOT / "var" / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "masthead.settings")
os.environ["MASTHEAD_DEBUG"] = "0"

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from masthead.articles.models import Article, Tag  # noqa: E402
from masthead.channels.models import Channel  # noqa: E402
from masthead.discovery import text  # noqa: E402
from masthead.discovery.indexing import reindex  # noqa: E402
from masthead.discovery.search import search  # noqa: E402
from masthead.discovery.search_models import SearchEntry  # noqa: E402


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def rebuild() -> None:
    """Time a full rebuild (`reindex(clear=True)`) and report the database size."""
    started = time.monotonic()
    done = reindex(batch=1000, clear=True, progress=lambda d, t: d % 20000 == 0 and log(f"  {d}/{t}"))
    elapsed = time.monotonic() - started
    size = ""
    if connection.vendor == "sqlite":
        size = f", database {Path(connection.settings_dict['NAME']).stat().st_size / 1e9:.2f} GB"
    print(f"{connection.vendor}: reindexed {done} articles in {elapsed:.0f} s{size}")


def prepare(articles: int) -> None:
    import pages  # the same database as bench/pages.py: migrate, demo, synthetic articles

    pages.prepare(articles)
    published = Article.objects.filter(status=Article.Status.PUBLISHED).count()
    if SearchEntry.objects.count() < published:
        log(f"indexing {published} articles …")
        started = time.monotonic()
        reindex(batch=1000, progress=lambda done, total: done % 20000 == 0 and log(f"  {done}/{total}"))
        log(f"  indexed in {time.monotonic() - started:.0f} s")


def queries(n: int, rng: random.Random) -> list[tuple[str, dict]]:
    titles = list(Article.objects.filter(status="published").order_by("?").values_list("title", flat=True)[:n])
    tags = list(Tag.objects.values_list("name", flat=True))
    channels = list(Channel.objects.all())
    out: list[tuple[str, dict]] = []
    for i, title in enumerate(titles):
        words = [w for w in text.words(title) if len(w) > 1]
        kind = i % 10
        if kind < 5 and len(words) >= 2:
            q = " ".join(rng.sample(words, min(len(words), rng.choice((2, 3)))))
        elif kind == 5 and words:
            q = rng.choice(words)  # one (often common) word: many matches
        elif kind == 6 and tags:
            q = rng.choice(tags)
        elif kind == 7:
            q = rng.choice(["AI大模型", "2026年", "S-300", "5G手机", "iPhone 16", "GPT-4o 评测"])
        elif kind == 8:
            q = rng.choice(["量子引力波望远镜", "zzqx", "不存在的词语组合", "火星移民计划"])  # few or no hits
        else:
            q = title[: rng.randint(4, 10)]  # a typed prefix of a headline
        options: dict = {}
        if i % 7 == 0:
            options["channel"] = rng.choice(channels)
        if i % 11 == 0:
            options["page"] = 2
        out.append((q, options))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--reindex", action="store_true", help="time a full rebuild of the index first")
    parser.add_argument("--slowest", type=int, default=0, help="list the N slowest queries (with their options)")
    args = parser.parse_args()
    prepare(args.articles)
    if args.reindex:
        rebuild()
    rng = random.Random(2026)
    qs = queries(args.queries, rng)
    for q, options in qs[:20]:  # warm caches and the segmenter
        search(q, **options)
    times, totals, capped, timed = [], [], 0, []
    for q, options in qs:
        started = time.perf_counter()
        results = search(q, **options)
        times.append((time.perf_counter() - started) * 1000)
        totals.append(results.total)
        capped += results.capped
        timed.append((times[-1], q, {k: getattr(v, "pk", v) for k, v in options.items()}, results.total))
    for ms, q, options, total in sorted(timed, key=lambda t: t[0], reverse=True)[: args.slowest]:
        print(f"  {ms:8.1f} ms  {q!r} {options} ({total} matches)")
    times.sort()
    p = lambda f: times[min(len(times) - 1, int(f * len(times)))]  # noqa: E731
    indexed = SearchEntry.objects.count()
    print(
        f"{connection.vendor}: {indexed} indexed, {len(times)} queries: p50 {p(0.50):.1f} ms, p95 {p(0.95):.1f} ms, "
        f"p99 {p(0.99):.1f} ms, max {times[-1]:.1f} ms, mean {statistics.mean(times):.1f} ms; "
        f"median matches {statistics.median(totals):.0f} ({capped} queries with more than the capped count)"
    )


if __name__ == "__main__":
    main()
