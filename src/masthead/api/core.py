"""The NinjaAPI instance: routers, security schemes and the problem+json error handlers."""

import logging

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from masthead.api import renderers
from masthead.api.problems import Problem, problem, problem_response
from masthead.articles.drafts import DraftConflict
from masthead.engagement.comments import RateLimited

log = logging.getLogger(__name__)

DESCRIPTION = """Masthead's JSON API: everything a reader, a creator and an editor do on the site.

Reading is anonymous. Writing needs a personal access token (`Authorization: Bearer mh_…`, created
in 我的 → 访问令牌) with the right scope, or the site's own session with the `X-CSRFToken` header.
Errors are `application/problem+json` with a stable `code`. See /api/v1/docs for the guide."""

api = NinjaAPI(
    title="Masthead API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api",
    docs_url=None,  # our own page (api.docs_views): Swagger UI would need a CDN and JavaScript
    renderer=renderers.Renderer(),
)


@api.exception_handler(Problem)
def _problem(request: HttpRequest, exc: Problem) -> HttpResponse:
    return problem_response(exc)


def _field(loc) -> str:
    # ("body", "payload", "title") → "title"; ("query", "channel") → "channel"
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie", "form", "file", "payload")]
    return ".".join(parts) or str(loc[-1] if loc else "")


@api.exception_handler(NinjaValidationError)
def _invalid(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors = [
        {"field": _field(e.get("loc", ())), "message": e.get("msg", ""), "type": e.get("type", "")} for e in exc.errors
    ]
    names = ", ".join(dict.fromkeys(e["field"] for e in errors))
    return problem(400, "invalid", _("请求参数有误：%(fields)s") % {"fields": names}, errors=errors)


@api.exception_handler(DjangoValidationError)
def _refused(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    if isinstance(exc, RateLimited):
        return problem(429, "rate_limited", exc.messages[0], headers={"Retry-After": str(exc.retry_after)})
    code = None
    if hasattr(exc, "error_dict"):
        errors = [{"field": f, "message": m} for f, msgs in exc.message_dict.items() for m in msgs]
    else:
        errors = [{"field": "", "message": m} for m in exc.messages]
        code = next((e.code for e in exc.error_list if getattr(e, "code", None)), None)
    return problem(400, code or "invalid", "；".join(e["message"] for e in errors), errors=errors)


@api.exception_handler(DraftConflict)
def _conflict(request: HttpRequest, exc: DraftConflict) -> HttpResponse:
    return problem(
        409,
        "version_conflict",
        _("草稿已在别处保存（现在是第 %(v)d 版）：请先取回最新版本。") % {"v": exc.current_version},
        current_version=exc.current_version,
    )


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return problem(
        401,
        "not_authenticated",
        _("请先登录，或在 Authorization 请求头中提供访问令牌。"),
        headers={"WWW-Authenticate": 'Bearer realm="masthead"'},
    )


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return problem(403, "forbidden", str(exc) or _("你没有权限这样做。"))


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return problem(404, "not_found", _("找不到这个资源。"))


@api.exception_handler(RequestDataTooBig)
def _too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return problem(413, "too_large", _("请求内容太大。"))


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    codes = {401: "not_authenticated", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}
    if exc.status_code == 400:  # Ninja's "Cannot parse request body" and the like
        return problem(400, "bad_request", _("请求内容无法解析：请发送 UTF-8 编码的 JSON。"))
    return problem(exc.status_code, codes.get(exc.status_code, "error"), str(exc))


@api.exception_handler(Exception)
def _crash(request: HttpRequest, exc: Exception) -> HttpResponse:
    log.exception("API error on %s %s", request.method, request.path)
    return problem(500, "server_error", _("服务器出错了，我们已经记录下来。请稍后再试。"))


# Routers: one module per room of the site (see docs/api.md for what each holds).
from masthead.api import (  # noqa: E402
    articles,
    discovery,
    me,
    reader_writes,
    review,
    studio,
)

api.add_router("/", articles.router)
api.add_router("/", discovery.router)
api.add_router("/", reader_writes.router)
api.add_router("/", me.router)
api.add_router("/studio", studio.router)
api.add_router("/review", review.router)
