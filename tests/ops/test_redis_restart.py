"""A real Redis server stops and comes back empty: pages answer throughout, reads are counted, a change
made meanwhile shows, and the page cache, the counter buffer and the purge watch use Redis again.

The test runs a redis-server of its own on a free port (never the machine's), stops it with SIGTERM
in the middle (SIGKILL) and starts a new one on the same port, as a restart without persistence does.
"""

import time

import pytest
import redis
from django.test import override_settings

from masthead.articles.models import Article
from masthead.engagement import counters
from masthead.engagement.backends.redis import HASH
from masthead.settings import redis_caches
from masthead.web import pagecache, purgewatch
from tests import factories
from tests.redis_server import RedisServer

pytestmark = pytest.mark.django_db
RETRY = 0.2  # the processes' "leave the failing Redis alone" periods, shortened for the test


@pytest.fixture
def own_redis(tmp_path, settings, monkeypatch):
    server = RedisServer(tmp_path)
    server.start()
    monkeypatch.setattr(pagecache, "CACHE_RETRY_SECONDS", RETRY)
    monkeypatch.setattr(purgewatch, "RETRY_SECONDS", RETRY)
    monkeypatch.setattr(counters, "RETRY_SECONDS", RETRY)
    settings.MASTHEAD_COUNTERS = "redis"
    settings.REDIS_URL = server.url
    with override_settings(CACHES=redis_caches(server.url)):
        yield server
    server.kill()
    counters.flush()


def test_pages_and_counts_survive_a_redis_restart(client, own_redis, caplog, django_capture_on_commit_callbacks):
    item = factories.article(title="Redis 重启之前")
    url = item.get_absolute_url()
    assert client.get(url)["X-Page-Cache"] == "miss"
    assert client.get(url)["X-Page-Cache"] == "hit"
    # The worker's periodic flush (every 10 s): what sits in a Redis that restarts empty is lost with
    # it (docs/caching.md), so the two reads are moved to the database first.
    assert counters.flush() == 2
    watched = redis.Redis(port=own_redis.port)
    assert watched.execute_command("PUBSUB", "NUMSUB", purgewatch.PurgeWatch.channel(pagecache.PURGED_KEY))[1] == 1

    own_redis.kill()
    for _ in range(3):
        response = client.get(url)
        assert response.status_code == 200 and "Redis 重启之前" in response.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        Article.objects.filter(pk=item.pk).update(title="Redis 停着的时候改的标题")
        pagecache.purge(f"article:{item.pk}")  # fails now; done again once Redis answers
    assert "Redis 停着的时候改的标题" in client.get(url).content.decode()
    assert "page cache read failed" in caplog.text and "counter backend unavailable" in caplog.text

    server = own_redis.start()  # empty, as after a restart without persistence
    time.sleep(RETRY * 2)
    fresh = client.get(url)
    assert fresh.status_code == 200 and "Redis 停着的时候改的标题" in fresh.content.decode()
    assert client.get(url)["X-Page-Cache"] == "hit"  # cached in the new Redis
    assert server.hlen(HASH) > 0  # counting goes to Redis again
    # The purge watch subscribed to the new server: a purge announced there reaches this process.
    assert server.execute_command("PUBSUB", "NUMSUB", purgewatch.PurgeWatch.channel(pagecache.PURGED_KEY))[1] == 1
    Article.objects.filter(pk=item.pk).update(title="Redis 回来以后改的标题")
    server.set("masthead:1:" + pagecache.TAG_KEY.format(f"article:{item.pk}"), 1)  # another server's purge
    server.set("masthead:1:" + pagecache.PURGED_KEY, 2)
    server.publish(purgewatch.PurgeWatch.channel(pagecache.PURGED_KEY), "2")
    assert "Redis 回来以后改的标题" in client.get(url).content.decode()

    # Every read was counted once: the two before, the four during the outage (kept in memory), the
    # three after (in the new Redis); nothing lost to the restart, nothing counted twice.
    counters.flush()
    item.refresh_from_db()
    assert item.view_count == 2 + 4 + 3
