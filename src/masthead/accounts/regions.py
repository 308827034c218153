"""IP属地: the region a request came from (province in mainland China, country elsewhere, 未知).

Stub until the lookup lands; the contract other apps code against:
"""

from django.http import HttpRequest


def region_for_request(request: HttpRequest) -> str:
    """The display region of the request's client address ('' while unknown). Never returns the address."""
    return ""
