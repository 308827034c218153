"""The Redis counter buffer shared by several app servers, and what happens when Redis is down."""

import threading

import pytest

from masthead.engagement import counters
from masthead.engagement.backends.redis import HASH, RedisCounters
from tests import factories

pytestmark = pytest.mark.django_db

DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def test_two_app_servers_increment_one_buffer_and_it_is_taken_once(redis_url):
    one, two = RedisCounters(redis_url), RedisCounters(redis_url)
    hour = counters.current_hour()
    for _ in range(3):
        one.incr("views", 7, hour)
    two.incr("views", 7, hour, 2)
    two.incr("shares", 7, hour)
    assert one.drain() == {("views", 7, hour): 5, ("shares", 7, hour): 1}
    assert two.drain() == {}  # the other server finds nothing left: nothing is counted twice
    assert one.drain() == {}


def test_pages_count_into_redis_and_every_server_flushes_each_view_once(client, settings, redis_url):
    settings.MASTHEAD_COUNTERS = "redis"
    settings.REDIS_URL = redis_url
    item = factories.article()
    for _ in range(3):
        assert client.get(item.get_absolute_url()).status_code == 200
    other_server = RedisCounters(redis_url)
    other_server.incr("views", item.pk, counters.current_hour(), 2)
    assert other_server.client.hlen(HASH) == 1  # buffered in Redis, not in this process

    assert counters.flush() == 5
    assert counters.flush() == 0
    assert other_server.drain() == {}
    item.refresh_from_db()
    assert item.view_count == 5


def test_drain_is_atomic_while_servers_keep_counting(redis_url):
    writers, per_writer, hour = 4, 300, counters.current_hour()
    drained: list[int] = []
    done = threading.Event()

    def count():
        buffer = RedisCounters(redis_url)
        for _ in range(per_writer):
            buffer.incr("views", 1, hour)

    def drain():
        buffer = RedisCounters(redis_url)
        while not done.is_set():
            drained.append(sum(buffer.drain().values()))

    drainer = threading.Thread(target=drain)
    drainer.start()
    threads = [threading.Thread(target=count) for _ in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    drainer.join()
    drained.append(sum(RedisCounters(redis_url).drain().values()))
    assert sum(drained) == writers * per_writer  # none lost between read and delete, none taken twice
    assert sum(1 for n in drained if n) > 1  # the drains really interleaved with the increments


def test_with_redis_down_counts_go_to_memory_and_are_flushed_later(client, settings, caplog):
    item = factories.article()
    settings.MASTHEAD_COUNTERS = "redis"
    settings.REDIS_URL = DEAD_REDIS
    for _ in range(3):
        assert client.get(item.get_absolute_url()).status_code == 200
    assert client.get(f"/a/{item.pk}/share/weibo/").status_code == 302
    assert "counter backend unavailable" in caplog.text

    # Flushing while Redis is still down writes what this process kept in memory.
    assert counters.flush() == 4
    item.refresh_from_db()
    assert (item.view_count, item.share_count) == (3, 1)
