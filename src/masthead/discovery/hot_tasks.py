"""The hot list is refreshed every minute by the `refresh_hot` task.

With a worker backend a scheduler enqueues it; the embedded default has no worker, so
`HotRefreshMiddleware` enqueues it from the request path (which, with the Immediate backend, runs it
there), as articles.scheduler's PublishDueMiddleware does for scheduled articles. A key in the shared
cache, added with a lifetime of one interval, makes that once a minute across every process and
server, not once per process; each process looks at the key at most every few seconds.
MASTHEAD_HOT_REFRESH_SECONDS sets the interval; 0 turns the request-path refresh off.
"""

import logging
import threading
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.tasks import task
from django.utils import timezone

from masthead.discovery import hot, hot_score

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_SECONDS = 60.0
CHECK_SECONDS = 5.0  # how often one process asks the shared cache whether a refresh is due
DUE_KEY = "hot:refresh:due"

_lock = threading.Lock()
_next_check = 0.0


@task
def refresh_hot() -> int | None:
    """Expire editors' overrides whose time is up, then recompute and store the hot list."""
    now = timezone.now()
    hot.expire_overrides(now)
    return hot_score.refresh(now)


def interval() -> float:
    return float(getattr(settings, "MASTHEAD_HOT_REFRESH_SECONDS", DEFAULT_INTERVAL_SECONDS))


def maybe_refresh() -> bool:
    """Enqueue refresh_hot if no process has in the last interval; never fails the caller."""
    global _next_check
    seconds = interval()
    if seconds <= 0 or time.monotonic() < _next_check or not _lock.acquire(blocking=False):
        return False
    try:
        _next_check = time.monotonic() + min(CHECK_SECONDS, seconds)
        if not cache.add(DUE_KEY, 1, max(int(seconds), 1)):
            return False
        refresh_hot.enqueue()
        return True
    except Exception:
        log.exception("hot list refresh failed")
        return False
    finally:
        _lock.release()


class HotRefreshMiddleware:
    """Keeps the hot list fresh without a worker. Goes before masthead.web.pagecache.PageCacheMiddleware,
    so cached pages trigger it too."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        maybe_refresh()
        return self.get_response(request)
