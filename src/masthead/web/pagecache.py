"""Full-page cache for anonymous readers, purged by tags.

A view opts in with `cache_page_for_readers(response, tags, hit=...)`. The stored entry remembers
the version of each tag it depends on ("fronts", "article:12", "account:3", …); `purge(tag)` gives
the tag a new version, so every entry rendered before it is stale at once, in every process that
shares the cache. Answers carry ETag and Last-Modified and honour conditional requests (304).
See docs/caching.md.
"""

import hashlib
import logging
import time
from collections.abc import Callable
from functools import partial

from django.conf import settings
from django.core.cache import cache
from django.core.signals import setting_changed
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.http import http_date

log = logging.getLogger(__name__)

TAG_KEY = "pc:tag:{}"
# Changes on every purge: a page whose rendering overlapped a purge may show old rows, so it is not stored.
PURGED_KEY = "pc:purged"
GLOBAL_TAGS = ("site",)
# Read in the same round trip as the page itself, so a hit on a front page needs one cache call.
PREFETCH_KEYS = tuple(TAG_KEY.format(t) for t in ("site", "fronts"))
CARE_COOKIE = "masthead_care"
# Query parameters that select a different page; any other parameter bypasses the cache, so random
# query strings can neither fill the cache nor be served someone else's answer.
KEY_PARAMS = frozenset({"page"})
# Tracking parameters added by share targets (WeChat adds ?from=…&isappinstalled=0): ignored when
# looking a page up, but a page rendered with them is not stored (its links would carry them).
IGNORED_PARAMS = frozenset({"from", "isappinstalled", "spm", "share_token", "fbclid", "gclid", "scene"})
CACHE_RETRY_SECONDS = 5.0
_hooks: dict[str, Callable[[str, HttpRequest], None]] = {}
_cache_down_until = 0.0  # monotonic time until which this process leaves a failing cache alone
_pending_purges: set[str] = set()  # purges that failed while the cache was down


def register_hit_hook(kind: str, func: Callable[[str, HttpRequest], None]) -> None:
    """Run `func(arg, request)` whenever a cached page whose hit is (kind, arg) is served (e.g. count a view)."""
    _hooks[kind] = func


def purge(*tags: str) -> None:
    """Invalidate every cached page that depends on any of `tags`.

    Inside a transaction the purge waits for the commit: purging earlier would let a reader re-cache
    the old rows under the new version before the change is visible.
    """
    transaction.on_commit(partial(_purge_now, set(tags)))


def _purge_now(tags: set[str]) -> None:
    stamp = time.time_ns()
    try:
        cache.set_many({**{TAG_KEY.format(tag): stamp for tag in tags}, PURGED_KEY: stamp}, timeout=None)
    except Exception:
        # Entries may survive an outage (a network blip): purge again once the cache answers.
        _pending_purges.update(tags)
        _cache_failed("page cache purge failed")
    else:
        _pending_purges.difference_update(tags)


def _cache_usable() -> bool:
    return time.monotonic() >= _cache_down_until


def _cache_failed(what: str) -> None:
    """Stop using the cache for a moment: a dead Redis then costs one failed call, not one per fragment."""
    global _cache_down_until
    _cache_down_until = time.monotonic() + CACHE_RETRY_SECONDS
    log.warning("%s; serving without the page cache for %ss", what, CACHE_RETRY_SECONDS, exc_info=True)


@receiver(setting_changed)
def _reset_cache_state(*, setting: str, **kwargs) -> None:
    global _cache_down_until
    if setting == "CACHES":
        _cache_down_until = 0.0


def _versions(tags: list[str]) -> dict[str, int]:
    keys = [TAG_KEY.format(t) for t in tags]
    found = cache.get_many(keys)
    missing = {k: time.time_ns() for k in keys if k not in found}
    if missing:
        cache.set_many(missing, timeout=None)
        found.update(missing)
    return {tag: found[TAG_KEY.format(tag)] for tag in tags}


def page_key(request: HttpRequest) -> tuple[str, bool] | None:
    """(cache key, whether the request may be stored) for an anonymous GET/HEAD, else None."""
    if (
        settings.MASTHEAD_PAGE_CACHE_SECONDS <= 0
        or request.method not in ("GET", "HEAD")
        or settings.SESSION_COOKIE_NAME in request.COOKIES
        or "HTTP_AUTHORIZATION" in request.META  # an API client with a token: its answers may be personal
    ):
        return None
    query, storable = [], True
    for name, values in request.GET.lists():
        value = values[0]
        if name in KEY_PARAMS and len(values) == 1 and value.isascii() and value.isdigit() and len(value) <= 6:
            query.append(f"{name}={value}")
        elif name in IGNORED_PARAMS or name.startswith("utm_"):
            storable = False
        else:
            return None
    care = "1" if request.COOKIES.get(CARE_COOKIE) == "1" else ""
    # Scheme and host too: pages carry absolute URLs (share links, QR code, canonical, JSON-LD).
    variant = f"{getattr(request, 'LANGUAGE_CODE', '')}|{care}|{request.scheme}://{request.get_host()}"
    raw = f"{variant}|{request.path}?{'&'.join(sorted(query))}"
    return f"pc:page:{hashlib.md5(raw.encode(), usedforsecurity=False).hexdigest()}", storable


def cache_page_for_readers(response: HttpResponse, tags: list[str], hit: tuple[str, str] | None = None):
    """Mark a rendered response as cacheable for anonymous readers."""
    response.page_cache_tags = [*GLOBAL_TAGS, *tags]
    response.page_cache_hit = hit
    return response


def _finish(request: HttpRequest, response: HttpResponse, etag: str, last_modified: int) -> HttpResponse:
    response["ETag"] = etag
    response["Last-Modified"] = http_date(last_modified)
    response["Cache-Control"] = "max-age=0, must-revalidate"
    patch_vary_headers(response, ("Cookie", "Accept-Language"))
    return get_conditional_response(request, etag=etag, last_modified=last_modified, response=response)


def _is_current(entry: dict, found: dict) -> bool:
    keys = {tag: TAG_KEY.format(tag) for tag in entry["versions"]}
    missing = [key for key in keys.values() if key not in found]
    if missing:
        found = {**found, **cache.get_many(missing)}
    # A tag whose key was evicted reads as None: the entry is then stale, never wrongly current.
    return all(found.get(key) == entry["versions"][tag] for tag, key in keys.items())


class PageCacheMiddleware:
    """Serve and store anonymous pages; sits after LocaleMiddleware so the language is known."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        lookup = page_key(request)
        if lookup is None:
            return self.get_response(request)
        key, storable = lookup
        if not _cache_usable():
            return self._render(request, None, None)
        try:
            if _pending_purges:
                _purge_now(set(_pending_purges))
                if _pending_purges:  # still not purged: the stored pages may be stale
                    return self._render(request, None, None)
            found = cache.get_many([key, PURGED_KEY, *PREFETCH_KEYS])
            entry = found.get(key)
            current = entry is not None and _is_current(entry, found)
        except Exception:  # the cache being down must not take the site down: render without it
            _cache_failed("page cache read failed")
            return self._render(request, None, None)
        if current:
            return self._serve(request, entry)
        return self._render(request, key if storable else None, found.get(PURGED_KEY))

    def _render(self, request: HttpRequest, key: str | None, purged_before: object) -> HttpResponse:
        response = self.get_response(request)
        tags = getattr(response, "page_cache_tags", None)
        session = getattr(request, "session", None)
        if (
            tags is None
            or response.status_code != 200
            or response.streaming
            or response.cookies
            or (session is not None and session.modified)  # the answer belongs to one visitor
        ):
            return response
        etag = f'"{hashlib.md5(response.content, usedforsecurity=False).hexdigest()}"'
        modified = int(time.time())  # whole seconds: If-Modified-Since carries no fraction
        if key is not None:
            entry = {
                "content": response.content,
                "headers": [(k, v) for k, v in response.items() if k.lower() not in ("set-cookie", "vary")],
                "etag": etag,
                "modified": modified,
                "hit": response.page_cache_hit,
            }
            self._store(key, entry, tags, purged_before)
        response["X-Page-Cache"] = "miss"
        return _finish(request, response, etag, modified)

    @staticmethod
    def _store(key: str, entry: dict, tags: list[str], purged_before: object) -> None:
        try:
            keys = {tag: TAG_KEY.format(tag) for tag in tags}
            found = cache.get_many([*keys.values(), PURGED_KEY])
            if found.get(PURGED_KEY) != purged_before:
                return  # a purge ran while this page was rendered: it may show what was just changed
            missing = {k: time.time_ns() for k in keys.values() if k not in found}
            if missing:
                cache.set_many(missing, timeout=None)
                found.update(missing)
            entry["versions"] = {tag: found[k] for tag, k in keys.items()}
            cache.set(key, entry, settings.MASTHEAD_PAGE_CACHE_SECONDS)
        except Exception:
            _cache_failed("page cache write failed")

    @staticmethod
    def _serve(request: HttpRequest, entry: dict) -> HttpResponse:
        if entry["hit"] and entry["hit"][0] in _hooks:
            kind, arg = entry["hit"]
            _hooks[kind](arg, request)
        response = HttpResponse(entry["content"])
        for header, value in entry["headers"]:
            response[header] = value
        response["X-Page-Cache"] = "hit"
        return _finish(request, response, entry["etag"], entry["modified"])


def cached_fragment(name: str, tags: list[str], build: Callable[[], object], timeout: int = 300):
    """Cache a computed block (hot list, channel blocks) until one of `tags` is purged."""
    if not _cache_usable():
        return build()
    try:
        # Versions are read before building, so a purge during the build leaves it under the old key.
        versions = _versions([*GLOBAL_TAGS, *tags])
        key = f"pc:frag:{name}:" + ":".join(str(v) for v in versions.values())
        value = cache.get(key)
    except Exception:
        _cache_failed(f"fragment cache read failed for {name}")
        return build()
    if value is None:
        value = build()
        try:
            cache.set(key, value, timeout)
        except Exception:
            _cache_failed(f"fragment cache write failed for {name}")
    return value
