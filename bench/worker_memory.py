"""Memory of the app workers: what gunicorn workers serving reader pages take, with and without --preload.

    .venv/bin/python bench/worker_memory.py                      # the page bench's data (var/bench)
    MASTHEAD_DATA_DIR=var/bench-quality .venv/bin/python bench/worker_memory.py --requests 400 --workers 4

Starts `masthead run`'s gunicorn command (web/management/commands/run.py) with `--workers` sync
workers on the data directory's database (prepared with `masthead run --prepare-only` when it has no
articles yet), once without --preload and once with it (the master loads the application, rjieba's
dictionary and the GeoIP database once: ops/preload.py). Each time it sends a warm-up round of every
kind of page, then `--requests` mixed reader requests (home and its deeper pages, channels, articles,
creators, the hot list, searches, feeds), two at a time so every worker serves, and reads each
process's memory from /proc: VmRSS (what `ps` and `top` show), VmHWM (its peak) and, from
smaps_rollup, Pss (shared pages divided among the processes sharing them) and Private (USS: what the
process alone holds). The sum of Pss over the master and its workers is what the server really takes.
The full-page cache is off (MASTHEAD_PAGE_CACHE_SECONDS=0), so every request renders: the worst case.
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
from concurrent.futures import ThreadPoolExecutor
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


def _serve(args, env: dict, warmup: list[str], measured: list[str], *, preload: bool) -> dict:
    from masthead.web.management.commands.run import find_gunicorn, gunicorn_argv

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    mode = "preload" if preload else "no-preload"
    logfile = Path(env["MASTHEAD_DATA_DIR"]) / f"worker-memory-gunicorn-{mode}.log"
    argv = [*gunicorn_argv(find_gunicorn(), "127.0.0.1", port, args.workers, preload=preload), "--timeout", "120"]
    with logfile.open("w") as log_out:
        master = subprocess.Popen(argv, env=env, stdout=log_out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                fetch(base, "/robots.txt")
                if len(children(master.pid)) == args.workers:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or master.poll() is not None:
                raise SystemExit(f"gunicorn did not start; see {logfile}")
            time.sleep(0.3)
        workers = children(master.pid)
        started = [memory(w) for w in workers]
        statuses: dict[int, int] = {}
        with ThreadPoolExecutor(2) as pool:  # two at a time: every worker serves its share
            list(pool.map(lambda path: fetch(base, path), warmup))
            warm = [memory(w) for w in workers]
            began = time.perf_counter()
            for status in pool.map(lambda path: fetch(base, path), measured):
                statuses[status] = statuses.get(status, 0) + 1
            seconds = time.perf_counter() - began
        after = [memory(w) for w in workers]
        master_mem = memory(master.pid)
    finally:
        master.terminate()
        master.wait(timeout=30)
    if set(statuses) - {200}:
        log(f"warning ({mode}): not every page answered 200 ({statuses}); the errors are in {logfile}")
    return {
        "statuses": statuses,
        "ms_per_request": seconds * 1000 / len(measured),
        "workers_kib": [{"started": s, "warm": w, "after": a} for s, w, a in zip(started, warm, after, strict=True)],
        "master_kib": master_mem,
        "total_pss_kib": master_mem["Pss"] + sum(a["Pss"] for a in after),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    env = {**os.environ}
    subprocess.run([BIN / "masthead", "run", "--prepare-only"], env=env, check=True, stdout=subprocess.DEVNULL)
    rng = random.Random(args.seed)
    warmup, measured = urls(rng, args.warmup), urls(rng, args.requests)
    runs = {mode: _serve(args, env, warmup, measured, preload=mode == "preload") for mode in ("no-preload", "preload")}
    result = {
        "database": os.environ.get("DATABASE_URL", "sqlite").split("@")[-1],
        "cache": "redis" if os.environ.get("REDIS_URL") else "file",
        "requests": args.requests,
        "workers": args.workers,
        "runs": runs,
    }
    out = Path(env["MASTHEAD_DATA_DIR"]) / "worker-memory.json"
    out.write_text(json.dumps(result, indent=2))
    mib = lambda kib: f"{kib / 1024:.1f}"  # noqa: E731
    print(f"{args.workers} gunicorn workers, {args.requests} mixed pages, page cache off; MiB per worker (mean)")
    print("| mode | stage | RSS | PSS | USS (private) |\n|---|---|---:|---:|---:|")
    for mode, run in runs.items():
        for stage in ("started", "warm", "after"):
            rows = [w[stage] for w in run["workers_kib"]]
            mean = {k: sum(r[k] for r in rows) / len(rows) for k in ("VmRSS", "Pss", "Private")}
            label = {"started": "started", "warm": "after warm-up", "after": f"after {args.requests}"}[stage]
            print(f"| {mode} | {label} | {mib(mean['VmRSS'])} | {mib(mean['Pss'])} | {mib(mean['Private'])} |")
    for mode, run in runs.items():
        peak = max(w["after"]["VmHWM"] for w in run["workers_kib"])
        print(
            f"{mode}: master RSS {mib(run['master_kib']['VmRSS'])} MiB; master + workers PSS "
            f"{mib(run['total_pss_kib'])} MiB; peak worker RSS {mib(peak)} MiB; "
            f"{run['ms_per_request']:.1f} ms a request (statuses {run['statuses']})"
        )
    print(f"details: {out}")


if __name__ == "__main__":
    main()
