"""Search engines. The one in use follows the database unless MASTHEAD_SEARCH_BACKEND names one."""

from functools import cache

from django.conf import settings
from django.db import connection
from django.utils.module_loading import import_string

from masthead.discovery.backends.base import SearchBackend

ENGINES = {
    "sqlite": "masthead.discovery.backends.sqlite.SqliteBackend",
    "postgresql": "masthead.discovery.backends.postgres.PostgresBackend",
}


@cache
def _load(path: str) -> SearchBackend:
    return import_string(path)()


def get_backend() -> SearchBackend:
    path = getattr(settings, "MASTHEAD_SEARCH_BACKEND", "") or ENGINES.get(connection.vendor)
    if not path:
        raise RuntimeError(f"no search engine for the {connection.vendor} database")
    return _load(path)
