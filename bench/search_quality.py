"""Known-item search quality on the labelled corpus in ../shared/data/zh-news-cls (not in the repository).

    .venv/bin/python bench/search_quality.py [--headlines 5000] [--queries 600] [--tune]
    PYTHONPATH=/path/to/thulac .venv/bin/python bench/search_quality.py      # THULAC-made queries

1. A fresh database in $MASTHEAD_DATA_DIR (default var/bench-search-quality; with DATABASE_URL that
   database is flushed) gets the 1,000 THUCNews articles and the first --headlines NLPCC headlines
   through `masthead import --bulk` (which rebuilds the search index once at the end), spread over a
   year of publication dates, all in one channel.
2. Known-item queries: two or three words of a headline, in title order, cut by THULAC when it can be
   imported (a bench-only dependency, so the index's segmenter, rjieba, gets no home advantage),
   otherwise by pkuseg, otherwise random 2–4 character windows aligned to Han runs plus whole Latin or
   number tokens. A hit is the headline's article in the top 10: success@10 and MRR@10.
3. The queries are split in two halves by a seeded shuffle. With --tune, the ranking weights are
   searched on the first half (candidates are fetched once, re-ranked in Python) and both the default
   and the tuned weights are reported on the second half only.
"""

import argparse
import itertools
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
os.environ.setdefault("MASTHEAD_DATA_DIR", str(ROOT / "var" / "bench-search-quality"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "masthead.settings")
os.environ["MASTHEAD_DEBUG"] = "0"

ARTICLES_FILE = "thucnews_cnews_1000.jsonl"
HEADLINES_FILE = "nlpcc2017_headlines_36000.jsonl"
EPOCH = datetime(2024, 6, 1, tzinfo=UTC)
TOP = 10
# Where a THUCNews headline usually stops and the story starts (the origin has no separate title).
_LEAD = re.compile(r"^(.{6,60}?)(?:新浪\w{0,4}讯|本报讯|记者|导语|北京时间|\d{1,2}月\d{1,2}日|【|（|\()")
_HAN_RUN = re.compile(r"[\u3400-\u9fff]+|[A-Za-z0-9][A-Za-z0-9.+#-]*")


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def read(name: str) -> list[dict]:
    with (DATA / name).open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def corpus(headlines: int, rng: random.Random) -> tuple[list[dict], list[str]]:
    """Import items (JSON Lines for `masthead import`) and the headlines queries may be made from."""
    items = []
    for row in read(ARTICLES_FILE):
        text = row["text"]
        lead = _LEAD.match(text)
        title = (lead.group(1) if lead else text[:30]).strip()
        items.append({"title": title[:100], "text": text, "id": row["id"]})
    chosen = read(HEADLINES_FILE)
    rng.shuffle(chosen)
    titles = []
    for row in chosen[:headlines]:
        items.append({"title": row["title"][:100], "text": row["title"], "id": row["id"]})
        titles.append(row["title"][:100])
    for item in items:
        item["published"] = (EPOCH - timedelta(seconds=rng.randrange(365 * 86400))).isoformat()
        item["author"] = "语料"
    rng.shuffle(items)
    return items, titles


def prepare(headlines: int, rng: random.Random) -> None:
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor == "sqlite":
        connection.close()
        path = Path(connection.settings_dict["NAME"])
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        call_command("migrate", verbosity=0)
    else:
        call_command("migrate", verbosity=0)
        call_command("flush", interactive=False, verbosity=0)
    from masthead.channels.models import Channel

    channel, _ = Channel.objects.get_or_create(slug="corpus", defaults={"name": "语料"})
    items, _ = corpus(headlines, rng)
    path = Path(os.environ["MASTHEAD_DATA_DIR"]) / "corpus.jsonl"  # derived data stays out of the repository
    with path.open("w", encoding="utf-8") as f:
        for item in items:
            f.write(json.dumps(item, ensure_ascii=False) + "\n")
    started = time.monotonic()
    call_command("import", str(path), "--bulk", "--channel", channel.slug, "--no-progress", verbosity=0)
    log(f"imported and indexed {len(items)} items in {time.monotonic() - started:.0f} s")


class Segmenter:
    """THULAC, else pkuseg, else character windows: anything but our own segmenter."""

    def __init__(self) -> None:
        self.cut = None
        try:
            import thulac

            model = thulac.thulac(seg_only=True)
            self.cut, self.name = (lambda s: [w for w, _ in model.cut(s)]), "THULAC"
        except ImportError:
            try:
                import pkuseg

                model = pkuseg.pkuseg()
                self.cut, self.name = model.cut, "pkuseg"
            except ImportError:
                self.name = "character windows 2–4"

    def units(self, title: str, rng: random.Random) -> list[str]:
        if self.cut is not None:
            return [w for w in self.cut(title) if _HAN_RUN.fullmatch(w) and (len(w) >= 2 or not w.isascii())]
        out = []
        for run in _HAN_RUN.findall(title):
            if run.isascii():
                out.append(run)
                continue
            pos = 0
            while pos < len(run) - 1:
                size = min(rng.choice((2, 3, 4)), len(run) - pos)
                out.append(run[pos : pos + size])
                pos += size + rng.choice((0, 1))
        return [u for u in out if len(u) >= 2 or not u.isascii()]


def known_item_queries(titles: list[str], n: int, rng: random.Random, segmenter: Segmenter):
    from masthead.discovery import text

    stop = text.stopwords()
    out = []
    for title in titles:
        units = [u for u in segmenter.units(title, rng) if u not in stop and (len(u) >= 2 or u.isdigit())]
        if len(units) < 2:
            continue
        picked = sorted(rng.sample(range(len(units)), min(len(units), rng.choice((2, 3)))))
        out.append((" ".join(units[i] for i in picked), title))
        if len(out) == n:
            break
    return out


def fetch(queries):
    """For each query: the target ids and the candidate set, fetched once (as search() would)."""
    from masthead.articles.models import Article
    from masthead.discovery.backends import get_backend
    from masthead.discovery.backends.base import Filters, parse

    backend = get_backend()
    by_title: dict[str, list[int]] = {}
    for pk, title in Article.objects.filter(status="published").values_list("pk", "title"):
        by_title.setdefault(title, []).append(pk)
    cases, times = [], []
    for q, title in queries:
        targets = set(by_title.get(title, ()))
        if not targets:
            continue  # held for review by the screening, or cut differently: not a known item
        parsed = parse(q)
        started = time.perf_counter()
        found, _ = backend.candidates(parsed, Filters())
        if not found and len(parsed.terms) > 1:
            found, _ = backend.candidates(parsed, Filters(), any_term=True)
        times.append((time.perf_counter() - started) * 1000)
        cases.append((parsed, targets, found))
    return cases, times


def score(cases, weights=None) -> tuple[float, float]:
    from masthead.discovery.backends.base import RANKED, rank

    now = EPOCH
    hits, rr = 0, 0.0
    for parsed, targets, found in cases:
        newest = sorted((c.article_id for c in found if "all" in c.arms), reverse=True)
        kept = set(newest[:RANKED])
        best = [c for c in found if c.article_id in kept or len(c.arms) > 1 or "all" not in c.arms]
        ranked = rank(parsed, best, now, weights)
        ranked += [pk for pk in newest if pk not in set(ranked)]
        for i, pk in enumerate(ranked[:TOP]):
            if pk in targets:
                hits += 1
                rr += 1 / (i + 1)
                break
    return hits / len(cases), rr / len(cases)


def tune(cases) -> dict[str, float]:
    from masthead.discovery.backends.base import RANKING

    best, best_key = dict(RANKING), score(cases, RANKING)[::-1]
    grid = {
        "title": (2.0, 4.0, 6.0, 10.0),
        "title_words": (0.0, 1.5, 3.0, 6.0),
        "coverage": (0.0, 1.0, 2.0, 4.0, 8.0),
        "words": (0.0, 1.0, 2.0),
        "meta": (0.0, 1.5),
    }
    for values in itertools.product(*grid.values()):
        weights = dict(zip(grid, values, strict=True))
        key = score(cases, weights)[::-1]  # MRR first, then success
        if key > best_key:
            best, best_key = weights, key
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--headlines", type=int, default=5000)
    parser.add_argument("--queries", type=int, default=600)
    parser.add_argument("--tune", action="store_true")
    parser.add_argument("--keep", action="store_true", help="reuse the database prepared by an earlier run")
    args = parser.parse_args()
    if not (DATA / ARTICLES_FILE).exists():
        print(f"skipped: {DATA} is not there (see its README for what it holds)")
        return
    Path(os.environ["MASTHEAD_DATA_DIR"]).mkdir(parents=True, exist_ok=True)
    import django

    django.setup()
    from django.db import connection

    rng = random.Random(2026)
    if not args.keep:
        prepare(args.headlines, rng)
    _, titles = corpus(args.headlines, random.Random(2026))
    segmenter = Segmenter()
    queries = known_item_queries(titles, args.queries, random.Random(7), segmenter)
    cases, times = fetch(queries)
    random.Random(11).shuffle(cases)
    half = len(cases) // 2
    tune_half, test_half = cases[:half], cases[half:]
    from masthead.discovery.backends.base import RANKING

    print(f"{connection.vendor}: {len(cases)} known-item queries by {segmenter.name}; e.g. {queries[0][0]!r}")
    print(f"candidate fetch: median {statistics.median(times):.1f} ms, max {max(times):.1f} ms")
    s, m = score(test_half)
    print(f"held-out half ({len(test_half)}), default weights {RANKING}: success@10 {s:.1%}, MRR {m:.3f}")
    s, m = score(cases)
    print(f"all queries, default weights: success@10 {s:.1%}, MRR {m:.3f}")
    if args.tune:
        tuned = tune(tune_half)
        s1, m1 = score(tune_half, tuned)
        s2, m2 = score(test_half, tuned)
        print(f"tuned on the other half: {tuned}: tune half {s1:.1%} / {m1:.3f}; held-out half {s2:.1%} / {m2:.3f}")


if __name__ == "__main__":
    main()
