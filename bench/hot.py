"""Hot-list benchmark: a day of read events through the real recording path, then the refresh.

    make bench                                           # part of it: 1,000,000 reads over 5,000 articles
    python bench/hot.py --events 200000 --articles 2000  # smaller

Works in MASTHEAD_DATA_DIR (var/bench by make bench): migrates, and tops the published articles up
to --articles with the demo content and synthetic articles when there are fewer. Then:

1. records --events reads with engagement.readers.record_view (the same call an article page and a
   page-cache hit make): readers drawn with a Zipf-like popularity over the articles, about three reads
   per reader, a share of crawler reads, and one article attacked by 20,000 scripted "readers" from
   one /24. The events are spread over the last 24 hours (`at=`), so they fill hourly and daily rows
   as a day of traffic would;
2. flushes the counters (`counters.flush`, what requests do every 10 s) and merges the hot list's
   source evidence (what requests do every few seconds), each timed;
3. times `hot_score.refresh()` (median of --repeat runs): the measure, "hot-list refresh time".

Prints a table and writes $MASTHEAD_DATA_DIR/bench-hot.json.
"""

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("MASTHEAD_DATA_DIR", str(ROOT / "var" / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "masthead.settings")
os.environ["MASTHEAD_DEBUG"] = "0"
# Flushes and merges happen between the timed steps, not at random inside the recording loop.
os.environ["MASTHEAD_COUNTER_FLUSH_SECONDS"] = "1000000"

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import AnonymousUser  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.http import HttpRequest  # noqa: E402
from django.utils import timezone  # noqa: E402

from masthead.accounts.models import Account  # noqa: E402
from masthead.articles.models import Article  # noqa: E402
from masthead.demo.loader import DEMO_HANDLE, load_demo  # noqa: E402
from masthead.demo.synthetic import generate_articles  # noqa: E402
from masthead.discovery import hot, hot_score  # noqa: E402
from masthead.discovery.models import HotScore  # noqa: E402
from masthead.engagement import counters, readers  # noqa: E402

settings.MASTHEAD_HOT_MERGE_SECONDS = 1_000_000
AGENTS = [
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 MicroMessenger/8.0.50",
    "Mozilla/5.0 (Linux; Android 14; V2309A) AppleWebKit/537.36 Chrome/126.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/140.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Version/18.0 Safari/605.1.15",
]
BOTS = ["Mozilla/5.0 (compatible; Baiduspider/2.0)", "Mozilla/5.0 (compatible; Bytespider)", "curl/8.5.0"]
ATTACK_READS = 20_000


def prepare(articles: int) -> list[int]:
    call_command("migrate", verbosity=0)
    have = Article.objects.filter(status=Article.Status.PUBLISHED).count()
    if have < articles:
        if not Account.objects.filter(handle=DEMO_HANDLE).exists():
            load_demo(log=lambda m: None)
            have = Article.objects.filter(status=Article.Status.PUBLISHED).count()
        if have < articles:
            print(f"generating {articles - have} synthetic articles …", flush=True)
            generate_articles(articles - have, log=lambda m: None)
    return list(
        Article.objects.filter(status=Article.Status.PUBLISHED)
        .order_by("-published_at")
        .values_list("pk", flat=True)[:articles]
    )


def request_for(ip: str, agent: str) -> HttpRequest:
    request = HttpRequest()
    request.method = "GET"
    request.META = {"REMOTE_ADDR": ip, "HTTP_USER_AGENT": agent}
    request.user = AnonymousUser()
    return request


def record(ids: list[int], events: int, rng: random.Random) -> float:
    """`events` reads through record_view; returns the seconds it took."""
    now = timezone.now()
    weights = [1 / (rank + 1) ** 0.9 for rank in range(len(ids))]  # a few articles take most reads
    population = max(events // 3, 1)  # about three reads per reader over the day
    attacked = ids[len(ids) // 2]  # a middling article someone tries to push up
    organic = events - ATTACK_READS
    targets = rng.choices(ids, weights=weights, k=organic)
    start = time.perf_counter()
    for i, article_id in enumerate(targets):
        reader = rng.randrange(population)
        if reader % 50 == 0:  # 2 % of the traffic: crawlers
            request = request_for(f"66.249.{reader % 256}.{reader % 200}", BOTS[reader % len(BOTS)])
        else:
            ip = f"{1 + reader % 223}.{(reader // 223) % 256}.{(reader * 7) % 256}.{reader % 254 + 1}"
            request = request_for(ip, AGENTS[reader % len(AGENTS)])
        readers.record_view(request, article_id, at=now - timedelta(seconds=(i * 86400) // organic))
    for i in range(ATTACK_READS):  # one /24, a new User-Agent each time: 20,000 "distinct readers"
        request = request_for(f"203.0.113.{i % 250 + 1}", f"{AGENTS[2]} r{i}")
        readers.record_view(request, attacked, at=now - timedelta(seconds=i))
    return time.perf_counter() - start


def timed(func) -> float:
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--articles", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if args.events <= ATTACK_READS:
        parser.error(f"--events must be more than {ATTACK_READS}")
    rng = random.Random(2026)
    backend = settings.CACHES["default"]["BACKEND"]
    print(f"database: {connection.vendor}; counters: {settings.MASTHEAD_COUNTERS}; cache: {backend}")
    ids = prepare(args.articles)
    print(f"{len(ids)} articles; recording {args.events:,} reads …", flush=True)
    recording = record(ids, args.events, rng)
    flushing = timed(counters.flush)
    merging = timed(hot_score.merge_sources)
    runs = []
    for _ in range(args.repeat):
        runs.append(timed(hot_score.refresh))
    computed = hot_score.compute()
    attacked = ids[len(ids) // 2]
    attacked_heat = next((h for h in computed if h.article_id == attacked), None)
    listing = timed(lambda: hot.ranking(10))
    results = {
        "database": connection.vendor,
        "counters": settings.MASTHEAD_COUNTERS,
        "cache": settings.CACHES["default"]["BACKEND"],
        "python": platform.python_version(),
        "events": args.events,
        "articles": len(ids),
        "record_us_per_event": recording / args.events * 1e6,
        "flush_s": flushing,
        "merge_s": merging,
        "refresh_s_median": statistics.median(runs),
        "refresh_s_runs": runs,
        "candidates": len(computed),
        "stored_rows": HotScore.objects.count(),
        "read_list_ms": listing * 1000,
        "attacked_article_effective_readers": attacked_heat.readers if attacked_heat else 0,
    }
    rows = [
        ("record_view, per read", f"{results['record_us_per_event']:.1f} µs"),
        ("counter flush", f"{flushing:.2f} s"),
        ("source evidence merge", f"{merging:.2f} s"),
        (f"hot-list refresh (median of {args.repeat})", f"{results['refresh_s_median'] * 1000:.0f} ms"),
        ("articles scored / rows stored", f"{len(computed)} / {results['stored_rows']}"),
        ("reading the top 10 (2 queries)", f"{listing * 1000:.1f} ms"),
        (
            f"attacked article: {ATTACK_READS:,} scripted readers count as",
            f"{results['attacked_article_effective_readers']:.1f}",
        ),
    ]
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label:<{width}}  {value}")
    out = Path(settings.DATA_DIR) / "bench-hot.json"
    out.write_text(json.dumps(results, indent=2))
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
