"""Load benchmark: wrk on loopback against gunicorn (2 workers), Django's floor, and nginx.

    MASTHEAD_DATA_DIR=$PWD/var/bench .venv/bin/python bench/load.py             # 100,000 articles
    MASTHEAD_DATA_DIR=$PWD/var/bench-load .venv/bin/python bench/load.py --articles 2000

Prepares (or reuses) the database like bench/pages.py, then runs wrk (2 threads, 32 connections,
--duration seconds, --latency) one target after another against a demo article's page:

- ours: gunicorn masthead.wsgi, anonymous reader, page cache on (the default);
- floor: a second gunicorn with the same settings serving the same bytes from a minimal Django view
  through the same middleware (bench/load_floor.py) with the page cache off; ours and the floor
  alternate --rounds times, and "ours ÷ floor" is the median of the rounds' ratios;
- static: nginx serving the same bytes as a file (the machine's ceiling);
- nginx micro-cache: nginx with proxy_cache (1 s valid, lock, stale while updating) in front of ours;
- uncached: a gunicorn with MASTHEAD_PAGE_CACHE_SECONDS=0 (plus queries and ms per page in-process);
- signed in: ours with a reader's session cookie (never page-cached).

Skips with a message when wrk or nginx is missing. Results go to stdout as a table and to
$MASTHEAD_DATA_DIR/load.json. Every process started here is stopped on exit, also on errors.
"""

import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
os.environ.setdefault("MASTHEAD_DATA_DIR", str(ROOT / "var" / "bench"))
VENV_BIN = Path(sys.executable).parent
GUNICORN = [str(VENV_BIN / "gunicorn"), "--workers", "2", "--bind"]  # + "127.0.0.1:port", app


def missing_tools() -> list[str]:
    return [tool for tool in ("wrk", "nginx") if not shutil.which(tool) and not Path(f"/usr/sbin/{tool}").exists()]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


class Processes:
    """The child processes of this run, each in its own process group, stopped on exit."""

    def __init__(self) -> None:
        self.children: list[subprocess.Popen] = []

    def start(self, args: list[str], env: dict[str, str], logfile: Path) -> subprocess.Popen:
        out = logfile.open("wb")
        proc = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        self.children.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in self.children:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.children:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def wait_ready(url: str, proc: subprocess.Popen, logfile: Path, headers: dict | None = None) -> bytes:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{url}: server exited; see {logfile}:\n{logfile.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=10) as r:
                if r.status == 200:
                    return r.read()
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.3)
    raise SystemExit(f"{url} did not answer within 60 s; see {logfile}")


def fetch(url: str, headers: dict | None = None) -> tuple[bytes, dict]:
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=10) as r:
        return r.read(), dict(r.headers)


UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def to_ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * UNITS[unit]


def run_wrk(
    url: str, duration: int, headers: dict | None = None, connections: int = 32, threads: int = 2, script: str = ""
) -> dict:
    args = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "10s"]
    if script:  # a Lua file, e.g. one choosing the path of each request (bench/mixed.py)
        args += ["-s", script]
    for name, value in (headers or {}).items():
        args += ["-H", f"{name}: {value}"]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True, timeout=duration + 60).stdout
    result = {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "connections": connections,
        "duration_s": duration,
    }
    for pct, value in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)\s*$", out, flags=re.M):
        result[f"p{pct}_ms"] = round(to_ms(value), 3)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result["non_2xx"] = int(errors.group(1)) if errors else 0
    sockets = re.search(r"Socket errors: (.*)", out)
    result["socket_errors"] = sockets.group(1).strip() if sockets else ""
    return result


NGINX_CONF = """\
{user}
worker_processes auto;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    default_type text/html;
    sendfile on;
    keepalive_requests 100000;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy_temp;
    fastcgi_temp_path {tmp}/fastcgi_temp;
    uwsgi_temp_path {tmp}/uwsgi_temp;
    scgi_temp_path {tmp}/scgi_temp;
    proxy_cache_path {tmp}/microcache levels=1:2 keys_zone=pages:10m max_size=200m inactive=10m use_temp_path=off;

    # (b) the ceiling: the same bytes as a static file, at the same path
    server {{
        listen 127.0.0.1:{static_port};
        root {tmp}/static;
        location / {{ try_files /page.html =404; }}
    }}

    # (c) the documented deployment: a 1-second micro-cache in front of gunicorn
    server {{
        listen 127.0.0.1:{cache_port};
        location / {{
            proxy_pass http://127.0.0.1:{app_port};
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_cache pages;
            proxy_cache_valid 200 1s;
            # Pages say max-age=0 so browsers revalidate; the micro-cache stores them anyway. Vary
            # (Cookie, Accept-Language) is still honoured, and responses setting a cookie are not stored.
            proxy_ignore_headers Cache-Control Expires;
            proxy_cache_lock on;
            proxy_cache_use_stale updating error timeout;
            # Signed-in readers (session cookie) go straight through and are never stored.
            proxy_cache_bypass $cookie_sessionid;
            proxy_no_cache $cookie_sessionid;
            add_header X-Cache $upstream_cache_status;
        }}
    }}
}}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=100_000, help="synthetic articles (default 100000)")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run (default 10)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating runs of ours and the floor (default 3)")
    parser.add_argument("--requests", type=int, default=50, help="in-process timed requests, uncached page")
    parser.add_argument("--output", type=Path, default=None, help="default $MASTHEAD_DATA_DIR/load.json")
    args = parser.parse_args()

    if missing := missing_tools():
        print(f"bench/load.py skipped: {' and '.join(missing)} not installed (apt-get install nginx wrk)")
        return

    sys.path.insert(0, str(BENCH))
    import pages  # sets Django up with production settings (bench/pages.py)
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    pages.prepare(args.articles)
    url_path = pages.pages()["article"]
    output = args.output or Path(settings.DATA_DIR) / "load.json"

    # In-process: queries and ms per uncached page, with a cold fragment cache (emptied before each
    # request) and a warm one (the steady state), as bench/pages.py measures them.
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    settings.MASTHEAD_PAGE_CACHE_SECONDS = 0
    client = Client()
    cache.clear()
    with CaptureQueriesContext(connection) as cold:
        pages.get(client, url_path)
    with CaptureQueriesContext(connection) as warm:
        pages.get(client, url_path)
    uncached_inprocess = {
        "queries_cold": len(cold),
        "queries_warm": len(warm),
        "cold": pages.summary(pages.timed(client, url_path, max(5, args.requests // 5), before=cache.clear)),
        "warm": pages.summary(pages.timed(client, url_path, args.requests)),
    }

    # A signed-in reader's session, stored in the same database the servers use.
    reader, _ = get_user_model().objects.get_or_create(username="load-bench-reader")
    client.force_login(reader)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    with CaptureQueriesContext(connection) as captured:
        pages.get(client, url_path)
    signed_in_queries = len(captured)
    signed_in_inprocess = pages.summary(pages.timed(client, url_path, args.requests))
    connection.close()

    procs = Processes()
    # A terminated run still stops its servers: SIGTERM becomes SystemExit, so `finally` runs.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    tmp = Path(tempfile.mkdtemp(prefix="masthead-load-"))
    try:
        results, body = run_servers(args, procs, tmp, url_path, cookie)
    finally:
        procs.stop_all()
        shutil.rmtree(tmp, ignore_errors=True)
    results["uncached"]["in_process"] = uncached_inprocess
    results["signed_in"]["queries"] = signed_in_queries
    results["signed_in"]["in_process"] = signed_in_inprocess

    import django

    from masthead.articles.models import Article

    meta = {
        "articles": Article.objects.filter(status=Article.Status.PUBLISHED).count(),
        "url": url_path,
        "bytes": len(body),
        "database": connection.vendor,
        "cache": settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1],
        "gunicorn": "2 sync workers",
        "wrk": f"2 threads, {args.connections} connections, {args.duration} s ({args.rounds} rounds ours/floor)",
        "nginx": subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "time": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    ratios = {
        "ours_over_floor": round(results["ours"]["over_floor_median"], 3),
        "ours_over_static": round(results["ours"]["rps"] / results["static"]["rps"], 3),
        "nginx_cache_over_static": round(results["nginx_cache"]["rps"] / results["static"]["rps"], 3),
    }
    print_table(meta, results, ratios)
    output.write_text(json.dumps({"meta": meta, "results": results, "ratios": ratios}, ensure_ascii=False, indent=1))
    print(f"\nresults written to {output}")


def run_servers(args, procs: Processes, tmp: Path, url_path: str, cookie: str) -> tuple[dict, bytes]:
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("MASTHEAD_") or k == "MASTHEAD_DATA_DIR"}
    base_env.update({"MASTHEAD_DEBUG": "0", "DJANGO_SETTINGS_MODULE": "masthead.settings"})
    ports = {name: free_port() for name in ("ours", "floor", "uncached", "static", "nginx_cache")}
    urls = {name: f"http://127.0.0.1:{port}{url_path}" for name, port in ports.items()}

    def gunicorn(name: str, app: list[str], extra: dict) -> bytes:
        logfile = tmp / f"{name}.log"
        proc = procs.start([*GUNICORN, f"127.0.0.1:{ports[name]}", *app], {**base_env, **extra}, logfile)
        return wait_ready(urls[name], proc, logfile)

    # Our page as gunicorn answers it (its absolute URLs name this host) is the floor's and nginx's body.
    body = gunicorn("ours", ["masthead.wsgi:application"], {})
    gunicorn("uncached", ["masthead.wsgi:application"], {"MASTHEAD_PAGE_CACHE_SECONDS": "0"})
    (tmp / "static").mkdir()
    (tmp / "static" / "page.html").write_bytes(body)
    (tmp / "body.html").write_bytes(body)
    floor_env = {"MASTHEAD_FLOOR_BODY": str(tmp / "body.html"), "MASTHEAD_PAGE_CACHE_SECONDS": "0"}
    if gunicorn("floor", ["--pythonpath", str(BENCH), "load_floor:application"], floor_env) != body:
        raise SystemExit("the floor does not answer the same bytes as the page")

    user = "user root;" if os.geteuid() == 0 else ""  # workers must write the cache dir this run creates
    conf = NGINX_CONF.format(
        user=user, tmp=tmp, static_port=ports["static"], cache_port=ports["nginx_cache"], app_port=ports["ours"]
    )
    (tmp / "nginx.conf").write_text(conf)
    nginx_args = [shutil.which("nginx") or "/usr/sbin/nginx", "-p", str(tmp), "-c", str(tmp / "nginx.conf")]
    nginx = procs.start([*nginx_args, "-e", str(tmp / "nginx-error.log")], base_env, tmp / "nginx.log")
    if wait_ready(urls["static"], nginx, tmp / "nginx-error.log") != body:
        raise SystemExit("nginx does not serve the same bytes as the page")
    wait_ready(urls["nginx_cache"], nginx, tmp / "nginx-error.log")
    _, headers = fetch(urls["nginx_cache"])
    if headers.get("X-Cache") not in ("HIT", "UPDATING", "STALE"):
        raise SystemExit(f"the nginx micro-cache does not store the page (X-Cache: {headers.get('X-Cache')})")

    results = {"static": run_wrk(urls["static"], args.duration, connections=args.connections)}
    # Ours and the floor alternate, and the ratio is the median of the rounds' ratios: on a shared
    # machine one run each, seconds apart, compares two different background loads.
    rounds: dict[str, list[dict]] = {"ours": [], "floor": []}
    for n in range(args.rounds):
        for name in rounds:
            log(f"wrk {name} (round {n + 1} of {args.rounds}): {urls[name]}")
            rounds[name].append(run_wrk(urls[name], args.duration, connections=args.connections))
    ratios = sorted(o["rps"] / f["rps"] for o, f in zip(rounds["ours"], rounds["floor"], strict=True))
    for name, runs in rounds.items():
        results[name] = {**sorted(runs, key=lambda r: r["rps"])[len(runs) // 2], "rounds_rps": [r["rps"] for r in runs]}
    results["ours"]["over_floor_median"] = ratios[len(ratios) // 2]
    targets = [
        ("nginx_cache", urls["nginx_cache"], None),
        ("uncached", urls["uncached"], None),
        ("signed_in", urls["ours"], {"Cookie": cookie}),
    ]
    for name, url, headers in targets:
        if headers:  # the session must be live: a signed-in page is not the anonymous one
            got, _ = fetch(url, headers)
            if got == body:
                raise SystemExit("the session cookie was not accepted: the signed-in page is the anonymous one")
        log(f"wrk {name}: {url}")
        results[name] = run_wrk(url, args.duration, headers, connections=args.connections)
    return results, body


LABELS = {
    "static": "(b) nginx, static file",
    "nginx_cache": "(c) nginx micro-cache → ours",
    "ours": "ours, page cache (anonymous)",
    "floor": "(a) floor: minimal Django view",
    "uncached": "ours, page cache off",
    "signed_in": "ours, signed-in reader",
}


def print_table(meta: dict, results: dict, ratios: dict) -> None:
    print(
        f"\nMasthead load benchmark: {meta['url']} ({meta['bytes'] / 1024:.0f} KB), {meta['articles']:,} "
        f"published articles, {meta['database']}, {meta['cache']}, gunicorn {meta['gunicorn']}, wrk "
        f"{meta['wrk']}, {meta['nginx']}, Python {meta['python']}, Django {meta['django']}, {meta['machine']}\n"
    )
    head = f"{'target':<32}{'req/s':>9}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}{'errors':>8}"
    print(head)
    print("-" * len(head))
    for name in LABELS:
        r = results[name]
        print(
            f"{LABELS[name]:<32}{r['rps']:9.0f}{r.get('p50_ms', 0):9.2f}{r.get('p90_ms', 0):9.2f}"
            f"{r.get('p99_ms', 0):9.2f}{r['non_2xx']:>8}"
        )
    inproc = results["uncached"]["in_process"]
    print(
        f"\nuncached page in-process (test client, page cache off): "
        f"cold fragments {inproc['queries_cold']} queries, {inproc['cold']['median_ms']:.1f} ms median; "
        f"warm fragments {inproc['queries_warm']} queries, {inproc['warm']['median_ms']:.1f} ms median, "
        f"{inproc['warm']['p95_ms']:.1f} ms p95; signed-in page: {results['signed_in']['queries']} queries, "
        f"{results['signed_in']['in_process']['median_ms']:.1f} ms median"
    )
    rounds = zip(results["ours"]["rounds_rps"], results["floor"]["rounds_rps"], strict=True)
    print("req/s per round, ours / floor: " + ", ".join(f"{o:.0f} / {f:.0f} ({o / f:.2f})" for o, f in rounds))
    print(
        f"ours ÷ floor {ratios['ours_over_floor']:.2f} (median of the rounds; target ≥ 0.8), "
        f"ours ÷ static {ratios['ours_over_static']:.2f}, "
        f"nginx micro-cache ÷ static {ratios['nginx_cache_over_static']:.2f} (target ≥ 0.7)"
    )
    print(f"load average after the run: {meta['load_average']} (the machine is shared: compare ratios, not rates)")


if __name__ == "__main__":
    main()
