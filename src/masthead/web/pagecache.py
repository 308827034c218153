"""Full-page cache for anonymous readers, purged by tags.

A view opts in with `cache_page_for_readers(response, tags, hit=...)`. The stored entry remembers
the version of each tag it depends on ("fronts", "article:12", "account:3", …); `purge(tag)` gives
the tag a new version, so every entry rendered before it is stale at once, in every process that
shares the cache. Answers carry ETag and Last-Modified and honour conditional requests (304).
"""

import hashlib
import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.http import http_date

log = logging.getLogger(__name__)

TAG_KEY = "pc:tag:{}"
GLOBAL_TAGS = ("site",)
CARE_COOKIE = "masthead_care"
_hooks: dict[str, Callable[[str], None]] = {}


def register_hit_hook(kind: str, func: Callable[[str], None]) -> None:
    """Run `func(arg)` whenever a cached page whose hit is (kind, arg) is served (e.g. count a view)."""
    _hooks[kind] = func


def purge(*tags: str) -> None:
    """Invalidate every cached page that depends on any of `tags`."""
    try:
        cache.set_many({TAG_KEY.format(tag): time.time_ns() for tag in tags}, timeout=None)
    except Exception:  # a cache that is down has nothing to purge; reads will miss
        log.warning("page cache purge failed for %s", tags, exc_info=True)


def _versions(tags: list[str]) -> dict[str, int]:
    keys = [TAG_KEY.format(t) for t in tags]
    found = cache.get_many(keys)
    missing = {k: time.time_ns() for k in keys if k not in found}
    if missing:
        cache.set_many(missing, timeout=None)
        found.update(missing)
    return {tag: found[TAG_KEY.format(tag)] for tag in tags}


def page_key(request: HttpRequest) -> str:
    variant = f"{getattr(request, 'LANGUAGE_CODE', '')}|{request.COOKIES.get(CARE_COOKIE, '')}"
    digest = hashlib.md5(f"{variant}|{request.get_full_path()}".encode(), usedforsecurity=False)
    return f"pc:page:{digest.hexdigest()}"


def cache_page_for_readers(response: HttpResponse, tags: list[str], hit: tuple[str, str] | None = None):
    """Mark a rendered response as cacheable for anonymous readers."""
    response.page_cache_tags = [*GLOBAL_TAGS, *tags]
    response.page_cache_hit = hit
    return response


def _is_cacheable_request(request: HttpRequest) -> bool:
    return (
        settings.MASTHEAD_PAGE_CACHE_SECONDS > 0
        and request.method in ("GET", "HEAD")
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
    )


def _finish(request: HttpRequest, response: HttpResponse, etag: str, last_modified: float) -> HttpResponse:
    response["ETag"] = etag
    response["Last-Modified"] = http_date(last_modified)
    response["Cache-Control"] = "max-age=0, must-revalidate"
    patch_vary_headers(response, ("Cookie", "Accept-Language"))
    return get_conditional_response(request, etag=etag, last_modified=last_modified, response=response)


class PageCacheMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not _is_cacheable_request(request):
            return self.get_response(request)
        key = page_key(request)
        try:
            entry = cache.get(key)
            if entry and _versions(list(entry["versions"])) == entry["versions"]:
                return self._serve(request, entry)
        except Exception:  # the cache being down must not take the site down
            log.warning("page cache read failed", exc_info=True)
        response = self.get_response(request)
        tags = getattr(response, "page_cache_tags", None)
        if tags is None or response.status_code != 200 or response.cookies or response.streaming:
            return response
        etag = f'"{hashlib.md5(response.content, usedforsecurity=False).hexdigest()}"'
        now = time.time()
        try:
            entry = {
                "content": response.content,
                "headers": [(k, v) for k, v in response.items() if k.lower() not in ("set-cookie", "vary")],
                "etag": etag,
                "modified": now,
                "versions": _versions(tags),
                "hit": response.page_cache_hit,
            }
            cache.set(key, entry, settings.MASTHEAD_PAGE_CACHE_SECONDS)
        except Exception:
            log.warning("page cache write failed", exc_info=True)
        return _finish(request, response, etag, now)

    def _serve(self, request: HttpRequest, entry: dict) -> HttpResponse:
        if entry["hit"] and entry["hit"][0] in _hooks:
            kind, arg = entry["hit"]
            _hooks[kind](arg)
        response = HttpResponse(entry["content"])
        for header, value in entry["headers"]:
            response[header] = value
        response["X-Page-Cache"] = "hit"
        return _finish(request, response, entry["etag"], entry["modified"])


def cached_fragment(name: str, tags: list[str], build: Callable[[], object], timeout: int = 300):
    """Cache a computed block (hot list, channel blocks) until one of `tags` is purged."""
    try:
        versions = _versions([*GLOBAL_TAGS, *tags])
        key = f"pc:frag:{name}:" + ":".join(str(v) for v in versions.values())
        value = cache.get(key)
        if value is None:
            value = build()
            cache.set(key, value, timeout)
        return value
    except Exception:
        log.warning("fragment cache unavailable for %s", name, exc_info=True)
        return build()
