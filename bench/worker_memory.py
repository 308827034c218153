"""Memory of one app worker: the resident size of a gunicorn worker serving reader pages.

    .venv/bin/python bench/worker_memory.py                      # the page bench's data (var/bench)
    MASTHEAD_DATA_DIR=var/bench-quality .venv/bin/python bench/worker_memory.py --requests 400

Starts `gunicorn masthead.wsgi` with one sync worker on the data directory's database (prepared
with `masthead run --prepare-only` when it has no articles yet), sends a warm-up round of every kind
of page, then `--requests` mixed reader requests (home and its deeper pages, channels, articles,
creators, the hot list, searches, feeds), and reads the worker's memory from /proc: VmRSS (what
`ps` and `top` show), VmHWM (its peak) and, from smaps_rollup, Pss and Private (its own share, with
the pages it shares with the master after fork counted once). The full-page cache is off
(MASTHEAD_PAGE_CACHE_SECONDS=0), so every request renders: the worst case for the worker.
Linux only (reads /proc).
"""

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("MASTHEAD_DATA_DIR", str(ROOT / "var" / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "masthead.settings")
os.environ["MASTHEAD_DEBUG"] = "0"
os.environ["MASTHEAD_PAGE_CACHE_SECONDS"] = "0"
BIN = Path(sys.executable).parent
SEARCHES = ["人工智能", "比赛", "房价", "新能源汽车", "手机", "教育", "旅游 攻略", "股市", "电影", "健康"]


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def memory(pid: int) -> dict[str, int]:
    """KiB figures of one process."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0])
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        key, _, value = line.partition(":")
        if key in ("Pss", "Private_Clean", "Private_Dirty"):
            out[key] = int(value.split()[0])
    out["Private"] = out.pop("Private_Clean", 0) + out.pop("Private_Dirty", 0)
    return out


def children(pid: int) -> list[int]:
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def urls(rng: random.Random, n: int) -> list[str]:
    import django

    django.setup()
    from masthead.accounts.models import Account
    from masthead.articles.models import Article
    from masthead.channels.models import Channel

    articles = list(Article.objects.filter(status="published").values_list("pk", flat=True))
    if not articles:
        raise SystemExit("no published articles in this data directory")
    channels = list(Channel.objects.filter(is_active=True).values_list("slug", flat=True))
    creators = list(Account.objects.filter(article_count__gt=0).values_list("handle", flat=True)[:200])
    kinds = [
        (35, lambda: f"/a/{rng.choice(articles)}/"),
        (15, lambda: "/" if rng.random() < 0.6 else f"/?page={rng.randint(2, 20)}"),
        (15, lambda: f"/c/{rng.choice(channels)}/"),
        (10, lambda: f"/u/{rng.choice(creators)}/" if creators else "/"),
        (10, lambda: "/search/?q=" + urllib.request.quote(rng.choice(SEARCHES))),
        (10, lambda: "/hot/"),
        (5, lambda: "/feed/rss/" if rng.random() < 0.5 else f"/c/{rng.choice(channels)}/atom/"),
    ]
    weights = [w for w, _ in kinds]
    return [rng.choices(kinds, weights)[0][1]() for _ in range(n)]


def fetch(base: str, path: str) -> int:
    try:
        with urllib.request.urlopen(base + path, timeout=60) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=40)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    env = {**os.environ}
    subprocess.run([BIN / "masthead", "run", "--prepare-only"], env=env, check=True, stdout=subprocess.DEVNULL)
    rng = random.Random(args.seed)
    warmup, measured = urls(rng, args.warmup), urls(rng, args.requests)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    logfile = Path(env["MASTHEAD_DATA_DIR"]) / "worker-memory-gunicorn.log"
    argv = [BIN / "gunicorn", "masthead.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1", "--timeout", "120"]
    with logfile.open("w") as log_out:
        master = subprocess.Popen(argv, env=env, stdout=log_out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                fetch(base, "/robots.txt")
                break
            except OSError:
                if time.monotonic() > deadline or master.poll() is not None:
                    raise SystemExit(f"gunicorn did not start; see {logfile}") from None
                time.sleep(0.3)
        (worker,) = children(master.pid)
        started = memory(worker)
        statuses: dict[int, int] = {}
        for path in warmup:
            fetch(base, path)
        warm = memory(worker)
        began = time.perf_counter()
        for path in measured:
            status = fetch(base, path)
            statuses[status] = statuses.get(status, 0) + 1
        seconds = time.perf_counter() - began
        after = memory(worker)
        master_mem = memory(master.pid)
    finally:
        master.terminate()
        master.wait(timeout=30)
    result = {
        "database": os.environ.get("DATABASE_URL", "sqlite").split("@")[-1],
        "cache": "redis" if os.environ.get("REDIS_URL") else "file",
        "requests": args.requests,
        "statuses": statuses,
        "ms_per_request": seconds * 1000 / args.requests,
        "worker_kib": {"started": started, "warm": warm, "after": after},
        "master_kib": master_mem,
    }
    out = Path(env["MASTHEAD_DATA_DIR"]) / "worker-memory.json"
    out.write_text(json.dumps(result, indent=2))
    mib = lambda kib: f"{kib / 1024:.1f} MiB"  # noqa: E731
    print(f"one gunicorn worker, {args.requests} mixed pages (statuses {statuses}), page cache off")
    for label, m in (("started", started), ("after warm-up", warm), (f"after {args.requests}", after)):
        print(f"  {label:<16} RSS {mib(m['VmRSS']):>10}  PSS {mib(m['Pss']):>10}  private {mib(m['Private']):>10}")
    print(f"  peak RSS {mib(after['VmHWM'])}; master RSS {mib(master_mem['VmRSS'])}; details: {out}")
    if set(statuses) - {200}:
        print(f"  warning: not every page answered 200; the errors are in {logfile}")


if __name__ == "__main__":
    main()
