"""Sessions with Redis (masthead.ops.sessions): the database keeps them, Redis saves the query.

A Redis server of the test's own, on a free port, is really stopped, paused and restarted with its
data, so nothing here depends on (or disturbs) the machine's Redis. A Redis outage must cost nobody
their session and answer no 500; a logout made during the outage must stay a logout afterwards.
"""

import time

import pytest
import redis
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from masthead.engagement.models import Comment
from masthead.ops import sessions
from masthead.settings import redis_caches
from tests import factories
from tests.engagement.comment_helpers import reader
from tests.redis_server import RedisServer

pytestmark = [pytest.mark.redis, pytest.mark.django_db]
ENGINE = "masthead.ops.sessions"


@pytest.fixture
def own_redis(tmp_path, monkeypatch):
    """Sessions through masthead.ops.sessions on a Redis server of this test (the whole cache uses it)."""
    server = RedisServer(tmp_path)
    server.start()
    monkeypatch.setattr(sessions, "CACHE_RETRY_SECONDS", 1.0)  # the tests wait this long for a retry
    with override_settings(CACHES=redis_caches(server.url), SESSION_ENGINE=ENGINE):
        try:
            yield server
        finally:
            server.kill()
    cache.clear()  # the default cache again


def _signed_in(client: Client, user: User) -> bool:
    """What the reader sees: their own page with their name (signed out, /me/ sends to the login page)."""
    response = client.get("/me/")
    assert response.status_code in (200, 302), response.status_code
    return response.status_code == 200 and user.username in response.content.decode()


def _session_queries(client: Client, path: str) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return [q["sql"] for q in queries if "django_session" in q["sql"]]


def _cached_session(key: str):
    from django.contrib.sessions.backends.cached_db import KEY_PREFIX

    return cache.get(KEY_PREFIX + key)


def test_sessions_are_read_from_redis_and_from_the_database_when_redis_lost_them(own_redis):
    user = reader()
    client = Client()
    client.force_login(user)
    key = client.session.session_key
    assert _cached_session(key)["_auth_user_id"] == str(user.pk)  # written through at login

    assert _session_queries(client, "/me/") == []  # a cache hit: no session query
    cache.clear()  # Redis lost it (eviction, flush): the database still has it
    assert len(_session_queries(client, "/me/")) == 1
    assert _cached_session(key)["_auth_user_id"] == str(user.pk)  # and it is cached again
    assert _session_queries(client, "/me/") == []


def test_a_signed_in_reader_keeps_the_session_through_a_redis_outage(own_redis):
    user = reader()
    item = factories.article(title="Redis 停了，登录还在")
    client = Client()
    client.force_login(user)
    assert _signed_in(client, user)

    own_redis.stop()
    with pytest.raises(redis.ConnectionError):
        cache.get("anything")  # the outage is real
    assert _signed_in(client, user)
    for path in ("/", item.get_absolute_url(), f"/a/{item.pk}/comments/", "/feed/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.wsgi_request.user == user, path
    posted = client.post(
        f"/a/{item.pk}/comments/post/", {"body": "Redis 停了还能跟帖", "client_token": "s-1"}, follow=True
    )
    assert posted.status_code == 200 and posted.wsgi_request.user == user
    assert Comment.objects.filter(article=item, user=user, body="Redis 停了还能跟帖").count() == 1

    own_redis.start()  # back, with its data
    time.sleep(sessions.CACHE_RETRY_SECONDS + 0.1)
    assert _signed_in(client, user)
    assert _session_queries(client, "/me/") == []  # read from Redis again


def test_a_hung_redis_costs_a_short_wait_not_the_session(own_redis):
    user = reader()
    client = Client()
    client.force_login(user)
    own_redis.pause()
    try:
        started = time.monotonic()
        assert _signed_in(client, user)
        assert _signed_in(client, user)  # the cache is left alone now: no second timeout
        elapsed = time.monotonic() - started
    finally:
        own_redis.resume()
    # One socket timeout (0.5 s) for the session, one for the page cache, one for the rate limits …
    # each module gives up once; never one wait per call.
    assert elapsed < 3, elapsed


def test_signing_in_during_a_redis_outage_works(own_redis):
    user = User.objects.create_user("outage-reader", "o@example.com", "correct horse battery staple")
    own_redis.stop()
    client = Client()
    response = client.post("/login/", {"username": "outage-reader", "password": "correct horse battery staple"})
    assert response.status_code == 302, response.content.decode()[:500]
    assert _signed_in(client, user)
    key = client.cookies["sessionid"].value
    assert Session.objects.filter(session_key=key).exists()

    own_redis.start()
    time.sleep(sessions.CACHE_RETRY_SECONDS + 0.1)
    assert _signed_in(client, user)
    assert _cached_session(key)["_auth_user_id"] == str(user.pk)


def test_signing_out_removes_the_session_from_the_database_and_redis(own_redis):
    user = reader()
    client = Client()
    client.force_login(user)
    key = client.session.session_key
    stolen = Client()
    stolen.cookies["sessionid"] = key  # the same cookie, e.g. another tab or a copied cookie
    assert _signed_in(stolen, user)

    assert client.post("/logout/").status_code == 302
    assert not Session.objects.filter(session_key=key).exists()
    assert _cached_session(key) is None
    assert not _signed_in(stolen, user)


def test_signing_out_during_an_outage_stays_signed_out_when_redis_returns_with_its_data(own_redis, monkeypatch):
    monkeypatch.setattr(sessions, "CLEANUP_BATCH", 2)  # three sign-outs: cleaned up in two batches
    signed_in = []
    for _ in range(3):
        user, client = reader(), Client()
        client.force_login(user)
        signed_in.append((user, client, client.session.session_key))
    own_redis.stop()  # saves the signed-in sessions to disk
    for _user, client, key in signed_in:
        assert client.post("/logout/").status_code == 302
        assert not Session.objects.filter(session_key=key).exists()

    own_redis.start()  # the old entries are back in Redis …
    assert len(redis.Redis.from_url(own_redis.url).keys("*cached_db*")) == 3
    time.sleep(sessions.CACHE_RETRY_SECONDS + 0.1)
    for user, _client, key in signed_in:
        stolen = Client()
        stolen.cookies["sessionid"] = key
        assert not _signed_in(stolen, user)  # … but they were deleted before the cache was used again
        assert _cached_session(key) is None
