"""The WSGI application for gunicorn's master to load before it forks the workers (`--preload`).

`masthead run` and the systemd unit in docs/operations.md start
`gunicorn masthead.ops.preload:application --preload`. The master then imports Django and every view,
and loads the two large read-only tables the reader pages need: rjieba's dictionary (segmentation
for search, tags and 相关推荐; about 34 MiB) and GeoIP2Fast's database (IP属地; about 55 MiB). The
workers it forks share those pages copy-on-write instead of each loading its own copy.

Nothing loaded here may open what a forked worker would then share with its siblings: a database or
cache connection, a socket, a thread. warm() checks, and closes any connection an import opened.
gc.freeze() at the end keeps the garbage collector's passes in the workers from writing to (and so
copying) every shared object. Without --preload each worker runs the same warm-up for itself.
"""

import gc
import logging
import threading
import time

from masthead.wsgi import application

log = logging.getLogger(__name__)

__all__ = ["application", "warm"]


def _warm_segmenter() -> None:
    import rjieba

    # The base dictionary only: the user dictionary (channel, tag and account names) is read from the
    # database, so each worker adds it on its first segmentation (discovery.text).
    rjieba.cut("预热分词词典")


def _warm_regions() -> None:
    from masthead.accounts import geo

    geo.backend().locate("1.0.0.1")  # the default backend reads its database on the first lookup


def _close_connections() -> list[str]:
    """Close database and cache connections an import opened; returns which (there should be none)."""
    from django.core.cache import caches
    from django.db import connections

    opened = [f"database {c.alias}" for c in connections.all(initialized_only=True) if c.connection is not None]
    connections.close_all()
    for cache in caches.all(initialized_only=True):
        cache.close()
    return opened


def warm() -> dict[str, float]:
    """Import the views and load the shared tables; returns the seconds each step took."""
    from django.urls import get_resolver

    steps = {
        "views": lambda: get_resolver().url_patterns,  # imports every urls and views module
        "segmenter": _warm_segmenter,
        "regions": _warm_regions,
    }
    took: dict[str, float] = {}
    for name, step in steps.items():
        began = time.perf_counter()
        try:
            step()
        except Exception:  # a worker loads it on first use instead; the site must still start
            log.warning("preload: could not load %s", name, exc_info=True)
        took[name] = time.perf_counter() - began
    if opened := _close_connections():
        log.warning("preload: an import opened %s; closed before the workers fork", ", ".join(opened))
    if threading.active_count() > 1:
        names = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
        log.warning("preload: threads started at import would not exist in the workers: %s", names)
    gc.freeze()
    return took


warm()
