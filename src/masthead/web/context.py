from django.conf import settings
from django.http import HttpRequest

from masthead.web.pagecache import CARE_COOKIE


def site(request: HttpRequest) -> dict:
    return {
        "SITE_NAME": settings.SITE_NAME,
        "care_edition": request.COOKIES.get(CARE_COOKIE) == "1",
    }
