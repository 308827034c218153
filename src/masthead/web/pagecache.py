"""Full-page cache for anonymous readers, purged by tags.

A view opts in with `cache_page_for_readers(response, tags, hit=...)`. The stored entry remembers
the version of each tag it depends on ("fronts", "article:12", "account:3", …); `purge(tag)` gives
the tag a new version, so every entry rendered before it is stale at once, in every process that
shares the cache. Answers carry ETag and Last-Modified and honour conditional requests (304).
See docs/caching.md.

A hit needs the current value of `pc:purged`, which every purge changes after writing its tags: read
from the file cache, or known without a round trip from Redis through the purge watch (purgewatch.py).
Each process remembers the tag versions and heads it read under the current `pc:purged` value and
the bytes of recent pages under their MD5: none can hide a purge (a purge changes `pc:purged`; bytes
under an MD5 never change), and they spare the hit the tag keys, the head and the page body.
"""

import hashlib
import logging
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from functools import partial

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import SuspiciousOperation
from django.core.signals import setting_changed
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.http import http_date

from masthead.web import purgewatch

log = logging.getLogger(__name__)

TAG_KEY = "pc:tag:{}"
# Changes on every purge, after the purged tags: a page whose rendering overlapped a purge may show old
# rows, so it is not stored; and tag versions read after seeing a value stay valid while it stays.
PURGED_KEY = "pc:purged"
HEAD_KEY = "pc:head:{}"  # a stored page without its bytes: headers, ETag, tag versions, hit hook
BODY_KEY = "pc:body:{}"  # a page's bytes under their MD5 (the ETag): the same bytes forever
GLOBAL_TAGS = ("site",)
CONDITIONAL = ("HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE", "HTTP_IF_MATCH", "HTTP_IF_UNMODIFIED_SINCE")
# Per-process memory for page bytes (the least recently served go first); 0 turns it off.
BODY_MEMO_BYTES = 16 * 1024 * 1024
TAG_MEMO_SIZE = 10_000  # tag versions remembered under one `pc:purged` value before starting over
HEAD_MEMO_SIZE = 2_000  # heads of the most recently served pages
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
_memo_lock = threading.Lock()
_tag_memo: tuple[object, dict[str, object]] = (None, {})  # (`pc:purged` value, {tag: version} read after it)
_bodies: OrderedDict[str, bytes] = OrderedDict()  # MD5 → page bytes, least recently served first
_bodies_size = 0
_heads: OrderedDict[str, tuple[object, dict]] = OrderedDict()  # page key → (`pc:purged` value, current head)


def register_hit_hook(kind: str, func: Callable[[str, HttpRequest], None]) -> None:
    """Run `func(arg, request)` whenever a cached page whose hit is (kind, arg) is served (e.g. count a view)."""
    _hooks[kind] = func


def purge(*tags: str) -> None:
    """Invalidate every cached page that depends on any of `tags`.

    Inside a transaction the purge waits for the commit: purging earlier would let a reader re-cache
    the old rows under the new version before the change is visible.
    """
    transaction.on_commit(partial(_purge_now, set(tags)))


def clear_all() -> None:
    """Empty the whole cache (e.g. the data was restored) and let every process know at once: their
    memory of pages goes with it, as after a purge of everything."""
    cache.clear()
    _purge_now(set(GLOBAL_TAGS))


def _stamp() -> int:
    # Unique even when two servers purge in the same nanosecond: versions are compared for equality.
    return time.time_ns() << 16 | secrets.randbits(16)


def _purge_now(tags: set[str]) -> None:
    stamp = _stamp()
    try:
        cache.set_many({TAG_KEY.format(tag): stamp for tag in tags}, timeout=None)
        # Only after the tags: whoever reads this value reads the purged tags' new versions after it.
        cache.set(PURGED_KEY, stamp, timeout=None)
        purgewatch.watch.announce(PURGED_KEY, stamp)
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
    global _cache_down_until, _tag_memo
    if setting == "CACHES":
        _cache_down_until = 0.0
        _tag_memo = (None, {})
        _heads.clear()


def _versions(tags: list[str]) -> dict[str, int]:
    keys = [TAG_KEY.format(t) for t in tags]
    found = cache.get_many(keys)
    missing = {k: _stamp() for k in keys if k not in found}
    if missing:
        cache.set_many(missing, timeout=None)
        found.update(missing)
    return {tag: found[TAG_KEY.format(tag)] for tag in tags}


def _remember_versions(purged: object, versions: dict[str, object]) -> None:
    """Keep tag versions that were read after `pc:purged` was seen holding `purged`."""
    global _tag_memo
    if purged is None or not versions:
        return
    with _memo_lock:
        seen_under, known = _tag_memo
        if seen_under == purged and len(known) < TAG_MEMO_SIZE:
            known.update(versions)
        else:
            _tag_memo = (purged, dict(versions))


def _is_current(versions: dict[str, object], purged: object) -> bool:
    """Whether every tag still has the version the page was built with; `purged` was read first.

    While `pc:purged` holds the value this process saw when it read a tag, no purge has finished
    since (each one writes it last, with a new value), so the remembered version is the current one.
    Only tags not remembered, or remembered with another version, are read from the cache.
    """
    seen_under, known = _tag_memo
    if purged is None or seen_under != purged:
        known = {}
    unsure = [tag for tag, version in versions.items() if known.get(tag) != version]
    if not unsure:
        return True
    keys = {tag: TAG_KEY.format(tag) for tag in unsure}
    found = cache.get_many(list(keys.values()))
    fresh = {tag: found[key] for tag, key in keys.items() if key in found}
    _remember_versions(purged, fresh)
    # A tag whose key was evicted reads as missing: the page is then stale, never wrongly current.
    return all(fresh.get(tag) == versions[tag] for tag in unsure)


def _keep_body(digest: str, body: bytes) -> None:
    global _bodies_size
    if len(body) > BODY_MEMO_BYTES:
        return
    with _memo_lock:
        if digest not in _bodies:
            _bodies[digest] = body
            _bodies_size += len(body)
        while _bodies_size > BODY_MEMO_BYTES:
            _bodies_size -= len(_bodies.popitem(last=False)[1])


def _body(digest: str) -> bytes | None:
    """A stored page's bytes: from this process's memory, else from the cache (then kept)."""
    with _memo_lock:
        body = _bodies.get(digest)
        if body is not None:
            _bodies.move_to_end(digest)
            return body
    body = cache.get(BODY_KEY.format(digest))
    if body is not None:
        _keep_body(digest, body)
    return body


def _current_head(key: str) -> tuple[dict | None, object]:
    """(the stored head of page `key` if it is current, else None; the value of `pc:purged` read).

    A head this process found current while `pc:purged` held the value it holds now is current
    still (until it expires): then only `pc:purged` is read.
    """
    purged = purgewatch.watch.current(PURGED_KEY, partial(cache.get, PURGED_KEY))
    remembered = _heads.get(key)
    if remembered is not None:
        seen_under, head = remembered
        if purged is not None and seen_under == purged and head.get("expires", 0) > time.time():
            return head, purged
    head = cache.get(key)
    if head is None or not _is_current(head["versions"], purged):
        return None, purged
    if purged is not None:
        with _memo_lock:
            _heads[key] = (purged, head)
            _heads.move_to_end(key)
            if len(_heads) > HEAD_MEMO_SIZE:
                _heads.popitem(last=False)
    return head, purged


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
    try:
        params = request.GET.lists()
    except SuspiciousOperation:  # e.g. too many fields: let the view (or the API's handler) refuse it
        return None
    for name, values in params:
        value = values[0]
        if name in KEY_PARAMS and len(values) == 1 and value.isascii() and value.isdigit() and len(value) <= 6:
            query.append(f"{name}={value}")
        elif name in IGNORED_PARAMS or name.startswith("utm_"):
            storable = False
        else:
            return None
    care = "1" if request.COOKIES.get(CARE_COOKIE) == "1" else ""
    # The language as LocaleMiddleware (which runs after) will choose it from the language cookie or
    # Accept-Language; a language prefix in the path would be part of the path below.
    language = translation.get_language_from_request(request)
    # Scheme and host too: pages carry absolute URLs (share links, QR code, canonical, JSON-LD).
    variant = f"{language}|{care}|{request.scheme}://{request.get_host()}"
    raw = f"{variant}|{request.path}?{'&'.join(sorted(query))}"
    return HEAD_KEY.format(hashlib.md5(raw.encode(), usedforsecurity=False).hexdigest()), storable


def cache_page_for_readers(response: HttpResponse, tags: list[str], hit: tuple[str, str] | None = None):
    """Mark a rendered response as cacheable for anonymous readers."""
    response.page_cache_tags = [*GLOBAL_TAGS, *tags]
    response.page_cache_hit = hit
    return response


class PageCacheMiddleware:
    """Serve and store anonymous pages. Sits before SessionMiddleware and LocaleMiddleware, so a hit
    costs neither; a miss goes through both, and what they add to the answer is stored with it."""

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
            head, purged = _current_head(key)
            body = _body(head["body"]) if head is not None else None
            if head is not None and body is None:  # bytes evicted: the page is rendered and stored again
                with _memo_lock:
                    _heads.pop(key, None)
        except Exception:  # the cache being down must not take the site down: render without it
            _cache_failed("page cache read failed")
            return self._render(request, None, None)
        if body is not None:
            return self._serve(request, head, body)
        return self._render(request, key if storable else None, purged)

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
        digest = hashlib.md5(response.content, usedforsecurity=False).hexdigest()
        etag = f'"{digest}"'
        modified = int(time.time())  # whole seconds: If-Modified-Since carries no fraction
        response["ETag"] = etag
        response["Last-Modified"] = http_date(modified)
        response["Cache-Control"] = "max-age=0, must-revalidate"
        patch_vary_headers(response, ("Cookie", "Accept-Language"))
        if key is not None:
            head = {
                # Served as they are on a hit, Vary included (API answers also vary on Authorization).
                "headers": [(k, v) for k, v in response.items() if k.lower() != "set-cookie"],
                "body": digest,
                "etag": etag,
                "modified": modified,
                "hit": response.page_cache_hit,
                "expires": time.time() + settings.MASTHEAD_PAGE_CACHE_SECONDS,
            }
            self._store(key, head, response.content, tags, purged_before)
        response["X-Page-Cache"] = "miss"
        return get_conditional_response(request, etag=etag, last_modified=modified, response=response)

    @staticmethod
    def _store(key: str, head: dict, body: bytes, tags: list[str], purged_before: object) -> None:
        try:
            keys = {tag: TAG_KEY.format(tag) for tag in tags}
            found = cache.get_many([*keys.values(), PURGED_KEY])
            if found.get(PURGED_KEY) != purged_before:
                purgewatch.watch.forget()  # e.g. a Redis emptied behind our back: read it afresh
                return  # a purge ran while this page was rendered: it may show what was just changed
            missing = {k: _stamp() for k in keys.values() if k not in found}
            if missing:
                cache.set_many(missing, timeout=None)
                found.update(missing)
            if purged_before is None:  # emptied cache: give hits a value to remember tag versions under
                cache.add(PURGED_KEY, _stamp(), timeout=None)
            head["versions"] = {tag: found[k] for tag, k in keys.items()}
            # The bytes first: a head found in the cache always finds its body there too.
            cache.set(BODY_KEY.format(head["body"]), body, settings.MASTHEAD_PAGE_CACHE_SECONDS)
            cache.set(key, head, settings.MASTHEAD_PAGE_CACHE_SECONDS)
            _keep_body(head["body"], body)
        except Exception:
            _cache_failed("page cache write failed")

    @staticmethod
    def _serve(request: HttpRequest, head: dict, body: bytes) -> HttpResponse:
        if head["hit"] and head["hit"][0] in _hooks:
            kind, arg = head["hit"]
            _hooks[kind](arg, request)
        response = HttpResponse(body, headers=head["headers"])
        response["X-Page-Cache"] = "hit"
        if any(name in request.META for name in CONDITIONAL):
            return get_conditional_response(
                request, etag=head["etag"], last_modified=head["modified"], response=response
            )
        return response


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
