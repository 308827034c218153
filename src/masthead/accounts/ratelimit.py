"""Rate limits on counters in the Django cache (Redis at scale), in windows that expire by themselves.

    result = ratelimit.hit("comment-ip", ratelimit.client_ip(request), limit=10, window=60)
    if not result.allowed:
        ...  # tell the user to wait ratelimit.describe_wait(result.retry_after)

A window opens with the first attempt and closes `window` seconds later (a key's expiry), so a
lockout lasts about the whole window, not whatever is left of a clock-aligned slot. Keys are hashed, so user
input (user names, e-mail addresses) never ends up in cache keys as such. When the cache fails, the
limit is not enforced (fail open, with a log line): a Redis outage must not lock everyone out.
Limits can be changed per scope without code: MASTHEAD_RATE_LIMITS = {"login-account": (5, 900)}.
"""

import hashlib
import ipaddress
import logging
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils.translation import ngettext

log = logging.getLogger(__name__)

CACHE_RETRY_SECONDS = 5.0
_cache_down_until = 0.0  # while the cache is failing, skip it instead of waiting on every call


@dataclass(frozen=True)
class RateLimit:
    allowed: bool
    retry_after: int  # seconds until the window ends once no attempt remains, else 0
    remaining: int  # attempts left in the current window


def configured(scope: str, limit: int, window: int) -> tuple[int, int]:
    """(limit, window) for `scope`, as MASTHEAD_RATE_LIMITS overrides it, else the defaults given."""
    override = getattr(settings, "MASTHEAD_RATE_LIMITS", {}).get(scope)
    return (int(override[0]), int(override[1])) if override else (limit, window)


def _keys(scope: str, key: str, window: int) -> tuple[str, str]:
    digest = hashlib.sha256(f"{scope}\0{key}".encode()).hexdigest()[:32]
    name = f"rl:{scope}:{window}:{digest}"
    return name, name + ":start"


def _result(count: int, limit: int, allowed: bool, started: float | None, window: int, now: float) -> RateLimit:
    ends_in = max(math.ceil((started or now) + window - now), 1)
    return RateLimit(allowed=allowed, retry_after=ends_in if count >= limit else 0, remaining=max(limit - count, 0))


def _usable() -> bool:
    return time.monotonic() >= _cache_down_until


def _failed(scope: str) -> None:
    global _cache_down_until
    _cache_down_until = time.monotonic() + CACHE_RETRY_SECONDS
    log.warning("rate limit %s not enforced: the cache is unavailable", scope, exc_info=True)


@receiver(setting_changed)
def _reset_cache_state(*, setting: str, **kwargs) -> None:
    global _cache_down_until
    if setting == "CACHES":
        _cache_down_until = 0.0


def _open(limit: int) -> RateLimit:
    return RateLimit(allowed=True, retry_after=0, remaining=limit)


def hit(scope: str, key: str, limit: int, window: int) -> RateLimit:
    """Count one attempt for `key` in `scope`; allowed while at most `limit` attempts fell in this window."""
    if not _usable():
        return _open(limit)
    name, start_name, now = *_keys(scope, key, window), time.time()
    try:
        # The window is the start key's lifetime; add() is atomic, so exactly one hit opens it. (The
        # counter's own expiry is not relied on: the file cache's incr() rewrites it with the default.)
        if cache.add(start_name, now, timeout=window):
            cache.set(name, 1, timeout=window)
            count, started = 1, now
        else:
            started = cache.get(start_name)
            try:
                count = cache.incr(name)
            except ValueError:  # opened a moment ago by another request that has not set the counter yet
                cache.set(name, 1, timeout=window)
                count = 1
    except Exception:
        _failed(scope)
        return _open(limit)
    return _result(count, limit, count <= limit, started, window, now)


def peek(scope: str, key: str, limit: int, window: int) -> RateLimit:
    """Whether one more attempt would be allowed, without counting one."""
    if not _usable():
        return _open(limit)
    name, start_name, now = *_keys(scope, key, window), time.time()
    try:
        found = cache.get_many([name, start_name])
    except Exception:
        _failed(scope)
        return _open(limit)
    started = found.get(start_name)
    count = int(found.get(name) or 0) if started is not None else 0
    return _result(count, limit, count < limit, started, window, now)


def reset(scope: str, key: str, window: int) -> None:
    """Forget the attempts counted for `key` (e.g. after a successful login)."""
    if not _usable():
        return
    try:
        cache.delete_many(_keys(scope, key, window))
    except Exception:
        _failed(scope)


def client_ip(request: HttpRequest) -> str:
    """The client's address as a rate-limit key.

    X-Forwarded-For is trusted only when MASTHEAD_TRUSTED_PROXIES says how many proxies append to it
    (any client can send the header). IPv6 clients are keyed by their /64: one host usually has all of it.
    """
    address = request.META.get("REMOTE_ADDR", "")
    proxies = int(getattr(settings, "MASTHEAD_TRUSTED_PROXIES", 0) or 0)
    if proxies > 0:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
        if len(hops) >= proxies:
            address = hops[-proxies]
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address or "unknown"
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def describe_wait(seconds: int) -> str:
    """'15 分钟' / '40 秒': how long to wait, rounded up, for messages."""
    if seconds >= 60:
        minutes = math.ceil(seconds / 60)
        return ngettext("%(n)d 分钟", "%(n)d 分钟", minutes) % {"n": minutes}
    seconds = max(seconds, 1)
    return ngettext("%(n)d 秒", "%(n)d 秒", seconds) % {"n": seconds}
