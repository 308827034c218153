"""Health endpoints for load balancers and orchestrators.

`/healthz` says the process answers (liveness: no dependency is touched, so a database outage does
not get every app server restarted); `/readyz` says it can serve (the database, the cache and the
task backend answer), with one line per check so an operator sees which one failed.
"""

import time
import uuid

from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.tasks import default_task_backend
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        if cursor.fetchone()[0] != 1:
            raise RuntimeError("unexpected answer")


def _cache() -> None:
    key, value = f"readyz:{uuid.uuid4().hex}", uuid.uuid4().hex
    cache.set(key, value, timeout=10)
    if cache.get(key) != value:
        raise RuntimeError("a value written was not read back")
    cache.delete(key)


def _tasks() -> None:
    backend = default_task_backend
    check = getattr(backend, "check", None)
    errors = list(check()) if callable(check) else []
    if errors:
        raise RuntimeError("; ".join(str(e) for e in errors))


CHECKS = {"database": _database, "cache": _cache, "tasks": _tasks}


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    results, ready = {}, True
    for name, check in CHECKS.items():
        started = time.perf_counter()
        try:
            check()
        except Exception as error:  # any failure means "not ready"; the reason is for the operator
            ready = False
            results[name] = {"ok": False, "error": f"{type(error).__name__}: {error}"[:300]}
        else:
            results[name] = {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 2)}
    return JsonResponse({"status": "ok" if ready else "unavailable", "checks": results}, status=200 if ready else 503)
