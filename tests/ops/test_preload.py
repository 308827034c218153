"""`masthead run` preloads: gunicorn's master loads the application and the large read-only tables
(rjieba's dictionary, GeoIP2Fast's database) once and its workers share them copy-on-write.

The same site is served twice by `masthead run`'s gunicorn command with two workers, without and with
--preload. Both workers answer searches (segmentation) and comments from public addresses (IP属地
lookups); each worker's own memory (USS and PSS, /proc/<pid>/smaps_rollup) must be far below the
no-preload figure. The master holds no database file, no connected socket and no thread that the
workers would share, and after a publish both workers serve the new article.
"""

import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from masthead.web.management.commands.run import find_gunicorn, gunicorn_argv

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 2
CSRF = "preloadtestcsrfsecret0123456789a"  # a 32-character CSRF secret: the cookie and the form agree
SEARCHES = ["人工智能", "新能源汽车", "房价走势", "旅游攻略", "足球比赛", "手机芯片", "教育改革", "股市行情"]
# Public addresses in different countries, so each comment needs a lookup (loopback has no region).
ADDRESSES = ["8.8.8.8", "1.0.0.1", "81.2.69.142", "203.0.113.9", "2.16.0.1", "5.6.7.8", "45.90.28.1", "101.6.6.6"]
NEW_TITLE = "预加载之后发布的新文章"

SEED = """
import json, django
django.setup()
from django.contrib.auth import get_user_model
from django.test import Client
from tests import factories
body = "<p>" + "人工智能和新能源汽车改变了城市生活，房价走势与旅游攻略也是读者关心的话题。" * 12 + "</p>"
articles = [factories.article(title=f"预加载测试文章{n}", body=body) for n in range(6)]
sessions = []
for n in range(%d):
    person = get_user_model().objects.create_user(f"preload-reader-{n}", password="correct horse 9")
    client = Client()
    client.force_login(person)
    sessions.append(client.cookies["sessionid"].value)
print(json.dumps({"articles": [a.pk for a in articles], "sessions": sessions}))
"""
PUBLISH = (
    "import django; django.setup(); from tests import factories;"
    f"factories.article(title={NEW_TITLE!r}, account_=factories.account(handle='late-writer', name='后来的作者'))"
)

REGIONS = (
    "import django; django.setup(); from masthead.engagement.models import Comment;"
    "print(' '.join(Comment.objects.values_list('ip_region', flat=True)))"
)


def _embedded(site: Path) -> dict[str, str]:
    """The embedded default (SQLite, file cache) in `site`, whatever database the test run itself uses."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL") and "MASTHEAD_" not in k}
    return {**env, "MASTHEAD_DATA_DIR": str(site)}


def _python(site: Path, code: str) -> str:
    env = {**_embedded(site), "DJANGO_SETTINGS_MODULE": "masthead.settings"}
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    if not Path("/proc/self/smaps_rollup").exists():
        pytest.skip("reads process memory from /proc/<pid>/smaps_rollup (Linux 4.14+)")
    folder = tmp_path_factory.mktemp("preload-site")
    env = _embedded(folder)
    subprocess.run([sys.executable, "-m", "masthead.cli", "migrate", "-v0"], env=env, cwd=ROOT, check=True)
    seeded = json.loads(_python(folder, SEED % (2 * len(ADDRESSES))).strip().splitlines()[-1])
    return folder, seeded


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> list[int]:
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def memory(pid: int) -> dict[str, int]:
    """KiB: Rss, Pss and USS (private clean + dirty: what the process would give back if it ended)."""
    values = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        key, _, value = line.partition(":")
        values[key] = int(value.split()[0])
    return {"rss": values["Rss"], "pss": values["Pss"], "uss": values["Private_Clean"] + values["Private_Dirty"]}


def _socket_states() -> dict[str, str]:
    """inode → TCP state ("0A" listening, "01" connected) of this network namespace's sockets."""
    states = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if Path(table).exists():
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                states[fields[9]] = fields[3]
    return states


def held_by(pid: int) -> dict[str, list[str]]:
    """What a process has open that forked children would share: database files, sockets, threads."""
    files, sockets = [], []
    states = _socket_states()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if inode := re.fullmatch(r"socket:\[(\d+)\]", target):
            state = states.get(inode.group(1))
            sockets.append("listening" if state == "0A" else "tcp" if state else "unix")
        elif "sqlite3" in target:
            files.append(target)
    threads = [t.name for t in Path(f"/proc/{pid}/task").iterdir()]
    return {"database files": files, "sockets": sorted(sockets), "threads": threads}


class Server:
    def __init__(self, site: Path, *, preload: bool) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = site / f"gunicorn-{'preload' if preload else 'no-preload'}.log"
        env = {
            **_embedded(site),
            "MASTHEAD_TRUSTED_PROXIES": "1",  # the test stands in for nginx: X-Forwarded-For is the reader
            "MASTHEAD_PLAIN_STATIC": "1",  # no collectstatic needed
            "MASTHEAD_HOT_REFRESH_SECONDS": "0",
            "MASTHEAD_LOG_REQUESTS": "0",
        }
        argv = gunicorn_argv(find_gunicorn(), "127.0.0.1", self.port, WORKERS, preload=preload)
        argv += ["--access-logformat", "%(p)s %(s)s %(m)s %(U)s?%(q)s"]
        with self.log.open("w") as out:
            self.process = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
        deadline = time.monotonic() + 90
        while True:
            try:
                if urllib.request.urlopen(self.base + "/healthz", timeout=5).status == 200 and len(self.workers()) == 2:
                    break
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"gunicorn did not start: {self.log.read_text()[-3000:]}")
            time.sleep(0.3)

    def workers(self) -> list[int]:
        return _children(self.process.pid)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(self.base + path, timeout=60) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, ""

    def comment(self, article: int, session: str, address: str, n: int) -> int:
        data = urllib.parse.urlencode({"body": f"第{n}条跟帖：说得很有道理。", "csrfmiddlewaretoken": CSRF}).encode()
        request = urllib.request.Request(f"{self.base}/a/{article}/comments/post/?n={n}", data=data)
        request.add_header("Cookie", f"sessionid={session}; csrftoken={CSRF}")
        request.add_header("X-Forwarded-For", address)
        request.add_header("Accept", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    def served_by(self) -> dict[str, int]:
        """URL (with its query) → worker pid, from the access log."""
        out = {}
        for line in self.log.read_text().splitlines():
            parts = line.split()  # "<pid> status method path?query"
            if len(parts) == 4 and re.fullmatch(r"<\d+>", parts[0]):
                out[parts[3]] = int(parts[0].strip("<>"))
        return out


def _in_parallel(calls) -> list:
    """Four at a time: two sync workers each take some, so both serve every kind of request."""
    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(lambda call: call(), calls))


def _exercise(server: Server, seeded: dict) -> dict[int, set[str]]:
    """Searches, article pages and comments from public addresses, spread over both workers; returns
    which kinds of request each worker served."""
    articles, sessions = seeded["articles"], seeded["sessions"]
    calls = []
    for n in range(24):
        query = urllib.parse.quote(f"{SEARCHES[n % len(SEARCHES)]} {n}")
        calls.append(lambda q=query, n=n: ("search", f"/search/?q={q}", *server.get(f"/search/?q={q}")))
        calls.append(lambda n=n: ("page", f"/a/{articles[n % 6]}/?n={n}", *server.get(f"/a/{articles[n % 6]}/?n={n}")))
    for n, session in enumerate(sessions):
        address = ADDRESSES[n % len(ADDRESSES)]
        article = articles[n % 6]
        calls.append(
            lambda a=article, s=session, ip=address, n=n: (
                "comment", f"/a/{a}/comments/post/?n={n}", server.comment(a, s, ip, n), ""
            )
        )  # fmt: skip
    results = _in_parallel(calls)
    assert all(status in (200, 201) for _kind, _path, status, _body in results), [r[:3] for r in results]
    time.sleep(0.5)  # the access log line is written after the answer
    served = server.served_by()
    kinds: dict[int, set[str]] = {}
    for kind, path, _status, _body in results:
        key = path if "?" in path else path + "?"
        kinds.setdefault(served[key], set()).add(kind)
    return kinds


def _measure(site: Path, seeded: dict, *, preload: bool) -> dict:
    server = Server(site, preload=preload)
    try:
        kinds = _exercise(server, seeded)
        workers = server.workers()
        assert set(kinds) == set(workers), f"both workers served requests: {kinds} / {workers}"
        assert all(k == {"search", "page", "comment"} for k in kinds.values()), kinds
        figures = {
            "worker_pids": workers,
            "workers": [memory(pid) for pid in workers],
            "master": memory(server.process.pid),
            "master_holds": held_by(server.process.pid),
        }
        if preload:
            # utm_source is left out of the page cache's key: every request asks for the same cached "/".
            home = lambda when: [lambda n=n: server.get(f"/?utm_source={when}{n}") for n in range(12)]  # noqa: E731
            before = _in_parallel(home("before"))
            _python(site, PUBLISH)
            after = _in_parallel(home("after"))
            time.sleep(0.5)
            served = server.served_by()
            figures["publish"] = {
                "before": {served[f"/?utm_source=before{n}"] for n in range(12)},
                "after": {served[f"/?utm_source=after{n}"] for n in range(12)},
                "shown_before": any(NEW_TITLE in html for _status, html in before),
                "shown_after": all(status == 200 and NEW_TITLE in html for status, html in after),
            }
        return figures
    finally:
        server.stop()


def test_preloaded_workers_share_the_large_tables_and_nothing_else(site):
    folder, seeded = site
    alone = _measure(folder, seeded, preload=False)
    shared = _measure(folder, seeded, preload=True)

    mib = lambda kib: f"{kib / 1024:.1f}"  # noqa: E731
    print(f"\nper worker, MiB (USS / PSS / RSS), {WORKERS} workers after searches, pages and comments:")
    for label, run in (("no preload", alone), ("preload", shared)):
        cells = "   ".join(f"{mib(w['uss'])} / {mib(w['pss'])} / {mib(w['rss'])}" for w in run["workers"])
        print(f"  {label:<11} {cells}   master RSS {mib(run['master']['rss'])}")

    uss_alone = sum(w["uss"] for w in alone["workers"]) / WORKERS
    uss_shared = sum(w["uss"] for w in shared["workers"]) / WORKERS
    pss_alone = sum(w["pss"] for w in alone["workers"]) / WORKERS
    pss_shared = sum(w["pss"] for w in shared["workers"]) / WORKERS
    print(f"  ratio preload / no preload: USS {uss_shared / uss_alone:.2f}, PSS {pss_shared / pss_alone:.2f}")
    # Measured 0.16 and 0.44 (30 MiB against 187 MiB of USS a worker). Preloading only the code, not the
    # tables, gives about 0.5: the dictionary (~34 MiB) and the GeoIP database (~55 MiB) must be shared.
    assert uss_shared < 0.3 * uss_alone
    assert uss_alone - uss_shared > 80 * 1024
    assert pss_shared < 0.6 * pss_alone

    # The comments were placed by the workers' lookups (2 runs × 16 comments from 8 addresses).
    regions = _python(folder, REGIONS).split()
    assert len(regions) == 2 * len(seeded["sessions"]) and {"美国", "澳大利亚", "英国"} <= set(regions)

    # The master forks with nothing the workers would share by accident: no database file, no connection,
    # no thread of ours; its sockets and threads are gunicorn's own (listener, control socket), as without preload.
    holds, bare = shared["master_holds"], alone["master_holds"]
    print(f"  preloaded master holds {holds}; without preload {bare}")
    assert holds["database files"] == [] and "tcp" not in holds["sockets"]
    assert holds["sockets"] == bare["sockets"] and len(holds["threads"]) == len(bare["threads"])
    # A publish made elsewhere (another process, as the studio or a worker would) reaches both workers,
    # which had the front page cached (and their tag versions memoised) before it.
    publish = shared["publish"]
    assert publish["before"] == publish["after"] == set(shared["worker_pids"])
    assert not publish["shown_before"] and publish["shown_after"]
