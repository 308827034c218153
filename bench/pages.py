"""Page benchmark: queries and milliseconds per reader page at scale, against Django's own floor.

    make bench                                  # 100,000 synthetic articles in var/bench
    make bench BENCH_ARGS="--articles 20000 --requests 100"

Prepares the database in MASTHEAD_DATA_DIR (migrate, demo content, synthetic articles up to
--articles; an existing database is reused and topped up), then for each page measures through
Django's test Client, i.e. the whole middleware stack:

- queries with a cold fragment cache (empty cache) and a warm one, and the slowest query;
- milliseconds per request with the page cache off: cold fragments (cache emptied before each
  request) and warm fragments (the steady state of a logged-in reader), median and p95;
- milliseconds per page-cache hit (what anonymous readers get);
- the floor: a minimal function view returning the same bytes through the same handler and
  middleware, and each page's rate as a share of that floor.

Results go to stdout as a table and to $MASTHEAD_DATA_DIR/bench-results.json. See bench/README.md.
"""

import argparse
import json
import os
import platform
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("MASTHEAD_DATA_DIR", str(ROOT / "var" / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "masthead.settings")
os.environ["MASTHEAD_DEBUG"] = "0"  # production settings: no debug toolbar-ish overhead, no query log
os.environ["MASTHEAD_PAGE_CACHE_SECONDS"] = "0"  # rounds that want the page cache turn it on
# Buffered view counts are flushed between rounds, not in the middle of one (a flush is several writes).
os.environ["MASTHEAD_COUNTER_FLUSH_SECONDS"] = "1000000"

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.http import HttpRequest, HttpResponse  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import re_path  # noqa: E402

from masthead.accounts.models import Account  # noqa: E402
from masthead.articles.models import Article  # noqa: E402
from masthead.demo.loader import DEMO_HANDLE, load_channel_articles, load_demo  # noqa: E402
from masthead.demo.synthetic import generate_articles  # noqa: E402
from masthead.engagement import counters  # noqa: E402

SLOW_MS = 20.0  # a page slower than this uncached (cold fragments) gets its slow queries explained
SLOW_QUERY_MS = 3.0

# --- The floor: a minimal view returning the same bytes, through the same handler -------------------

FLOOR_BODIES: dict[str, bytes] = {}


def floor_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse(FLOOR_BODIES[request.get_full_path()])


urlpatterns = [re_path(r"", floor_view)]  # this module is the urlconf while the floor is measured


# --- Preparing the data -----------------------------------------------------------------------------


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def prepare(articles: int) -> None:
    started = time.monotonic()
    call_command("migrate", verbosity=0)
    if not (settings.STATIC_ROOT / "staticfiles.json").exists():
        call_command("collectstatic", interactive=False, verbosity=0)  # the manifest {% static %} needs
    if not Account.objects.filter(handle=DEMO_HANDLE).exists():
        log("loading the demo content …")
        load_demo(log=lambda m: log(f"  {m}"))
    synthetic = Article.objects.count() - len(load_channel_articles())
    if synthetic < articles:
        log(f"generating {articles - synthetic} synthetic articles …")
        generate_articles(articles - synthetic, log=lambda m: log(f"  {m}"))
    log(f"data ready in {time.monotonic() - started:.0f} s")


def pages() -> dict[str, str]:
    """The pages to measure; 'article' is a demo article (figures, related), 'article-old' a synthetic one."""
    demo_titles = [spec["title"] for _, spec in load_channel_articles()]
    published = Article.objects.filter(status=Article.Status.PUBLISHED)
    demo_article = published.filter(title__in=demo_titles).order_by("-published_at").first()
    old_article = published.exclude(title__in=demo_titles).order_by("published_at", "pk").first()
    busiest = Account.objects.order_by("-article_count", "pk").first()
    deep = max(1, published.count() // 20 // 5)  # a fifth of the way into the latest list
    urls = {
        "home": "/",
        f"home p.{deep}": f"/?page={deep}",
        "channel": f"/c/{demo_article.channel.slug}/",
        "creator": busiest.get_absolute_url(),
        "article": demo_article.get_absolute_url(),
    }
    if old_article is not None:
        urls["article-old"] = old_article.get_absolute_url()
    return urls


# --- Measuring --------------------------------------------------------------------------------------


def get(client: Client, url: str) -> HttpResponse:
    response = client.get(url)
    if response.status_code != 200:
        raise SystemExit(f"{url} answered {response.status_code}")
    return response


def timed(client: Client, url: str, n: int, before=None) -> list[float]:
    times = []
    for _ in range(n):
        if before:
            before()
        t = time.perf_counter()
        get(client, url)
        times.append((time.perf_counter() - t) * 1000)
    return times


def summary(times: list[float]) -> dict:
    ordered = sorted(times)
    return {
        "median_ms": round(statistics.median(ordered), 3),
        "p95_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))], 3),
        "n": len(ordered),
    }


def short(sql: str) -> str:
    """The SQL with its column list elided, so the FROM/WHERE/ORDER BY that matter are visible."""
    return re.sub(r"^SELECT (DISTINCT )?.*? FROM ", r"SELECT \1… FROM ", sql, count=1, flags=re.S)


def rerun_ms(sql: str) -> float:
    """Time a captured SELECT again, fetching every row: on SQLite the captured time leaves out the
    fetch, which is where most of the work of a bad plan happens."""
    if not sql.lstrip().upper().startswith("SELECT"):
        return 0.0
    with connection.cursor() as cursor:
        t = time.perf_counter()
        cursor.execute(sql)
        cursor.fetchall()
        return (time.perf_counter() - t) * 1000


def explain(sql: str) -> str:
    prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
    with connection.cursor() as cursor:
        cursor.execute(prefix + sql)
        rows = cursor.fetchall()
    if connection.vendor == "sqlite":
        return "\n".join(f"    {row[-1]}" for row in rows)
    return "\n".join(f"    {row[0]}" for row in rows)


def measure(client: Client, name: str, url: str, requests: int, cold_requests: int) -> dict:
    log(f"measuring {name} ({url}) …")
    settings.MASTHEAD_PAGE_CACHE_SECONDS = 0
    cache.clear()
    with CaptureQueriesContext(connection) as cold:
        body = get(client, url).content
    with CaptureQueriesContext(connection) as warm:
        get(client, url)
    timed_queries = [{"ms": round(rerun_ms(q["sql"]), 2), "sql": q["sql"]} for q in cold.captured_queries]
    result = {
        "url": url,
        "bytes": len(body),
        "queries_cold": len(cold),
        "queries_warm": len(warm),
        "slowest_queries": sorted(timed_queries, key=lambda q: q["ms"], reverse=True)[:3],
        "uncached_cold": summary(timed(client, url, cold_requests, before=cache.clear)),
    }
    cache.clear()
    get(client, url)  # fill the fragments
    result["uncached_warm"] = summary(timed(client, url, requests))

    settings.MASTHEAD_PAGE_CACHE_SECONDS = 300
    cache.clear()
    get(client, url)  # fill the page cache
    result["cached"] = summary(timed(client, url, requests))
    settings.MASTHEAD_PAGE_CACHE_SECONDS = 0

    counters.flush()  # the views this round buffered, written outside any timed request
    FLOOR_BODIES[url] = body
    with override_settings(ROOT_URLCONF=__name__):
        result["floor"] = summary(timed(client, url, requests))
    floor = result["floor"]["median_ms"]
    for key in ("uncached_cold", "uncached_warm", "cached"):
        result[key]["share_of_floor"] = round(floor / result[key]["median_ms"], 3)
    return result


def print_table(results: dict[str, dict]) -> None:
    head = (
        f"{'page':<14}{'KB':>5}{'queries':>9}  {'uncached, cold':>15}  {'uncached, warm':>15}  "
        f"{'page cache hit':>15}  {'floor':>6}  {'rate ÷ floor (cold/warm/hit)':>28}"
    )
    sub = (
        f"{'':<14}{'':>5}{'cold/warm':>9}  {'median / p95':>15}  {'median / p95':>15}  "
        f"{'median / p95':>15}  {'median':>6}"
    )
    print(head)
    print(sub)
    print("-" * len(head))
    for name, r in results.items():

        def cell(key: str, r=r) -> str:
            return f"{r[key]['median_ms']:6.2f} / {r[key]['p95_ms']:6.2f}"

        shares = " / ".join(f"{r[k]['share_of_floor']:.3f}" for k in ("uncached_cold", "uncached_warm", "cached"))
        queries = f"{r['queries_cold']:>5}/{r['queries_warm']:<3}"
        print(
            f"{name:<14}{r['bytes'] / 1024:5.0f}{queries}  {cell('uncached_cold'):>15}  "
            f"{cell('uncached_warm'):>15}  {cell('cached'):>15}  {r['floor']['median_ms']:6.2f}  {shares:>28}"
        )
    print("(ms per request through the test client; 'rate ÷ floor' = floor time ÷ page time: 1.0 is the floor)")


def print_slow(results: dict[str, dict]) -> None:
    for name, r in results.items():
        slow = [q for q in r["slowest_queries"] if q["ms"] >= SLOW_QUERY_MS]
        if r["uncached_cold"]["median_ms"] < SLOW_MS and not slow:
            continue
        print(f"\n{name}: {r['uncached_cold']['median_ms']:.1f} ms uncached (cold); slowest queries:")
        for q in r["slowest_queries"]:
            print(f"  {q['ms']:.1f} ms  {short(q['sql'])[:1200]}")
            if q["ms"] >= SLOW_QUERY_MS:
                print(explain(q["sql"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=100_000, help="synthetic articles (default 100000)")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per page and round")
    parser.add_argument("--cold-requests", type=int, default=20, help="timed requests with an emptied cache")
    parser.add_argument("--output", type=Path, default=Path(settings.DATA_DIR) / "bench-results.json")
    args = parser.parse_args()

    prepare(args.articles)
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    client = Client()
    urls = pages()
    get(client, "/")  # first request: imports, template loading, connection setup
    results = {name: measure(client, name, url, args.requests, args.cold_requests) for name, url in urls.items()}

    meta = {
        "articles": Article.objects.filter(status=Article.Status.PUBLISHED).count(),
        "database": connection.vendor,
        "cache": settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1],
        "python": platform.python_version(),
        "django": django.get_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "time": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    print(
        f"\nMasthead page benchmark: {meta['articles']:,} published articles, {meta['database']}, "
        f"{meta['cache']}, Python {meta['python']}, Django {meta['django']}, {meta['machine']}\n"
    )
    print_table(results)
    print_slow(results)
    args.output.write_text(json.dumps({"meta": meta, "pages": results}, ensure_ascii=False, indent=1))
    print(f"\nresults written to {args.output}")


if __name__ == "__main__":
    main()
