"""WSGI app for the load benchmark's floor: the same bytes as the article page, from a minimal view.

Served by gunicorn with the same settings as masthead.wsgi (bench/load.py starts it), so it goes
through the same handler and middleware; what remains between it and our page is our own work.
The body is read once from the file named by MASTHEAD_FLOOR_BODY.
"""

import os
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "masthead.settings")

from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.http import HttpRequest, HttpResponse
from django.urls import re_path

BODY = Path(os.environ["MASTHEAD_FLOOR_BODY"]).read_bytes()


def floor_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse(BODY)


urlpatterns = [re_path(r"", floor_view)]

application = get_wsgi_application()
settings.ROOT_URLCONF = __name__  # read per request by the handler, so every URL answers the floor
