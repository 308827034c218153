"""Who is a reader, for counting distinct readers without tracking anyone.

A reader is the signed-in user, or for anonymous readers their IP address + User-Agent. Neither is
stored: both are reduced to an HMAC under a random salt that exists for one day only (kept in the
shared cache, so every worker and server agrees on it, and dropped after the day). Within a day the
same reader always gives the same digest, so they are counted once per article; across days the
digests cannot be linked, not even by someone holding SECRET_KEY and the database.
"""

import hashlib
import hmac
import logging
import secrets
import threading
from datetime import date, datetime

from django.core.cache import cache
from django.http import HttpRequest

from masthead.engagement import counters

log = logging.getLogger(__name__)

SALT_KEY = "masthead:reader-salt:{day}"
SALT_SECONDS = 2 * 24 * 3600  # long enough to outlive its day in every time zone, then gone
DIGEST_CHARS = 32  # 128 bits of the HMAC: collisions between readers of one article-day are negligible

_salts: dict[date, bytes] = {}
_salts_lock = threading.Lock()


def daily_salt(day: date) -> bytes:
    """The random salt of `day`, created by whichever process needs it first."""
    salt = _salts.get(day)
    if salt is not None:
        return salt
    key = SALT_KEY.format(day=day.isoformat())
    try:
        cache.add(key, secrets.token_hex(32), SALT_SECONDS)  # only the first writer's salt is kept
        value = cache.get(key)
    except Exception:
        log.warning("cache unavailable for the reader salt; using a salt of this process", exc_info=True)
        value = None
    # Without a shared cache this process uses its own salt: readers may then be counted once per
    # process instead of once, which overcounts a little but never links anyone.
    salt = (value or secrets.token_hex(32)).encode()
    with _salts_lock:
        for old in [d for d in _salts if d < day]:
            del _salts[old]  # yesterday's salt is forgotten once today's exists
        _salts.setdefault(day, salt)
        return _salts[day]


def client_address(request: HttpRequest) -> str:
    # The same address the rate limits use: X-Forwarded-For only through MASTHEAD_TRUSTED_PROXIES.
    from masthead.accounts.ratelimit import client_ip

    return client_ip(request)


def reader_digest(request: HttpRequest, at: datetime | None = None) -> str:
    """The reader's digest for the day of `at` (default: now, in the site's time zone)."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        identity = f"user:{user.pk}"
    else:
        identity = f"anon:{client_address(request)}\n{request.META.get('HTTP_USER_AGENT', '')[:500]}"
    salt = daily_salt(counters.local_day(at))
    return hmac.new(salt, identity.encode(), hashlib.sha256).hexdigest()[:DIGEST_CHARS]


def record_view(request: HttpRequest, article_id: int, at: datetime | None = None) -> None:
    """Count a read of the article: one view, and the reader among the day's distinct readers."""
    counters.record("views", article_id, at=at)
    reader = reader_digest(request, at)
    counters.record_reader(article_id, reader, at=at)
    note_source(request, article_id, reader, at)


def note_source(request: HttpRequest, article_id: int, reader: str, at: datetime | None = None) -> None:
    """Tell the hot list where the read came from (a bot, or which network: see discovery.hot_score,
    which keeps neither the address nor the network); never fails the request."""
    from masthead.discovery import hot_score  # imported here: discovery builds on engagement

    try:
        hot_score.note_read(request, article_id, reader, at)
    except Exception:
        log.warning("hot list source evidence not noted", exc_info=True)
