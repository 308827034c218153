"""With Redis as the cache, a page-cache hit asks Redis nothing while the purge watch holds `pc:purged`,
and no purge is hidden by it: announced ones arrive, and a lost subscription falls back to reading."""

import os
import time

import pytest
import redis
from django.test import override_settings

from masthead.articles.models import Article
from masthead.settings import redis_caches
from masthead.web import purgewatch
from tests import factories
from tests.redis_server import commands_processed, redis_or_skip
from tests.web.pagecache_helpers import purge_in_another_process

pytestmark = pytest.mark.django_db
REDIS = os.environ.get("MASTHEAD_TEST_CACHE_REDIS", "redis://127.0.0.1:6379/12")


@pytest.fixture
def server(settings):
    client = redis_or_skip(REDIS)
    settings.MASTHEAD_COUNTERS = "memory"  # only the page cache talks to Redis here
    client.flushdb()
    with override_settings(CACHES=redis_caches(REDIS)):
        yield client
    client.flushdb()
    client.close()


def test_steady_hits_ask_redis_nothing(client, server):
    item = factories.article()
    url = item.get_absolute_url()
    client.get(url)
    assert client.get(url)["X-Page-Cache"] == "hit"  # the watch subscribed and read the key
    before = commands_processed(server)
    for _ in range(20):
        assert client.get(url)["X-Page-Cache"] == "hit"
    assert commands_processed(server) - before <= 1  # that one is the INFO above


def test_a_purge_announced_by_another_process_is_seen_by_the_next_hit(client, server):
    item = factories.article(title="另一台服务器改之前")
    url = item.get_absolute_url()
    client.get(url)
    assert client.get(url)["X-Page-Cache"] == "hit"
    Article.objects.filter(pk=item.pk).update(title="另一台服务器改过的标题")
    assert "另一台服务器改之前" in client.get(url).content.decode()
    purge_in_another_process(f"article:{item.pk}", REDIS_URL=REDIS)
    fresh = client.get(url)
    assert fresh["X-Page-Cache"] == "miss" and "另一台服务器改过的标题" in fresh.content.decode()
    assert client.get(url)["X-Page-Cache"] == "hit"


def _kill_subscribers(server: redis.Redis) -> int:
    return server.execute_command("CLIENT", "KILL", "TYPE", "pubsub")


def test_a_purge_while_the_subscription_was_lost_is_not_hidden(client, server, caplog):
    item = factories.article(title="断线之前")
    url = item.get_absolute_url()
    client.get(url)
    assert client.get(url)["X-Page-Cache"] == "hit"
    assert _kill_subscribers(server) >= 1  # e.g. Redis restarted, or a proxy dropped the connection
    Article.objects.filter(pk=item.pk).update(title="断线期间改的标题")
    purge_in_another_process(f"article:{item.pk}", REDIS_URL=REDIS)  # announced to nobody
    fresh = client.get(url)
    assert fresh["X-Page-Cache"] == "miss" and "断线期间改的标题" in fresh.content.decode()
    assert "purge watch lost" in caplog.text


def test_a_change_to_the_key_that_was_never_announced_is_seen_within_the_trust_period(client, server, monkeypatch):
    monkeypatch.setattr(purgewatch, "TRUST_SECONDS", 0.3)
    item = factories.article(title="悄悄改之前")
    url = item.get_absolute_url()
    client.get(url)
    assert client.get(url)["X-Page-Cache"] == "hit"
    Article.objects.filter(pk=item.pk).update(title="悄悄改过的标题")
    # An old server without the watch purges by writing the keys only (no announcement).
    server.set(f"masthead:1:pc:tag:article:{item.pk}", 1)
    server.set("masthead:1:pc:purged", 1)
    time.sleep(0.4)
    fresh = client.get(url)
    assert fresh["X-Page-Cache"] == "miss" and "悄悄改过的标题" in fresh.content.decode()


def test_a_cache_other_than_redis_is_read_every_time():
    with override_settings(
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "watch"}}
    ):
        assert purgewatch.watch.current("pc:purged", lambda: "read") == "read"
