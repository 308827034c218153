"""Structured logs and request timing.

`MASTHEAD_LOG_FORMAT=json` writes one JSON object a line (time, level, logger, message, and the
request fields below), which log shippers read without parsing rules. `RequestTimingMiddleware`
adds a `Server-Timing` header to every answer and logs each request (`MASTHEAD_LOG_REQUESTS=1`) or
only the slow ones (over `MASTHEAD_SLOW_REQUEST_MS`, always).
"""

import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from django.conf import settings
from django.http import HttpRequest, HttpResponse

log = logging.getLogger("masthead.request")
REQUEST_FIELDS = ("method", "path", "status", "ms", "cache", "user")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({field: getattr(record, field) for field in REQUEST_FIELDS if hasattr(record, field)})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class RequestTimingMiddleware:
    """Time the whole request (page-cache hits included: this runs first)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        ms = (time.perf_counter() - started) * 1000
        response["Server-Timing"] = f"app;dur={ms:.1f}"
        slow = ms >= settings.MASTHEAD_SLOW_REQUEST_MS
        if slow or settings.MASTHEAD_LOG_REQUESTS:
            user = getattr(request, "user", None)
            fields = {
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "ms": round(ms, 1),
                "cache": response.get("X-Page-Cache", ""),
                "user": "signed-in" if user is not None and user.is_authenticated else "anonymous",
            }
            level = logging.WARNING if slow else logging.INFO
            log.log(level, "%s %s %s %.1fms", request.method, request.path, response.status_code, ms, extra=fields)
        return response
