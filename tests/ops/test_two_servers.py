"""Two app servers behind one address serve one site: two gunicorn instances on loopback sharing
PostgreSQL and Redis. A comment posted through one is seen through the other, and the purge it
causes reaches the page cache of both."""

import http.cookiejar
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client

from masthead.accounts.models import Badge
from masthead.api.tokens import create_token
from masthead.engagement.models import Comment
from tests import factories
from tests.engagement.comment_helpers import reader

pytestmark = [pytest.mark.django_db(transaction=True)]
PUBLIC_HOST = "news.masthead.test"  # the one address both servers stand behind (a proxy sends it)


@pytest.fixture
def shared_services():
    if connection.vendor != "postgresql" or not settings.REDIS_URL:
        pytest.skip("two app servers share PostgreSQL and Redis (set DATABASE_URL and REDIS_URL)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _database_url() -> str:
    db = connection.settings_dict
    auth = urllib.parse.quote(db["USER"] or "")
    if db.get("PASSWORD"):
        auth += ":" + urllib.parse.quote(db["PASSWORD"])
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def servers(shared_services, tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),  # the test database, which this test commits to
        "REDIS_URL": settings.REDIS_URL,
        "SECRET_KEY": settings.SECRET_KEY,  # sessions made here are valid there
        "MASTHEAD_DATA_DIR": str(tmp_path),
        "MASTHEAD_COUNTERS": "redis",
        "ALLOWED_HOSTS": f"{PUBLIC_HOST},127.0.0.1",
        "MASTHEAD_HOT_REFRESH_SECONDS": "0",  # a refresh purges the fronts: not in the middle of this test
    }
    # Hashed static file names, as `masthead run` prepares them (pages link to them).
    subprocess.run([sys.executable, "-m", "masthead.cli", "collectstatic", "--noinput", "-v0"], env=env, check=True)
    procs, urls = [], []
    for n in range(2):
        port = _free_port()
        command = [sys.executable, "-m", "gunicorn", "masthead.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1"]
        log = open(tmp_path / f"server{n}.log", "wb")  # noqa: SIM115  (closed with the process)
        procs.append(subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT))
        urls.append(f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + 30
    for url in urls:
        while True:
            try:
                if urllib.request.urlopen(url + "/readyz", timeout=2).status == 200:
                    break
            except OSError:
                if time.monotonic() > deadline:
                    for p in procs:
                        p.kill()
                    pytest.fail(f"{url} did not start: {(tmp_path / 'server0.log').read_text()[-2000:]}")
                time.sleep(0.2)
    yield urls
    for p in procs:
        p.terminate()
        p.wait(timeout=10)


def _opener(cookies: dict[str, str] | None = None):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    if cookies:
        opener.addheaders = [("Cookie", "; ".join(f"{k}={v}" for k, v in cookies.items()))]
    return opener


def _get(opener, url: str):
    # The Host header must ride on the request: urllib ignores one in the opener's addheaders and
    # would send each server its own 127.0.0.1:<port>, which the page cache keys on.
    response = opener.open(urllib.request.Request(url, headers={"Host": PUBLIC_HOST}), timeout=10)
    return response, response.read().decode()


def test_a_comment_through_one_server_is_seen_and_purged_through_the_other(servers):
    a, b = servers
    item = factories.article(title="两台服务器，一个网站")
    anonymous = _opener()
    assert _get(anonymous, a + item.get_absolute_url())[0].headers["X-Page-Cache"] == "miss"
    # B's first request is served from what A stored: the cache is shared, not per server.
    assert _get(anonymous, b + item.get_absolute_url())[0].headers["X-Page-Cache"] == "hit"

    # A signed-in reader posts through A (session made here, in the shared database).
    client = Client()
    client.force_login(reader())
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    signed_in = _opener({settings.SESSION_COOKIE_NAME: session})
    _response, form_page = _get(signed_in, a + f"/a/{item.pk}/comments/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form_page).group(1)
    cookie = re.search(r"csrftoken=([^;]+)", _response.headers.get("Set-Cookie", "")).group(1)
    signed_in.addheaders = [
        ("Cookie", f"{settings.SESSION_COOKIE_NAME}={session}; csrftoken={cookie}"),
        ("Referer", f"http://{PUBLIC_HOST}/a/{item.pk}/comments/"),
    ]
    data = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token, "body": "从 A 发出的跟帖", "client_token": "two-servers"}
    )
    posted = signed_in.open(
        urllib.request.Request(a + f"/a/{item.pk}/comments/post/", data=data.encode(), headers={"Host": PUBLIC_HOST}),
        timeout=10,
    )
    assert posted.status == 200
    assert Comment.objects.filter(article=item, body="从 A 发出的跟帖").count() == 1

    # B purged its copy too (the purge went to the shared cache) and shows the comment.
    fresh, page = _get(anonymous, b + item.get_absolute_url())
    assert fresh.headers["X-Page-Cache"] == "miss" and "从 A 发出的跟帖" in page
    _list, comments = _get(anonymous, b + f"/a/{item.pk}/comments/")
    assert "从 A 发出的跟帖" in comments


def test_a_publish_through_one_server_is_listed_through_the_other_at_once(servers):
    a, b = servers
    channel = factories.channel("tech")
    owner = get_user_model().objects.create_user("two-servers-creator", password="a-long-pass-phrase")
    factories.account(owner=owner, handle="two-servers", name="两台服务器号", badge=Badge.QUALITY)
    token = create_token(owner, "两台服务器", ["drafts", "publish"])[1]
    anonymous = _opener()
    _get(anonymous, b + channel.get_absolute_url())
    cached, _page = _get(anonymous, b + channel.get_absolute_url())
    assert cached.headers["X-Page-Cache"] == "hit"  # B holds the channel page

    def api(path: str, body: dict):
        request = urllib.request.Request(
            a + "/api/v1/studio" + path,
            data=json.dumps(body).encode(),
            headers={"Host": PUBLIC_HOST, "Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    draft = {"title": "经由 A 发布的新文章", "body_html": "<p>" + "两台服务器共用一个缓存。" * 10 + "</p>"}
    pk = api("/articles", {**draft, "channel": channel.slug})["id"]
    api(f"/articles/{pk}/publish", {})
    fresh, page = _get(anonymous, b + channel.get_absolute_url())  # B, right after A answered
    assert fresh.headers["X-Page-Cache"] == "miss" and "经由 A 发布的新文章" in page
