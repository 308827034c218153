"""相关推荐 benchmark: time to compute the list of one new article at 100,000 articles.

    .venv/bin/python bench/related.py                     # var/bench-related, 100,000 articles
    .venv/bin/python bench/related.py --samples 50

The database lives in MASTHEAD_DATA_DIR (default var/bench-related). When it is empty it starts from
a copy of var/bench (the 100,000-article database bench/pages.py prepares, search index included),
or prepares one the same way (`masthead demo --articles N`). Vectors are built once with
vectors.rebuild_all() (minutes at 100,000 articles: the whole corpus is segmented twice).

Then, for each sample, a new article (the text of a random existing one under a fresh title) is
published through the workflow with the 相关推荐 receiver disconnected, and timed step by step:
- vector: its TF-IDF vector and the TermStat update (discovery.vectors.update_vector);
- related: candidates, scoring and storing its list (discovery.related.compute_related), with queries;
- task: the whole background task, i.e. the above plus refreshing the lists of its neighbours.
Results go to stdout and to $MASTHEAD_DATA_DIR/bench-related.json.
"""

import argparse
import json
import os
import random
import shutil
import sqlite3
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.setdefault("MASTHEAD_DATA_DIR", str(ROOT / "var" / "bench-related")))
SOURCE = ROOT / "var" / "bench"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "masthead.settings")
os.environ["MASTHEAD_DEBUG"] = "0"


def copy_prepared_database() -> None:
    """Start from bench/pages.py's database (an online backup: it may be in use)."""
    target = DATA / "masthead.sqlite3"
    source = SOURCE / "masthead.sqlite3"
    if target.exists() or not source.exists() or os.environ.get("DATABASE_URL"):
        return
    DATA.mkdir(parents=True, exist_ok=True)
    log(f"copying {source} …")
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    if (SOURCE / "secret_key").exists() and not (DATA / "secret_key").exists():
        shutil.copy(SOURCE / "secret_key", DATA / "secret_key")


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=20)
    args = parser.parse_args()

    copy_prepared_database()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from masthead.accounts.models import Account
    from masthead.articles import actions
    from masthead.articles.models import Article
    from masthead.articles.signals import article_changed
    from masthead.demo.loader import DEMO_HANDLE, load_channel_articles, load_demo
    from masthead.demo.synthetic import generate_articles
    from masthead.discovery import related, related_tasks, vectors
    from masthead.discovery.models import ArticleVector

    call_command("migrate", verbosity=0)
    if not Account.objects.filter(handle=DEMO_HANDLE).exists():
        log("loading the demo content …")
        load_demo(log=lambda m: log(f"  {m}"))
    synthetic = Article.objects.count() - len(load_channel_articles())
    if synthetic < args.articles:
        log(f"generating {args.articles - synthetic} synthetic articles …")
        generate_articles(args.articles - synthetic, log=lambda m: log(f"  {m}"))
    published = Article.objects.filter(status=Article.Status.PUBLISHED)
    total = published.count()
    if ArticleVector.objects.count() < total * 0.99:
        log(f"building vectors of {total} articles (once) …")
        started = time.monotonic()
        vectors.rebuild_all(log=lambda m: log(f"  {m}") if m.endswith("0000 articles") else None)
        log(f"vectors built in {time.monotonic() - started:.0f} s")

    # Publish without the receiver, so each step can be timed on its own.
    article_changed.disconnect(dispatch_uid="related_article_changed")
    rng = random.Random(7)
    last_id = published.order_by("-pk").values_list("pk", flat=True).first()
    timings: dict[str, list[float]] = {"vector": [], "related": [], "task": []}
    queries: list[int] = []
    for n in range(args.samples):
        model = None
        while model is None:
            model = published.filter(pk=rng.randint(1, last_id)).select_related("account", "channel").first()
        item = actions.create_article(
            account=model.account,
            channel=model.channel,
            title=f"基准测试新文章{n}：{model.title}"[:100],
            body=model.body_html,
            tags=[t.name for t in model.tags.all()],
        )
        actions.publish(item)
        started = time.perf_counter()
        vectors.update_vector(item)
        timings["vector"].append(time.perf_counter() - started)
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            related.compute_related(item.pk)
            timings["related"].append(time.perf_counter() - started)
        queries.append(len(captured))
        started = time.perf_counter()
        related_tasks.refresh_related.call(item.pk)
        timings["task"].append(time.perf_counter() - started)

    def ms(values: list[float], q: float) -> float:
        values = sorted(values)
        return round(1000 * values[min(len(values) - 1, int(q * len(values)))], 1)

    result = {
        "articles": total,
        "vectors": ArticleVector.objects.count(),
        "database": connection.vendor,
        "samples": args.samples,
        "queries_per_compute": max(queries),
        **{
            f"{step}_ms": {"median": round(1000 * statistics.median(v), 1), "p95": ms(v, 0.95)}
            for step, v in timings.items()
        },
    }
    print(f"相关推荐 for one new article at {total} articles ({connection.vendor}, {args.samples} samples):")
    for step, label in (("vector", "vector + TermStat"), ("related", "compute_related"), ("task", "whole task")):
        row = result[f"{step}_ms"]
        print(f"  {label:<20} median {row['median']:>7.1f} ms   p95 {row['p95']:>7.1f} ms")
    print(f"  queries per compute_related: {result['queries_per_compute']}")
    (DATA / "bench-related.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
