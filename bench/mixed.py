"""Mixed load: anonymous readers, signed-in commenters and creators publishing, all at once.

    MASTHEAD_DATA_DIR=$PWD/var/bench-mixed .venv/bin/python bench/mixed.py --articles 2000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mh_bench REDIS_URL=redis://127.0.0.1:6379/9 \\
        MASTHEAD_DATA_DIR=$PWD/var/bench-mixed-pg .venv/bin/python bench/mixed.py --articles 2000

Prepares (or reuses) the database like bench/pages.py, starts gunicorn masthead.wsgi with 2 sync
workers (bench/load.py's helpers) and for --duration seconds runs three streams against it:

- readers: wrk (2 threads, --connections) cycling through the home page, a channel page and a few
  article pages, the ones being commented on among them;
- writers: signed-in readers, each from an address of their own (X-Forwarded-For, one trusted
  proxy), open an article's comments page and post a comment through its form (CSRF token and
  all) at --comments-per-second in total, each writer below the per-user rate limit;
- creators: trusted creators publish one article every 1/--publishes-per-second seconds, taking
  turns: through the studio (open it, 写文章, fill in the writing form, 发布) or, when this version
  has it, the JSON API with a personal access token (POST /api/v1/studio/articles, then …/publish).
  Right after each publish an anonymous reader loads the channel page, which must list it (the
  publish purged the page cache).

Then checks what users would notice: no 5xx and no connection errors in any stream, every comment
whose POST was accepted (2xx/3xx) is in the database, every publish is published and its page
answers 200. A table goes to stdout, everything to $MASTHEAD_DATA_DIR/mixed.json; the exit status
is 1 when a check fails. Skips with a message when wrk is missing.
"""

import argparse
import http.client
import itertools
import json
import math
import os
import platform
import re
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
os.environ.setdefault("MASTHEAD_DATA_DIR", str(BENCH.parent / "var" / "bench"))

CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
CSRF_COOKIE = re.compile(r"csrftoken=([^;]+)")
VERSION_FIELD = re.compile(r'name="version" value="(\d+)"')
ARTICLE_PATH = re.compile(r"/a/(\d+)/")
WRITER_POSTS_PER_MINUTE = 4  # below comment-user-minute (5): writers are never rate limited
REQUEST_TIMEOUT = 30


@dataclass
class Stream:
    """What one stream did: one entry per user action (a comment, a publish)."""

    latencies_ms: list[float] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)  # of the action's last request; 0: no HTTP answer
    failures: list[str] = field(default_factory=list)  # what went wrong, for the report
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, started: float, status: int, failure: str = "") -> None:
        with self.lock:
            self.latencies_ms.append((time.perf_counter() - started) * 1000)
            self.statuses.append(status)
            if failure:
                self.failures.append(failure)

    def summary(self, seconds: float) -> dict:
        ordered = sorted(self.latencies_ms) or [0.0]
        return {
            "actions": len(self.statuses),
            "accepted": sum(200 <= s < 400 for s in self.statuses),
            "4xx": sum(400 <= s < 500 for s in self.statuses),
            "5xx": sum(s >= 500 for s in self.statuses),
            "errors": sum(s == 0 for s in self.statuses),
            "per_s": round(len(self.statuses) / seconds, 2),
            "p50_ms": round(statistics.median(ordered), 1),
            "p95_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))], 1),
            "max_ms": round(ordered[-1], 1),
            "failures": self.failures[:20],
        }


class Browser:
    """One user's cookies and address, speaking HTTP/1.1 to the server without following redirects."""

    def __init__(self, port: int, cookies: dict[str, str] | None = None, ip: str = "", token: str = "") -> None:
        self.port, self.cookies, self.ip, self.token = port, dict(cookies or {}), ip, token

    def request(
        self, method: str, path: str, form: dict | None = None, json_body: dict | None = None
    ) -> tuple[int, dict, str]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}
        if self.token:  # an API client: the token, no cookies
            headers = {"Authorization": f"Bearer {self.token}"}
        if self.ip:
            headers["X-Forwarded-For"] = self.ip
        body = None
        if form is not None:
            body = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif json_body is not None:
            body = json.dumps(json_body, ensure_ascii=False).encode()
            headers["Content-Type"] = "application/json"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode(errors="replace")
        finally:
            conn.close()
        for value in response.headers.get_all("Set-Cookie") or []:
            if found := CSRF_COOKIE.match(value):
                self.cookies["csrftoken"] = found.group(1)
        return response.status, dict(response.headers), text

    def form_token(self, page: str) -> str:
        found = CSRF_FIELD.search(page)
        if not found:
            raise RuntimeError("no CSRF token on the page")
        return found.group(1)


def post_comment(browser: Browser, article_path: str, stream: Stream, accepted: list[str]) -> None:
    started, token = time.perf_counter(), uuid.uuid4().hex
    try:
        status, _, page = browser.request("GET", article_path + "comments/")
        if status != 200:
            return stream.record(started, status, f"comments page {status}")
        form = {
            "csrfmiddlewaretoken": browser.form_token(page),
            "body": f"压测跟帖 {token[:8]}：写得好",
            "client_token": token,
        }
        status, _, page = browser.request("POST", article_path + "comments/post/", form)
    except (OSError, http.client.HTTPException, RuntimeError) as error:
        return stream.record(started, 0, f"comment: {error!r}")
    if 200 <= status < 400:
        with stream.lock:
            accepted.append(token)
    stream.record(started, status, "" if status < 400 else f"comment POST {status}: {page[:200]}")


class Refused(Exception):
    """An answer a user would not have wanted: (status, what)."""


BODY = "<p>" + "清晨的公园里，散步的人越来越多，湖边的柳树也绿了。" * 6 + "</p>"


def publish_by_form(creator: Browser, channel: tuple[int, str], title: str) -> int:
    """The studio's writing page, as a creator uses it: 写文章, fill in the form, 发布."""
    status, _, page = creator.request("GET", "/studio/")
    if status != 200:
        raise Refused(status, "studio")
    status, headers, _ = creator.request("POST", "/studio/new/", {"csrfmiddlewaretoken": creator.form_token(page)})
    edit = headers.get("Location", "")
    if status != 302 or not (found := re.search(r"/studio/a/(\d+)/edit/", edit)):
        raise Refused(status, f"new article → {edit!r}")
    pk = int(found.group(1))
    status, _, page = creator.request("GET", f"/studio/a/{pk}/edit/")
    form = {
        "csrfmiddlewaretoken": creator.form_token(page),
        "version": VERSION_FIELD.search(page).group(1),
        "title": title,
        "summary": "",
        "channel": str(channel[0]),
        "tags": "压测",
        "cover": "",
        "source": "",
        "body": BODY,
        "action": "publish",
    }
    status, _, page = creator.request("POST", f"/studio/a/{pk}/edit/", form)
    if status != 302:
        raise Refused(status, f"publish: {page[:200]}")
    return pk


def publish_by_api(creator: Browser, channel: tuple[int, str], title: str) -> int:
    """The JSON API with a personal access token: start a draft, then publish it."""
    draft = {"title": title, "body_html": BODY, "channel": channel[1], "tags": ["压测"]}
    status, _, answer = creator.request("POST", "/api/v1/studio/articles", json_body=draft)
    if status != 201:
        raise Refused(status, f"API draft: {answer[:200]}")
    pk = json.loads(answer)["id"]
    status, _, answer = creator.request("POST", f"/api/v1/studio/articles/{pk}/publish", json_body={})
    if status != 200:
        raise Refused(status, f"API publish: {answer[:200]}")
    return pk


def publish(creator: Browser, reader: Browser, channel: tuple[int, str], title: str, stream: Stream, done: list):
    """One publish (through the form or the API, as the creator works), then a reader opens the channel page."""
    started = time.perf_counter()
    try:
        pk = (publish_by_api if creator.token else publish_by_form)(creator, channel, title)
        stream.record(started, 200)
        shown, headers, listed = reader.request("GET", f"/c/{channel[1]}/")
    except Refused as refused:
        return stream.record(started, refused.args[0], refused.args[1])
    except (OSError, http.client.HTTPException, RuntimeError, AttributeError, ValueError) as error:
        return stream.record(started, 0, f"publish: {error!r}")
    with stream.lock:
        done.append(
            {
                "pk": pk,
                "via": "api" if creator.token else "form",
                "listed": shown == 200 and title in listed,
                "page": headers.get("X-Page-Cache"),
            }
        )


def api_publishing() -> bool:
    """Whether this version's JSON API can publish (POST /api/v1/studio/articles/{id}/publish)."""
    from django.urls import Resolver404, resolve

    try:
        resolve("/api/v1/studio/articles/1/publish")
    except Resolver404:
        return False
    return True


def page_cache_summary(access_log: str) -> dict:
    """Anonymous GETs by page-cache outcome (count, mean and p95 ms in the app), from the access log."""
    times: dict[str, list[int]] = {"hit": [], "miss": []}
    for line in access_log.splitlines():
        state, ms, method, _path, _status = line.split()
        if method == "GET" and state in times:
            times[state].append(int(ms))
    out = {}
    for state, values in times.items():
        ordered = sorted(values) or [0]
        out[state] = {
            "count": len(values),
            "mean_ms": round(statistics.fmean(ordered), 1),
            "p95_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))],
        }
    total = out["hit"]["count"] + out["miss"]["count"]
    out["hit_ratio"] = round(out["hit"]["count"] / total, 3) if total else 0.0
    return out


def article_reads(access_log: str) -> Counter[int]:
    """Article pages served (GET 200 or 304, cached or not, anonymous or signed in) per article id."""
    reads: Counter[int] = Counter()
    for line in access_log.splitlines():
        _state, _ms, method, path, status = line.split()
        found = ARTICLE_PATH.fullmatch(path)
        if found and method == "GET" and status in ("200", "304"):
            reads[int(found.group(1))] += 1
    return reads


def view_counts() -> dict[int, int]:
    from masthead.articles.models import Article

    return dict(Article.objects.values_list("pk", "view_count"))


def every(interval: float, stop: threading.Event, pool: ThreadPoolExecutor, job) -> None:
    """Submit job(n) every `interval` seconds until stopped (a steady rate, whatever the answers take)."""
    start = time.monotonic()
    for n in itertools.count():
        wait = start + n * interval - time.monotonic()
        if stop.wait(max(wait, 0)):
            return
        pool.submit(job, n)


WRK_SCRIPT = """\
local paths = {{{paths}}}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1])
end
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=100_000, help="synthetic articles (default 100000)")
    parser.add_argument("--duration", type=int, default=30, help="seconds of load (default 30)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    parser.add_argument("--comments-per-second", type=float, default=2.0, help="all writers together (default 2)")
    parser.add_argument("--publishes-per-second", type=float, default=0.33, help="all creators together")
    parser.add_argument("--creators", type=int, default=2)
    parser.add_argument("--output", type=Path, default=None, help="default $MASTHEAD_DATA_DIR/mixed.json")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("bench/mixed.py skipped: wrk not installed (apt-get install wrk)")
        return

    import load  # bench/load.py: server start, wrk
    import pages  # sets Django up with production settings (bench/pages.py)
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from masthead.accounts.models import Account, Badge
    from masthead.articles.models import Article
    from masthead.channels.models import Channel
    from masthead.engagement import counters
    from masthead.engagement.models import Comment

    Status = Article.Status
    pages.prepare(args.articles)
    paths = pages.pages()
    output = args.output or Path(settings.DATA_DIR) / "mixed.json"
    channel = Channel.objects.get(slug=paths["channel"].strip("/").split("/")[-1])
    latest = Article.objects.filter(status=Article.Status.PUBLISHED).order_by("-published_at")[:8]
    commented = [a.get_absolute_url() for a in latest[:4]]
    read = ["/", paths["channel"], paths["article"], *[a.get_absolute_url() for a in latest]]

    # Users of this run, signed in through the configured session engine (Redis too, with REDIS_URL).
    run = uuid.uuid4().hex[:6]
    users = get_user_model().objects

    def session(user) -> dict[str, str]:
        client = Client()
        client.force_login(user)
        return {settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value}

    n_writers = max(1, math.ceil(args.comments_per_second * 60 / WRITER_POSTS_PER_MINUTE))
    subnet = int(run[:2], 16)  # a different /24 each run: the per-address daily comment limit starts afresh
    writers = [
        (session(users.create_user(f"mixed-{run}-w{i}")), f"10.{subnet}.{i // 250}.{i % 250 + 1}")
        for i in range(n_writers)
    ]
    # Creators take turns between the studio's form and the JSON API (when this version has it).
    api = api_publishing()
    creators = []
    for i in range(args.creators):
        user = users.create_user(f"mixed-{run}-c{i}")
        Account.objects.create(owner=user, handle=f"mixed-{run}-{i}", name=f"压测号{run}{i}", badge=Badge.QUALITY)
        if api and i % 2:
            from masthead.api.tokens import create_token

            creators.append(({}, create_token(user, "压测", ["drafts", "publish"])[1]))
        else:
            creators.append((session(user), ""))
    connection.close()

    procs = load.Processes()
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    tmp = Path(tempfile.mkdtemp(prefix="masthead-mixed-"))
    comments, publishes = Stream(), Stream()
    accepted: list[str] = []
    published: list[dict] = []
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MASTHEAD_") or k == "MASTHEAD_DATA_DIR"}
        env.update({"MASTHEAD_DEBUG": "0", "DJANGO_SETTINGS_MODULE": "masthead.settings"})
        env["MASTHEAD_TRUSTED_PROXIES"] = "1"  # writers come from addresses of their own, as behind nginx
        port = load.free_port()
        logfile = tmp / "gunicorn.log"
        access = tmp / "access.log"  # page cache (hit/miss/-), ms, method: the hit ratio
        log_args = [
            "--access-logfile",
            str(access),
            "--access-logformat",
            "%({x-page-cache}o)s %(M)s %(m)s %(U)s %(s)s",
        ]
        counters.flush()
        views_before = view_counts()
        connection.close()
        app = [*load.GUNICORN, f"127.0.0.1:{port}", *log_args, "masthead.wsgi:application"]
        proc = procs.start(app, env, logfile)
        for path in read:
            load.wait_ready(f"http://127.0.0.1:{port}{path}", proc, logfile)
        script = tmp / "paths.lua"
        script.write_text(WRK_SCRIPT.format(paths=", ".join(json.dumps(p) for p in read)))

        writer_browsers = [Browser(port, cookies, ip) for cookies, ip in writers]
        creator_browsers = [
            Browser(port, cookies, f"10.250.0.{i + 1}", token) for i, (cookies, token) in enumerate(creators)
        ]
        anonymous = Browser(port)
        stop = threading.Event()
        pool = ThreadPoolExecutor(max_workers=12)

        def comment_job(n: int) -> None:
            post_comment(writer_browsers[n % n_writers], commented[n % len(commented)], comments, accepted)

        def publish_job(n: int) -> None:
            creator = creator_browsers[n % len(creator_browsers)]
            publish(
                creator, anonymous, (channel.pk, channel.slug), f"压测发布 {run}-{n}：公园的清晨", publishes, published
            )

        schedulers = [
            threading.Thread(target=every, args=(1 / args.comments_per_second, stop, pool, comment_job)),
            threading.Thread(target=every, args=(1 / args.publishes_per_second, stop, pool, publish_job)),
        ]
        for t in schedulers:
            t.start()
        load.log(
            f"mixed load for {args.duration} s: wrk on {len(read)} pages, {n_writers} writers, {len(creators)} creators"
        )
        started = time.monotonic()
        try:
            readers = load.run_wrk(
                f"http://127.0.0.1:{port}/", args.duration, connections=args.connections, script=str(script)
            )
        finally:
            stop.set()
            seconds = time.monotonic() - started  # rates per second of load; actions under way still finish
            for t in schedulers:
                t.join()
            pool.shutdown(wait=True)
        gunicorn_errors = len(re.findall(r"\[ERROR\]|Traceback", logfile.read_text(errors="replace")))
        article_pages = {p["pk"]: anonymous.request("GET", f"/a/{p['pk']}/")[0] for p in published}
    finally:
        procs.stop_all()  # a worker flushes its counts as it exits
        access_log = access.read_text() if access.exists() else ""
        shutil.rmtree(tmp, ignore_errors=True)
    page_cache = page_cache_summary(access_log)
    reads = article_reads(access_log)
    counters.flush()  # what reached Redis and was not flushed yet
    views_after = view_counts()
    counted = {pk: n - views_before.get(pk, 0) for pk, n in views_after.items() if n != views_before.get(pk, 0)}

    stored = set(Comment.objects.filter(client_token__in=accepted).values_list("client_token", flat=True))
    states = dict(Article.objects.filter(pk__in=[p["pk"] for p in published]).values_list("pk", "status"))
    c, p = comments.summary(seconds), publishes.summary(seconds)
    checks = {
        "readers: no non-2xx, no socket errors": readers["non_2xx"] == 0 and not readers["socket_errors"],
        "comments: no 5xx or connection errors": c["5xx"] + c["errors"] == 0,
        f"comments: all {len(accepted)} accepted are in the database": stored == set(accepted),
        "publishes: no 5xx or connection errors": p["5xx"] + p["errors"] == 0,
        f"publishes: all {len(published)} published": all(states.get(d["pk"]) == Status.PUBLISHED for d in published),
        "publishes: each on the channel page right after": all(d["listed"] for d in published),
        "publishes: each article page answers 200": all(s == 200 for s in article_pages.values()),
        "gunicorn logged no errors": gunicorn_errors == 0,
        f"views: each of {sum(reads.values())} article reads counted once": counted == dict(reads),
    }

    import django

    meta = {
        "database": connection.vendor,
        "cache": settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1],
        "sessions": settings.SESSION_ENGINE,
        "articles": Article.objects.filter(status=Article.Status.PUBLISHED).count(),
        "duration_s": round(seconds, 1),
        "gunicorn": "2 sync workers",
        "wrk": f"{args.connections} conn., {len(read)} pages",
        "writers": n_writers,
        "creators": len(creators),
        "python": platform.python_version(),
        "django": django.get_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "time": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    results = {
        "readers": {**readers, "page_cache": page_cache},
        "comments": c,
        "publishes": {
            **p,
            "listed_on_channel": sum(d["listed"] for d in published),
            "via": {via: sum(d["via"] == via for d in published) for via in ("form", "api")},
            "channel_page_cache": {state: sum(d["page"] == state for d in published) for state in ("hit", "miss")},
        },
    }
    print_table(meta, results, checks)
    output.write_text(json.dumps({"meta": meta, "results": results, "checks": checks}, ensure_ascii=False, indent=1))
    print(f"\nresults written to {output}")
    if not all(checks.values()):
        sys.exit(1)


def print_table(meta: dict, results: dict, checks: dict) -> None:
    print(
        f"\nMasthead mixed load: {meta['duration_s']} s, {meta['database']}, {meta['cache']}, sessions "
        f"{meta['sessions']}, {meta['articles']:,} published articles, gunicorn {meta['gunicorn']}, "
        f"Python {meta['python']}, Django {meta['django']}, {meta['machine']}\n"
    )
    head = f"{'stream':<44}{'done':>7}{'/s':>8}{'4xx':>6}{'5xx':>6}{'errors':>8}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}"
    print(head)
    print("-" * len(head))
    r = results["readers"]
    print(
        f"{f'readers: wrk, {meta["wrk"]}':<44}{r['requests']:>7}{r['rps']:8.0f}{r['non_2xx']:>6}{'':>6}"
        f"{r['socket_errors'] or 0!s:>8}{r.get('p50_ms', 0):9.1f}{r.get('p90_ms', 0):9.1f}{r.get('p99_ms', 0):9.1f}"
    )
    labels = {
        "comments": f"writers: comments page + POST ({meta['writers']} users)",
        "publishes": f"creators: form or API, publish ({meta['creators']})",
    }
    for name, label in labels.items():
        s = results[name]
        print(
            f"{label:<44}{s['actions']:>7}{s['per_s']:8.2f}{s['4xx']:>6}{s['5xx']:>6}{s['errors']:>8}"
            f"{s['p50_ms']:9.1f}{s['p95_ms']:9.1f}{s['max_ms']:9.1f}"
        )
    print("(readers: p90 and p99 in the p95 and max columns; 4xx column: all non-2xx/3xx answers)")
    pc = r["page_cache"]
    print(
        f"anonymous pages: {pc['hit_ratio']:.0%} page-cache hits ({pc['hit']['count']} hits, mean "
        f"{pc['hit']['mean_ms']} ms; {pc['miss']['count']} misses, mean {pc['miss']['mean_ms']} ms, "
        f"p95 {pc['miss']['p95_ms']} ms, as gunicorn timed them)"
    )
    print()
    for name, ok in checks.items():
        print(f"  {'ok  ' if ok else 'FAIL'} {name}")
    for name in ("comments", "publishes"):
        for failure in results[name]["failures"][:5]:
            print(f"  {name}: {failure}")
    print(f"load average after the run: {meta['load_average']}")


if __name__ == "__main__":
    main()
