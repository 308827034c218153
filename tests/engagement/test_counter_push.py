"""With Redis as the counter buffer, reads gather in the process and reach Redis in one batch."""

import time

import pytest
import redis

from masthead.engagement import counters
from masthead.engagement.backends.redis import DIRTY, HASH
from tests import factories
from tests.redis_server import commands_processed

pytestmark = pytest.mark.django_db

DEAD_REDIS = "redis://127.0.0.1:1/0"


@pytest.fixture
def server(redis_url, settings):
    """The counter buffer's Redis, without readers left by other tests (article ids are reused)."""
    settings.MASTHEAD_COUNTERS = "redis"
    settings.REDIS_URL = redis_url
    client = redis.Redis.from_url(redis_url)
    client.delete(DIRTY, *client.keys("masthead:readers:*"))
    yield client
    client.delete(DIRTY, *client.keys("masthead:readers:*"))
    client.close()


def test_reads_reach_redis_together_within_the_push_interval(client, settings, server):
    settings.MASTHEAD_COUNTER_PUSH_SECONDS = 0.5
    item = factories.article()
    client.get(item.get_absolute_url())  # rendered (and counted) once, then served from the page cache
    assert client.get(item.get_absolute_url())["X-Page-Cache"] == "hit"  # its head is known from now on
    before = commands_processed(server)
    for _ in range(18):
        assert client.get(item.get_absolute_url())["X-Page-Cache"] == "hit"
    # Twenty reads, and none has sent a command to Redis yet (nor has the page cache, Redis or files).
    assert commands_processed(server) - before <= 1  # the INFO above
    assert server.hlen(HASH) == 0
    deadline = time.monotonic() + 5
    while not server.hlen(HASH) and time.monotonic() < deadline:
        time.sleep(0.05)
    views = {k.decode(): int(v) for k, v in server.hgetall(HASH).items()}
    assert views == {f"views:{item.pk}:{counters.current_hour()}": 20}
    assert server.sismember(DIRTY, f"{item.pk}:{counters.local_day().isoformat()}")  # the reader too

    assert counters.flush() == 20
    item.refresh_from_db()
    assert item.view_count == 20
    assert item.daily_stats.get().readers == 1  # the same browser twenty times is one reader


def test_a_flush_takes_what_was_not_pushed_yet(client, settings, server):
    settings.MASTHEAD_COUNTER_PUSH_SECONDS = 3600
    item = factories.article()
    for _ in range(3):
        client.get(item.get_absolute_url())
    assert counters.flush() == 3  # e.g. at the exit of a worker process
    item.refresh_from_db()
    assert item.view_count == 3
    assert item.daily_stats.get().readers == 1


def test_a_push_that_fails_keeps_the_counts_in_memory(client, settings, caplog):
    settings.MASTHEAD_COUNTERS = "redis"
    settings.REDIS_URL = DEAD_REDIS
    settings.MASTHEAD_COUNTER_PUSH_SECONDS = 3600
    item = factories.article()
    for _ in range(4):
        assert client.get(item.get_absolute_url()).status_code == 200
    counters.push()  # what the timer does; Redis does not answer
    assert "counter backend unavailable" in caplog.text
    settings.MASTHEAD_COUNTERS = "memory"
    assert counters.flush() == 4
    item.refresh_from_db()
    assert item.view_count == 4
