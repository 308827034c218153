"""Scheduled publishing: `publish_due()` publishes every scheduled article whose time has come.

It runs from three places, all safe at once: the `masthead publishdue` command (with `--loop` a
simple worker), the `publish_due_task` django.tasks task (for a real worker backend), and, so the
embedded default publishes on time without any worker, from the request path at most every
MASTHEAD_PUBLISH_DUE_SECONDS (`PublishDueMiddleware`, like engagement.counters.maybe_flush).

Each article is published in its own transaction after locking its row and checking again that it
is still scheduled, so two runs never publish the same article twice: PostgreSQL skips rows another
run holds (SKIP LOCKED); SQLite runs write transactions one at a time (BEGIN IMMEDIATE) and the
second run finds the article already published. An article whose time passed while everything was
down is simply due on the next run. One that breaks a rule by then (e.g. its author's credential
expired) stays scheduled and goes out on the first run after the problem is fixed.
"""

import logging
import threading
import time
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse
from django.tasks import task
from django.utils import timezone

from masthead.articles import actions, workflow
from masthead.articles.models import Article

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_SECONDS = 30.0
BATCH = 200  # per run; a longer backlog is finished by the following runs

_lock = threading.Lock()
_last_run = time.monotonic()


def _publish_one(pk: int, now: datetime) -> bool:
    with transaction.atomic():
        qs = Article.objects.select_related("account", "channel").filter(
            pk=pk, status=Article.Status.SCHEDULED, scheduled_at__lte=now
        )
        if connection.features.has_select_for_update_skip_locked:
            of = ("self",) if connection.features.has_select_for_update_of else ()
            qs = qs.select_for_update(skip_locked=True, of=of)
        else:
            qs = qs.select_for_update()
        article = qs.first()
        if article is None:  # published by another run meanwhile, or held by it right now
            return False
        try:
            workflow.check_publishable(article)
        except ValidationError as exc:
            log.warning("scheduled article %s held back: %s", pk, "; ".join(exc.messages))
            return False
        actions.publish(article)
        return True


def publish_due(now: datetime | None = None) -> list[int]:
    """Publish the scheduled articles due at `now` (default: now); returns the ids this run published."""
    now = now or timezone.now()
    due = list(
        Article.objects.filter(status=Article.Status.SCHEDULED, scheduled_at__lte=now)
        .order_by("scheduled_at", "pk")
        .values_list("pk", flat=True)[:BATCH]
    )
    return [pk for pk in due if _publish_one(pk, now)]


def interval() -> float:
    return float(getattr(settings, "MASTHEAD_PUBLISH_DUE_SECONDS", DEFAULT_INTERVAL_SECONDS))


def maybe_publish_due() -> list[int]:
    """Run publish_due() if this process has not for `interval()` seconds; never fails the caller."""
    global _last_run
    if time.monotonic() - _last_run < interval():
        return []
    if not _lock.acquire(blocking=False):
        return []
    try:
        _last_run = time.monotonic()
        return publish_due()
    except Exception:
        log.exception("scheduled publishing failed")
        return []
    finally:
        _lock.release()


class PublishDueMiddleware:
    """Publishes due articles from the request path before the page cache answers, so the embedded
    default needs no worker. Goes before masthead.web.pagecache.PageCacheMiddleware."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        maybe_publish_due()
        return self.get_response(request)


@task
def publish_due_task() -> list[int]:
    """The same for a django.tasks worker backend (e.g. enqueued every minute by a scheduler)."""
    return publish_due()
