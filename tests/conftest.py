import atexit
import os

import pytest
from django.core.cache import cache

from masthead.moderation import screening


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
    settings.MASTHEAD_PUBLISH_DUE_SECONDS = 3600  # likewise the scheduled-publishing check
    settings.MASTHEAD_HOT_REFRESH_SECONDS = 0  # and the hot-list refresh
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    cache.clear()
    screening.reset()
    yield
    cache.clear()
    screening.reset()
