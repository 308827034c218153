"""PostgreSQL restarting under load: requests fail cleanly while it is down, and the site comes back
on its own, without restarting gunicorn.

The test runs a PostgreSQL cluster of its own (initdb into a temporary folder, a free port), never
the machine's: it is stopped and started in the middle of the test. Gunicorn (2 workers) serves a
few articles from it while a thread keeps reading pages.
"""

import glob
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = [pytest.mark.postgres]
ROOT = Path(__file__).resolve().parents[2]
REQUEST_TIMEOUT = 10.0  # no request may take longer, outage or not
RECOVERY_SECONDS = 5.0  # after PostgreSQL accepts connections again, pages answer 200 within this

# Articles and a signed-in reader, created in the dedicated cluster through the app's own code.
SEED = """
import json, django
django.setup()
from django.test import Client
from tests import factories
from tests.engagement.comment_helpers import reader
items = [factories.article(title=f"数据库重启也要能读 {n}") for n in range(3)]
client = Client()
client.force_login(reader("restart-reader"))
print(json.dumps({"paths": [a.get_absolute_url() for a in items], "pks": [a.pk for a in items],
                  "session": client.cookies["sessionid"].value}))
"""


def _pg_bin() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    return Path(versions[-1]).parent if versions else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """A throwaway PostgreSQL cluster; as root, run as the postgres user (initdb refuses root)."""

    def __init__(self, bindir: Path) -> None:
        self.bindir, self.port = bindir, _free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="masthead-pg-"))
        self.data = self.folder / "data"
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/masthead"

    def _run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = [*self.as_user, str(self.bindir / tool), *args]
        return subprocess.run(command, capture_output=True, text=True, check=check, timeout=120)

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        (self.folder / "options").write_text(options)
        self.start()
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "masthead")

    def start(self) -> None:
        options = (self.folder / "options").read_text()
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.folder / "server.log"), "-o", options, "-w", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def destroy(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture
def cluster():
    bindir = _pg_bin()
    if bindir is None or not (bindir / "initdb").exists():
        pytest.skip("needs PostgreSQL's server tools (initdb, pg_ctl) to run a cluster of the test's own")
    if os.geteuid() == 0 and not shutil.which("runuser"):
        pytest.skip("running as root needs runuser to start PostgreSQL as the postgres user")
    server = Cluster(bindir)
    try:
        server.init()
        yield server
    finally:
        server.destroy()


@pytest.fixture
def site(cluster, tmp_path):
    """Gunicorn (2 workers) on a free port, serving a migrated database with three articles."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MASTHEAD_", "REDIS_URL", "DATABASE_URL"))}
    env.update(
        DATABASE_URL=cluster.url,
        MASTHEAD_DATA_DIR=str(tmp_path),  # the file cache: the test does not depend on a Redis server
        MASTHEAD_PLAIN_STATIC="1",  # no collectstatic needed
        MASTHEAD_HOT_REFRESH_SECONDS="0",
        PYTHONPATH=str(ROOT),  # the seed uses tests.factories
    )
    cli = [sys.executable, "-m", "masthead.cli"]
    subprocess.run([*cli, "migrate", "--noinput", "-v0"], env=env, check=True, cwd=ROOT, timeout=300)
    seeded = subprocess.run([sys.executable, "-c", SEED], env=env, check=True, cwd=ROOT, capture_output=True, text=True)
    data = json.loads(seeded.stdout.strip().splitlines()[-1])
    port = _free_port()
    log = tmp_path / "gunicorn.log"
    command = [sys.executable, "-m", "gunicorn", "masthead.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2"]
    with log.open("wb") as out:
        proc = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while _fetch(base + "/readyz").status != 200:
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            pytest.fail(f"gunicorn did not start: {log.read_text()[-2000:]}")
        time.sleep(0.2)
    yield {**data, "base": base, "proc": proc, "log": log}
    proc.terminate()
    proc.wait(timeout=15)


@dataclass
class Answer:
    at: float
    path: str  # with the query string
    status: int  # 0: no HTTP answer at all (refused, reset, timed out)
    seconds: float
    body: str = ""
    headers: dict | None = None


def _fetch(url: str, cookie: str = "", data: bytes | None = None, headers: dict | None = None) -> Answer:
    request = urllib.request.Request(
        url, data=data, headers={**(headers or {}), **({"Cookie": cookie} if cookie else {})}
    )
    started = time.monotonic()
    path = "/" + url.split("/", 3)[3]
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as r:
            return Answer(started, path, r.status, time.monotonic() - started, r.read().decode(), dict(r.headers))
    except urllib.error.HTTPError as error:
        body = error.read().decode(errors="replace")
        return Answer(started, path, error.code, time.monotonic() - started, body, dict(error.headers))
    except OSError as error:
        return Answer(started, path, 0, time.monotonic() - started, repr(error))


def _crashes(log: Path) -> int:
    """Workers gunicorn had to start again (each one boots with this line)."""
    return len(re.findall(r"Booting worker", log.read_text())) - 2


def test_the_site_fails_cleanly_while_postgresql_restarts_and_recovers_by_itself(cluster, site):
    base, session = site["base"], f"sessionid={site['session']}"
    article = site["paths"][0]
    # Anonymous article pages (page-cached after the first read), pages that always need the database
    # (a query parameter bypasses the page cache), and a signed-in reader's page.
    reads = [(article, ""), (article + "?nocache=1", ""), (f"/a/{site['pks'][1]}/comments/", ""), ("/me/", session)]
    for path, cookie in reads:
        assert _fetch(base + path, cookie).status == 200, path

    answers: list[Answer] = []
    stop = threading.Event()

    def keep_reading() -> None:
        while not stop.is_set():
            for path, cookie in reads:
                answers.append(_fetch(base + path, cookie))
            time.sleep(0.05)

    reader = threading.Thread(target=keep_reading, daemon=True)
    reader.start()
    time.sleep(1)
    cluster.stop()
    down_at = time.monotonic()
    time.sleep(1)
    ready = _fetch(base + "/readyz")
    time.sleep(1)
    cluster.start()
    up_at = time.monotonic()
    # Recovered: every path answers 200 again (the thread keeps going until it has seen that).
    deadline = up_at + RECOVERY_SECONDS + REQUEST_TIMEOUT
    while time.monotonic() < deadline:
        recent = [a for a in answers if a.at > up_at + RECOVERY_SECONDS]
        if len(recent) >= 2 * len(reads):
            break
        time.sleep(0.2)
    stop.set()
    reader.join(timeout=REQUEST_TIMEOUT + 5)

    assert site["proc"].poll() is None, "gunicorn exited"
    assert _crashes(site["log"]) == 0, site["log"].read_text()[-3000:]
    assert not [a for a in answers if a.status == 0], "a request got no HTTP answer"
    assert max(a.seconds for a in answers) < REQUEST_TIMEOUT
    outage = [a for a in answers if down_at <= a.at < up_at]
    failed = [a for a in outage if a.status != 200]
    assert failed, "no request failed: PostgreSQL was not really down"
    for a in failed:  # "come back in a moment", in the reader's language: not a traceback or an empty answer
        assert a.status == 503 and a.headers["Retry-After"] == "5", (a.path, a.status, a.body[:300])
        assert "text/html" in a.headers["Content-Type"] and "服务暂时不可用" in a.body
    # Readers of an anonymous article page already in the page cache (files here) noticed nothing.
    assert all(a.status == 200 for a in outage if a.path == article), [(a.path, a.status) for a in outage]
    assert ready.status == 503
    checks = json.loads(ready.body)["checks"]
    assert not checks["database"]["ok"] and checks["cache"]["ok"]

    after = [a for a in answers if a.at > up_at + RECOVERY_SECONDS]
    assert after and all(a.status == 200 for a in after), [(a.path, a.status) for a in after if a.status != 200]
    first_ok = min(a.at for a in answers if a.at > up_at and a.status == 200 and a.path != article)
    print(f"outage {up_at - down_at:.1f} s; first uncached 200 {first_ok - up_at:.2f} s after the restart")

    # A write works again: a comment through the real form, CSRF and all.
    path = f"/a/{site['pks'][1]}/comments/"
    form = _fetch(base + path, session)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.body).group(1)
    csrf = re.search(r"csrftoken=([^;]+)", form.headers.get("Set-Cookie", "")).group(1)
    fields = {"csrfmiddlewaretoken": token, "body": "数据库重启后的跟帖", "client_token": "pg-restart"}
    posted = _fetch(
        base + path + "post/",
        f"{session}; csrftoken={csrf}",
        data=urllib.parse.urlencode(fields).encode(),
        headers={"Referer": base + path},
    )
    assert posted.status == 200, posted.body[:500]
    assert "数据库重启后的跟帖" in _fetch(base + path).body
