"""The error page for a database that cannot be reached (handler500 in masthead/urls.py).

While PostgreSQL restarts (or SQLite stays locked), every page needing the database fails. Those
answers say so: 503 with Retry-After, which load balancers, crawlers and browsers treat as
temporary, and a short page in the reader's language that needs neither the database nor a template.
Every other error keeps Django's 500 page.
"""

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.defaults import server_error as django_server_error

RETRY_AFTER_SECONDS = 5


def server_error(request: HttpRequest) -> HttpResponse:
    error = sys.exc_info()[1]  # Django calls the handler inside its `except` block
    if not isinstance(error, OperationalError | InterfaceError):
        return django_server_error(request)
    title = _("服务暂时不可用")
    page = format_html(
        '<!doctype html><html lang="{}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1"><title>{}</title></head>'
        "<body><h1>{}</h1><p>{}</p></body></html>",
        get_language() or "zh-hans",
        title,
        title,
        _("网站正在恢复，请稍后刷新重试。"),
    )
    response = HttpResponse(page, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response
