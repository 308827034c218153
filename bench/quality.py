"""Discovery quality on the labelled corpus in ../shared/data/zh-news-cls (see bench/README.md).

    .venv/bin/python bench/quality.py                          # 1,000 articles + 5,000 headlines
    .venv/bin/python bench/quality.py --headlines 0            # the articles alone
    DATABASE_URL=postgres://… .venv/bin/python bench/quality.py  # the same on PostgreSQL

1. A fresh database in $MASTHEAD_DATA_DIR (default var/bench-quality; with DATABASE_URL that database
   is flushed) gets the corpus through `masthead import --bulk`, every article in one channel and
   by one author, so only the content decides; the categories are kept aside, only to judge.
2. 相关推荐: precision@5 = the share of the five recommendations that are in the source's category,
   for every article of the sample, next to two baselines: five random articles, and the five latest.
3. Known-item search: a query of two or three words of a headline (cut by THULAC when it is
   installed, so the index's own segmenter gets no home advantage; otherwise by character windows)
   must find that headline's article in the top 10: success@10, MRR@10, and milliseconds a query.

Headlines have no body: they are imported with the headline as their one paragraph. THUCNews
articles have no separate headline (the text begins with it): a title is cut off the start of the
text, so those titles are approximate and known-item queries are made from true headlines only.
Results go to stdout as a table and to $MASTHEAD_DATA_DIR/quality-results.json.
"""

import argparse
import json
import os
import random
import re
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "zh-news-cls"
os.environ.setdefault("MASTHEAD_DATA_DIR", str(ROOT / "var" / "bench-quality"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "masthead.settings")
os.environ["MASTHEAD_DEBUG"] = "0"

ARTICLES_FILE = "thucnews_cnews_1000.jsonl"
HEADLINES_FILE = "nlpcc2017_headlines_36000.jsonl"
CHANNEL = "top"
K = 5
TOP = 10
EPOCH = datetime(2024, 6, 1, tzinfo=UTC)  # publication times are spread over the year before this
# Where a THUCNews headline usually stops and the story starts.
_LEAD_RE = re.compile(r"^(.{6,60}?)(?:新浪\w{0,4}讯|本报讯|记者|导语|主持人|北京时间|\d{1,2}月\d{1,2}日|【|（|\()")


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --- The corpus --------------------------------------------------------------------------------------


def article_title(text: str) -> str:
    match = _LEAD_RE.match(text)
    title = match.group(1) if match else re.split(r"[。！？]", text, maxsplit=1)[0][:30]
    return " ".join(title.split())[:100]  # as the importer stores it


def load_corpus(data: Path, articles: int, headlines: int, rng: random.Random) -> list[dict]:
    """Records {id, title, text, category, published} in a random order (so time says nothing)."""
    records = []
    with (data / ARTICLES_FILE).open(encoding="utf-8") as f:
        for line in list(f)[:articles]:
            row = json.loads(line)
            records.append({"id": row["id"], "title": article_title(row["text"]), "text": row["text"],
                            "category": row["category"], "kind": "article"})  # fmt: skip
    if headlines:
        with (data / HEADLINES_FILE).open(encoding="utf-8") as f:
            rows = [json.loads(line) for line in f]
        for row in rng.sample(rows, min(headlines, len(rows))):
            records.append({"id": row["id"], "title": row["title"], "text": row["title"],
                            "category": row["category"], "kind": "headline"})  # fmt: skip
    rng.shuffle(records)
    for n, record in enumerate(records):
        record["published"] = (EPOCH - timedelta(minutes=n * 37 % 525_600, seconds=n)).isoformat()
    return records


def write_import_file(records: list[dict], path: Path) -> None:
    """What the importer reads: no category (hidden), no author (one default account for all)."""
    with path.open("w", encoding="utf-8") as f:
        for r in records:
            row = {"id": r["id"], "title": r["title"], "text": r["text"], "published": r["published"]}
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


# --- Database ----------------------------------------------------------------------------------------


def fresh_database() -> None:
    """An empty database with the default channels and an empty search index."""
    from django.conf import settings
    from django.core.management import call_command

    if "sqlite" in settings.DATABASES["default"]["ENGINE"]:
        db = Path(settings.DATABASES["default"]["NAME"])
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        call_command("migrate", verbosity=0)
    else:
        call_command("migrate", verbosity=0)
        call_command("flush", interactive=False, verbosity=0)
        import importlib

        from django.apps import apps

        importlib.import_module("masthead.channels.migrations.0002_default_channels").create_channels(apps, None)
    from django.core.cache import cache

    cache.clear()
    try:
        from masthead.discovery import indexing

        indexing.reindex(clear=True)
    except ImportError:
        pass


# --- Measures ----------------------------------------------------------------------------------------


def related_ids(article, k: int) -> list[int]:
    from masthead.discovery import related

    return [a.pk for a in related.related_articles(article, limit=k)][:k]


def precision(sources: list[int], recommend, category: dict[int, str]) -> float:
    shares = []
    for pk in sources:
        recs = recommend(pk)
        shares.append(sum(category.get(r) == category[pk] for r in recs) / K)
    return statistics.fmean(shares) if shares else float("nan")


def measure_related(category: dict[int, str], kinds: dict[int, str], sample: int, rng: random.Random) -> dict:
    from masthead.articles.models import Article

    pool = list(category)
    latest = list(
        Article.objects.filter(status="published").order_by("-published_at").values_list("pk", flat=True)[: K + 1]
    )
    by_kind: dict[str, list[int]] = {}
    for pk, kind in kinds.items():
        by_kind.setdefault(kind, []).append(pk)
    articles = Article.objects.select_related("account", "channel").prefetch_related("tags").in_bulk(pool)
    out = {}
    for kind, ids in sorted(by_kind.items()):
        sources = sorted(ids) if len(ids) <= sample else sorted(rng.sample(ids, sample))
        started = time.perf_counter()
        ours = precision(sources, lambda pk: related_ids(articles[pk], K), category)
        ms = (time.perf_counter() - started) * 1000 / max(len(sources), 1)
        random_p = precision(sources, lambda pk: rng.sample([p for p in pool if p != pk][: len(pool)], K), category)
        latest_p = precision(sources, lambda pk: [p for p in latest if p != pk][:K], category)
        out[kind] = {"sources": len(sources), "ours": ours, "random": random_p, "latest": latest_p, "ms": ms}
    return out


class Segmenter:
    """THULAC when installed (a bench-only dependency), else character windows of 2–4."""

    def __init__(self) -> None:
        try:
            import thulac

            self.thulac = thulac.thulac(seg_only=True)
            self.name = "THULAC"
        except ImportError:
            self.thulac = None
            self.name = "char windows 2-4"

    def pieces(self, title: str, rng: random.Random) -> list[str]:
        if self.thulac is not None:
            words = [w for w, _tag in self.thulac.cut(title)]
            return [w for w in words if len(w) >= 2 and re.search(r"[\w]", w)] or [w for w in words if w.strip()]
        runs = re.findall(r"[\u4e00-\u9fff]+|[A-Za-z0-9]+", title)
        out = []
        for run in runs:
            i = 0
            while i < len(run) - 1:
                n = rng.randint(2, 4)
                out.append(run[i : i + n])
                i += n
        return [p for p in out if len(p) >= 2]


def make_query(title: str, seg: Segmenter, rng: random.Random) -> str:
    pieces = list(dict.fromkeys(seg.pieces(title, rng)))
    n = min(len(pieces), rng.choice((2, 3)))
    chosen = sorted(rng.sample(range(len(pieces)), n))
    return " ".join(pieces[i] for i in chosen)


def measure_search(targets: list[tuple[int, str]], seg: Segmenter, rng: random.Random) -> dict:
    from masthead.discovery.search import search

    hits, rr, times, misses = 0, [], [], []
    for pk, title in targets:
        query = make_query(title, seg, rng)
        started = time.perf_counter()
        found = [h.article.pk for h in search(query, per_page=TOP).hits]
        times.append((time.perf_counter() - started) * 1000)
        rank = found.index(pk) + 1 if pk in found else 0
        hits += bool(rank)
        rr.append(1 / rank if rank else 0.0)
        if not rank and len(misses) < 15:
            misses.append({"query": query, "title": title})
    times.sort()
    return {
        "queries": len(targets),
        "segmenter": seg.name,
        "success_at_10": hits / len(targets),
        "mrr_at_10": statistics.fmean(rr),
        "ms_p50": statistics.median(times),
        "ms_p95": times[int(len(times) * 0.95) - 1],
        "misses": misses,
    }


# --- Main --------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--headlines", type=int, default=5000)
    parser.add_argument("--queries", type=int, default=500, help="known-item queries (from headlines)")
    parser.add_argument("--sample", type=int, default=1000, help="source articles per kind for precision@5")
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--reuse", action="store_true", help="measure the database of the previous run")
    args = parser.parse_args()
    if not (args.data / ARTICLES_FILE).is_file():
        sys.exit(f"no corpus at {args.data} (see ../shared/data/README.md)")

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from masthead.articles.models import Article

    rng = random.Random(args.seed)
    data_dir = Path(settings.DATA_DIR)
    data_dir.mkdir(parents=True, exist_ok=True)
    records = load_corpus(args.data, args.articles, args.headlines, rng)
    timings = {}
    if not args.reuse:
        fresh_database()
        source = data_dir / "quality-import.jsonl"
        write_import_file(records, source)
        log(f"importing {len(records)} records into {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]} …")
        started = time.perf_counter()
        call_command("import", str(source), channel=CHANNEL, bulk=True, progress=sys.stderr.isatty(), stdout=sys.stderr)
        timings["import_s"] = time.perf_counter() - started
        source.unlink()

    by_key = {(r["title"], r["published"]): r for r in records}
    category, kinds, titles = {}, {}, {}
    for pk, title, published in Article.objects.filter(status="published").values_list("pk", "title", "published_at"):
        record = by_key.get((title, published.astimezone(UTC).isoformat()))
        if record:
            category[pk], kinds[pk], titles[pk] = record["category"], record["kind"], record["title"]
    log(f"{len(category)} articles matched to their labels")

    log("相关推荐 …")
    related = measure_related(category, kinds, args.sample, random.Random(args.seed + 1))
    log("known-item search …")
    seg = Segmenter()
    headline_ids = sorted(pk for pk, kind in kinds.items() if kind == "headline")
    pool = headline_ids or sorted(kinds)
    targets = [(pk, titles[pk]) for pk in random.Random(args.seed + 2).sample(pool, min(args.queries, len(pool)))]
    found = measure_search(targets, seg, random.Random(args.seed + 3)) if targets else {}

    results = {
        "database": settings.DATABASES["default"]["ENGINE"],
        "articles": args.articles,
        "headlines": args.headlines,
        "imported": len(category),
        "timings": timings,
        "related_p_at_5": related,
        "known_item": found,
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
    }
    (data_dir / "quality-results.json").write_text(json.dumps(results, ensure_ascii=False, indent=2))
    print(f"\ncorpus: {args.articles} articles + {args.headlines} headlines, one channel, {len(category)} imported")
    print(f"{'相关推荐 precision@5':<24}{'sources':>8}{'ours':>8}{'random':>8}{'latest':>8}{'ms/src':>8}")
    for kind, row in related.items():
        print(
            f"{kind:<24}{row['sources']:>8}{row['ours']:>8.3f}{row['random']:>8.3f}{row['latest']:>8.3f}{row['ms']:>8.1f}"
        )
    if found:
        print(
            f"known-item search ({found['queries']} queries, {found['segmenter']}): "
            f"success@10 {found['success_at_10']:.3f}, MRR@10 {found['mrr_at_10']:.3f}, "
            f"p50 {found['ms_p50']:.1f} ms, p95 {found['ms_p95']:.1f} ms"
        )
    print(f"details: {data_dir / 'quality-results.json'}")


if __name__ == "__main__":
    main()
