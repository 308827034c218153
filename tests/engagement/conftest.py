import os

import pytest
import redis

from masthead.engagement import counters
from masthead.engagement.backends.redis import HASH

REDIS_TEST_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/11"


@pytest.fixture(autouse=True)
def _empty_counter_buffers(settings, db):
    """Start and end with nothing buffered: increments left by other tests must not land on these
    articles (ids are reused after a rollback). No flush from the request path unless a test asks."""
    settings.MASTHEAD_COUNTER_FLUSH_SECONDS = 3600
    counters.flush()
    yield
    counters.flush()


@pytest.fixture
def redis_url() -> str:
    """A Redis database for the counter buffer, emptied; skipped when no server answers, unless
    MASTHEAD_REQUIRE_REDIS=1 says Redis is part of this run."""
    client = redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError as exc:
        if os.environ.get("MASTHEAD_REQUIRE_REDIS") == "1":
            pytest.fail(f"MASTHEAD_REQUIRE_REDIS=1 but no Redis server answers at {REDIS_TEST_URL}: {exc}")
        pytest.skip(f"no Redis server answers at {REDIS_TEST_URL} (set REDIS_URL, or MASTHEAD_REQUIRE_REDIS=1)")
    client.delete(HASH)
    yield REDIS_TEST_URL
    client.delete(HASH)
    client.close()
