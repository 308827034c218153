"""IP属地: the region a request came from — the province in mainland China, the country elsewhere, 未知.

Only the region is kept (on the article, the comment, the creator account); the address itself is
looked up and dropped. Lookups go to a local database (accounts.geo: an offline country-level one by
default, any MaxMind-format city database when MASTHEAD_GEOIP_DATABASE names one) and are cached per
address in the process.

Region names are data, stored in Chinese as readers of the platform expect them ("广东", "美国",
"中国香港"), not UI text: the English interface shows the same stored words.
"""

import functools
import ipaddress
import logging

from django.db import transaction
from django.http import HttpRequest

from masthead.accounts import geo
from masthead.accounts.geo.china import SEPARATE
from masthead.accounts.ratelimit import client_ip
from masthead.accounts.roles import creator_account

log = logging.getLogger(__name__)

UNKNOWN = "未知"
CHINA = "CN"
CACHE_SIZE = 8192
# Codes some databases use that CLDR names but that are not a place to show (European Union, …).
NOT_COUNTRIES = frozenset({"EU", "EZ", "UN", "QO", "ZZ"})


@functools.cache
def _country_names() -> dict[str, str]:
    """ISO code → Simplified Chinese name, from Unicode CLDR (via Babel)."""
    from babel import Locale

    return dict(Locale.parse("zh_Hans_CN").territories)


def display(location: geo.Location | None) -> str:
    """The region as shown: 广东 / 中国 (mainland, province unknown) / 中国香港 / 美国 / 未知."""
    if location is None:
        return UNKNOWN
    if location.country in SEPARATE:
        return SEPARATE[location.country]
    if location.country == CHINA:
        return location.province or _country_names()[CHINA]
    if location.country in NOT_COUNTRIES:
        return UNKNOWN
    return _country_names().get(location.country) or UNKNOWN


@functools.lru_cache(maxsize=CACHE_SIZE)
def region_for_address(address: str) -> str:
    """The display region of one address (an IPv6 /64 network as client_ip gives it is fine)."""
    try:
        ip = ipaddress.ip_network(address, strict=False).network_address
    except ValueError:
        return UNKNOWN
    if not ip.is_global:  # loopback, private, link-local, shared (CGNAT), documentation, reserved
        return UNKNOWN
    try:
        location = geo.backend().locate(str(ip))
    except Exception:  # a broken database must not stop anyone from posting
        log.warning("IP region lookup failed", exc_info=True)
        return UNKNOWN
    return display(location)


def clear_cache() -> None:
    region_for_address.cache_clear()


def region_for_request(request: HttpRequest) -> str:
    """The display region of the request's client address (未知 when unknown). Never returns the address.

    The address is the one rate limits use (client_ip: honours MASTHEAD_TRUSTED_PROXIES)."""
    return region_for_address(client_ip(request))


def record_activity(user, region: str) -> None:
    """The creator page shows the region of the latest post or comment: keep the user's account at it.

    Readers without a creator account have nothing to update. Writes (and purges the account's
    cached pages) only when the region changed."""
    account = creator_account(user)
    if account is None or not region:
        return
    region = region[: account._meta.get_field("ip_region").max_length]
    if account.ip_region == region:
        return
    type(account).objects.filter(pk=account.pk).update(ip_region=region)
    account.ip_region = region
    from masthead.web import pagecache

    transaction.on_commit(lambda: pagecache.purge(f"account:{account.pk}"))


def record_post(request: HttpRequest, article) -> str:
    """Stamp an article being submitted or published with the region of the request that posts it,
    and the author's account with it too. Returns the region."""
    from masthead.articles import actions

    region = region_for_request(request)
    if article.ip_region != region:
        actions.update_article(article, ip_region=region)
    record_activity(request.user, region)
    return region
