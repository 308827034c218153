import atexit
import os

import pytest

from masthead.moderation import screening
from masthead.web import pagecache


def pytest_configure(config):
    from django.conf import settings

    from masthead.engagement import counters

    # Servers flush buffered counts at exit; a test run must not write them into the real database.
    atexit.unregister(counters.flush_quietly)

    # The live server's thread must not keep a connection open past the test (PostgreSQL teardown).
    settings.DATABASES["default"]["CONN_MAX_AGE"] = 0
    engine = settings.DATABASES["default"]["ENGINE"]
    if os.environ.get("MASTHEAD_REQUIRE_POSTGRES") == "1" and "postgresql" not in engine:
        raise pytest.UsageError("MASTHEAD_REQUIRE_POSTGRES=1 but DATABASE_URL does not point at PostgreSQL")


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path):
    """Each test gets its own media folder and an empty cache."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MASTHEAD_COUNTER_FLUSH_SECONDS = 3600  # a flush from a request would add queries at random
    # Increments reach a shared buffer at once, so no timer carries one test's counts into the next
    # (tests/engagement/test_counter_push.py covers the timer).
    settings.MASTHEAD_COUNTER_PUSH_SECONDS = 0
    settings.MASTHEAD_PUBLISH_DUE_SECONDS = 3600  # likewise the scheduled-publishing check
    settings.MASTHEAD_HOT_REFRESH_SECONDS = 0  # and the hot-list refresh
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    pagecache.clear_all()
    screening.reset()
    yield
    pagecache.clear_all()
    screening.reset()


@pytest.fixture
def empty_counters(db):
    """Start and end with nothing buffered: increments left by other tests must not land on this test's
    articles (ids are reused after a rollback)."""
    from masthead.engagement import counters

    counters.flush()
    yield
    counters.flush()
