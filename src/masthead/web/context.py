from django.conf import settings
from django.http import HttpRequest

from masthead.channels.queries import active_channels
from masthead.web.pagecache import CARE_COOKIE


def site(request: HttpRequest) -> dict:
    return {
        "SITE_NAME": settings.SITE_NAME,
        "care_edition": request.COOKIES.get(CARE_COOKIE) == "1",
        # Lazy: the navigation is a cached fragment, so a hit costs no query.
        "channels": active_channels,
    }
