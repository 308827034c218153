import os

import pytest

from masthead.engagement import counters
from masthead.engagement.backends.redis import HASH
from tests.redis_server import redis_or_skip

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
    client = redis_or_skip(REDIS_TEST_URL)
    client.delete(HASH)
    yield REDIS_TEST_URL
    client.delete(HASH)
    client.close()
