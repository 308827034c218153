"""API benchmark: the JSON API next to the HTML article page, wrk on loopback against gunicorn (2 workers).

    MASTHEAD_DATA_DIR=$PWD/var/bench .venv/bin/python bench/api.py                  # 100,000 articles
    MASTHEAD_DATA_DIR=$PWD/var/bench-api .venv/bin/python bench/api.py --articles 2000 --duration 5

Prepares (or reuses) the database like bench/pages.py, then, in one run, loads with wrk (2 threads,
--connections, --duration seconds each) one target after another:

- GET /a/{id}/ (the article page), GET /api/v1/articles/{id} and GET /api/v1/articles, for an
  anonymous caller with the page cache on (the default), then on a second gunicorn with the page
  cache off (MASTHEAD_PAGE_CACHE_SECONDS=0: every request runs the view);
- the two API reads with a personal access token (never page-cached: token lookup and the view).

The API's rate limits are lifted for the servers started here (this measures serving, not refusing).
Requests per second and latency (p50, p95, p99; p95 from wrk's own histogram through a Lua `done`
hook) go to stdout as a table and to $MASTHEAD_DATA_DIR/api-bench.json, with the queries and the
median milliseconds each uncached target costs in-process (test client: steadier on a busy machine).
Skips with a message when wrk is missing. Servers are stopped on exit.
"""

import argparse
import json
import os
import platform
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

# Lua for wrk: write the 95th percentile (microseconds) where the run can read it.
P95_SCRIPT = """done = function(summary, latency, requests)
  local f = io.open("{path}", "w")
  f:write(latency:percentile(95))
  f:close()
end
"""
NO_LIMITS = {"MASTHEAD_API_TOKEN_RATE": "1000000000", "MASTHEAD_API_IP_RATE": "1000000000"}


def measure(load, url: str, args, tmp: Path, headers: dict | None = None) -> dict:
    p95_file = tmp / "p95.txt"
    script = tmp / "p95.lua"
    script.write_text(P95_SCRIPT.format(path=p95_file))
    result = load.run_wrk(url, args.duration, headers, connections=args.connections, script=str(script))
    result["p95_ms"] = round(float(p95_file.read_text()) / 1000, 3)
    p95_file.unlink()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=100_000, help="synthetic articles (default 100000)")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run (default 10)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    parser.add_argument("--requests", type=int, default=50, help="in-process timed requests per target")
    parser.add_argument("--output", type=Path, default=None, help="default $MASTHEAD_DATA_DIR/api-bench.json")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("bench/api.py skipped: wrk not installed (apt-get install wrk)")
        return

    import load
    import pages  # sets Django up with production settings (bench/pages.py)
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from masthead.api import tokens
    from masthead.articles.models import Article

    pages.prepare(args.articles)
    page_path = pages.pages()["article"]
    article_id = int(page_path.strip("/").rsplit("/", 1)[-1])
    paths = {"page": page_path, "detail": f"/api/v1/articles/{article_id}", "list": "/api/v1/articles"}
    output = args.output or Path(settings.DATA_DIR) / "api-bench.json"

    # A token for the signed-in rows, stored in the database the servers use.
    user, _ = get_user_model().objects.get_or_create(username="api-bench-reader")
    for old in tokens.live_tokens(user):  # one live token per run
        tokens.revoke(user, old)
    _row, raw = tokens.create_token(user, "bench", ["read"])
    bearer = {"Authorization": f"Bearer {raw}"}

    # In-process, page cache off and fragments warm (the steady state): queries and ms per request.
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    settings.MASTHEAD_API_IP_RATE = settings.MASTHEAD_API_TOKEN_RATE = (1_000_000_000, 60)
    clients = {"anonymous": Client(), "token": Client(headers=bearer)}
    in_process = {}
    for name, path in paths.items():
        for caller, client in clients.items():
            if name == "page" and caller == "token":
                continue
            pages.get(client, path)
            with CaptureQueriesContext(connection) as captured:
                pages.get(client, path)
            in_process[f"{name}/{caller}"] = {
                "queries": len(captured),
                **pages.summary(pages.timed(client, path, args.requests)),
            }
    connection.close()

    procs = load.Processes()
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    tmp = Path(tempfile.mkdtemp(prefix="masthead-api-bench-"))
    try:
        results = run_servers(load, args, procs, tmp, paths, bearer)
    finally:
        procs.stop_all()
        shutil.rmtree(tmp, ignore_errors=True)

    import django

    meta = {
        "articles": Article.objects.filter(status=Article.Status.PUBLISHED).count(),
        "paths": paths,
        "database": connection.vendor,
        "cache": settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1],
        "gunicorn": "2 sync workers",
        "wrk": f"2 threads, {args.connections} connections, {args.duration} s",
        "python": platform.python_version(),
        "django": django.get_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "time": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    for key, result in results.items():
        if not key.startswith("cached/"):
            result["in_process"] = in_process[key.split("/", 1)[1]]
    print_table(meta, results)
    output.write_text(json.dumps({"meta": meta, "results": results}, ensure_ascii=False, indent=1))
    print(f"\nresults written to {output}")


def run_servers(load, args, procs, tmp: Path, paths: dict, bearer: dict) -> dict:
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("MASTHEAD_") or k == "MASTHEAD_DATA_DIR"}
    base_env.update({"MASTHEAD_DEBUG": "0", "DJANGO_SETTINGS_MODULE": "masthead.settings", **NO_LIMITS})
    servers = {"cached": {}, "uncached": {"MASTHEAD_PAGE_CACHE_SECONDS": "0"}}
    bases = {}
    for name, extra in servers.items():
        port = load.free_port()
        bases[name] = f"http://127.0.0.1:{port}"
        logfile = tmp / f"{name}.log"
        proc = procs.start(
            [*load.GUNICORN, f"127.0.0.1:{port}", "masthead.wsgi:application"], {**base_env, **extra}, logfile
        )
        for path in paths.values():
            load.wait_ready(bases[name] + path, proc, logfile)
    _body, headers = load.fetch(bases["cached"] + paths["detail"], bearer)
    if "private" not in headers.get("Cache-Control", ""):
        raise SystemExit("the token was not accepted: the answer is the anonymous one")

    targets = [
        (f"{server}/{name}/anonymous", bases[server] + path, None)
        for server in ("cached", "uncached")
        for name, path in paths.items()
    ]
    targets += [(f"uncached/{name}/token", bases["cached"] + paths[name], bearer) for name in ("detail", "list")]
    results = {}
    for key, url, headers in targets:
        load.log(f"wrk {key}: {url}")
        results[key] = measure(load, url, args, tmp, headers)
    return results


LABELS = {
    "cached/page/anonymous": "page /a/{id}/, page cache",
    "cached/detail/anonymous": "API /articles/{id}, page cache",
    "cached/list/anonymous": "API /articles, page cache",
    "uncached/page/anonymous": "page /a/{id}/, uncached",
    "uncached/detail/anonymous": "API /articles/{id}, uncached",
    "uncached/list/anonymous": "API /articles, uncached",
    "uncached/detail/token": "API /articles/{id}, token",
    "uncached/list/token": "API /articles, token",
}


def print_table(meta: dict, results: dict) -> None:
    print(
        f"\nMasthead API benchmark: {meta['paths']['page']} and its JSON, {meta['articles']:,} published "
        f"articles, {meta['database']}, {meta['cache']}, gunicorn {meta['gunicorn']}, wrk {meta['wrk']}, "
        f"Python {meta['python']}, Django {meta['django']}, {meta['machine']}\n"
    )
    head = f"{'target':<34}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'errors':>8}"
    head += f"{'queries':>9}{'in-proc ms':>12}"
    print(head)
    print("-" * len(head))
    for key, label in LABELS.items():
        r = results[key]
        inproc = r.get("in_process")
        extra = f"{inproc['queries']:>9}{inproc['median_ms']:12.1f}" if inproc else ""
        print(
            f"{label:<34}{r['rps']:9.0f}{r.get('p50_ms', 0):9.2f}{r['p95_ms']:9.2f}{r.get('p99_ms', 0):9.2f}"
            f"{r['non_2xx']:>8}{extra}"
        )
    page, detail = results["uncached/page/anonymous"]["rps"], results["uncached/detail/anonymous"]["rps"]
    print(f"\nuncached: API article ÷ HTML page {detail / page:.2f} in req/s (the same rows, no template)")
    print("in-proc ms: median through Django's test client, page cache off, fragments warm (no network, no wrk)")
    print(f"load average after the run: {meta['load_average']} (the machine is shared: compare ratios, not rates)")


if __name__ == "__main__":
    main()
