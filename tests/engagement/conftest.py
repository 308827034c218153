import os

import pytest

from masthead.engagement.backends.redis import HASH
from tests.redis_server import redis_or_skip

REDIS_TEST_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/11"


@pytest.fixture(autouse=True)
def _empty_counter_buffers(empty_counters):
    """Every engagement test starts and ends with nothing buffered (tests/conftest.py)."""


@pytest.fixture
def redis_url() -> str:
    """A Redis database for the counter buffer, emptied; skipped when no server answers, unless
    MASTHEAD_REQUIRE_REDIS=1 says Redis is part of this run."""
    client = redis_or_skip(REDIS_TEST_URL)
    client.delete(HASH)
    yield REDIS_TEST_URL
    client.delete(HASH)
    client.close()
