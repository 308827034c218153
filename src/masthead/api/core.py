"""The NinjaAPI instance: routers, the problem+json error handlers, a strict request parser, and an
OpenAPI description that declares the problems every operation can answer and both security schemes."""

import copy
import json
import logging
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.datastructures import MultiValueDict
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.parser import Parser

from masthead.api import renderers
from masthead.api.auth import BearerToken, SessionCookie
from masthead.api.problems import CONTENT_TYPE, Problem, ProblemOut, problem, problem_response
from masthead.articles.drafts import DraftConflict
from masthead.engagement.comments import RateLimited

log = logging.getLogger(__name__)

DESCRIPTION = """Masthead's JSON API: everything a reader, a creator and an editor do on the site.

Reading is anonymous. Writing needs a personal access token (`Authorization: Bearer mh_…`, created
in 我的 → 访问令牌) with the right scope, or the site's own session with the `X-CSRFToken` header.
Errors are `application/problem+json` with a stable `code`. See /api/v1/docs for the guide."""


INT_RANGE = range(-(2**63), 2**63)  # what a database integer column (bigint) holds


def refuse_unstorable(data: Any) -> None:
    """A Problem (400) when `data` holds a string with NUL or a lone surrogate, or an integer no column holds.

    None of them can be stored (PostgreSQL refuses NUL in text; UTF-8 cannot encode a lone surrogate,
    which JSON's \\ud800 escapes produce; SQLite and PostgreSQL overflow past 64 bits), so refusing them here
    keeps a view that forgot a bound from failing with 500.
    """
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, int) and not isinstance(item, bool) and item not in INT_RANGE:
            raise Problem(400, "invalid_number", _("请求中的数字超出了允许的范围。"))
        if isinstance(item, str):
            if "\x00" in item:
                raise Problem(400, "invalid_characters", _("请求中含有不允许的字符（NUL）。"))
            try:
                item.encode()
            except UnicodeEncodeError:
                raise Problem(400, "invalid_characters", _("请求中含有无法编码的字符。")) from None
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


class StrictParser(Parser):
    """JSON bodies as strict UTF-8 and query/form values, refused (400) when they hold unstorable text."""

    def parse_body(self, request: HttpRequest) -> Any:
        kind = request.content_type  # None for the parts of a multipart body Ninja parses one by one
        if kind is not None and kind != "application/json" and not kind.endswith("+json"):
            raise Problem(415, "unsupported_media_type", _("请求内容应为 JSON（Content-Type: application/json）。"))
        try:
            text = request.body.decode()
        except UnicodeDecodeError:
            raise Problem(400, "bad_encoding", _("请求内容不是有效的 UTF-8 文本。")) from None
        # Any error becomes Ninja's HttpError(400), answered by _http_error; NaN and Infinity are no JSON.
        data = json.loads(text, parse_constant=_no_constant)
        refuse_unstorable(data)
        return data

    def parse_querydict(self, data: MultiValueDict, list_fields: list[str], request: HttpRequest) -> dict:
        result = super().parse_querydict(data, list_fields, request)
        refuse_unstorable([*result, *(v for v in result.values() if isinstance(v, str | list))])
        return result


# Error answers any operation may give, added to the description of every operation that does not
# declare them itself, so a client (and Schemathesis) knows every status it can meet.
_COMMON_RESPONSES = {
    400: "The request is malformed: a parameter or the body is invalid (`errors` names the fields).",
    401: "No valid credentials: a bad or revoked token, or none where the operation needs a caller.",
    403: "The token lacks the scope, or the caller the permission, this operation needs.",
    404: "No such resource (or not visible to this caller).",
    409: "A request with the same Idempotency-Key is still being processed.",
    413: "The request body is too large.",
    415: "The body is not sent as application/json.",
    422: "The Idempotency-Key was already used for a different request.",
    429: "Too many requests: wait for Retry-After seconds.",
}
_PROBLEM_REF = {"$ref": "#/components/schemas/ProblemOut"}
_IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Repeat a POST safely: the first answer is stored for 24 hours and replayed for a repeat "
    "with the same key (marked `Idempotent-Replayed: true`). Keys are per user.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
}
_METHODS = ("get", "put", "post", "delete", "patch")


class MastheadAPI(NinjaAPI):
    """NinjaAPI whose OpenAPI description lists the problem answers and the security schemes."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._spec_cache: dict[tuple[str, str | None], dict] = {}

    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: dict | None = None):
        if path_prefix is None:
            path_prefix = self.get_root_path(path_params or {})
        key = (path_prefix, get_language())  # descriptions may be translated
        if key not in self._spec_cache:
            schema = super().get_openapi_schema(path_prefix=path_prefix)
            _describe_problems(schema)
            self._spec_cache[key] = schema
        return copy.deepcopy(self._spec_cache[key])


def _describe_problems(schema: dict) -> None:
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    problem_schema = ProblemOut.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(problem_schema.pop("$defs", {}))
    schemas["ProblemOut"] = problem_schema
    components["securitySchemes"] = {
        **components.get("securitySchemes", {}),
        "BearerToken": BearerToken().openapi_security_schema,
        "SessionCookie": SessionCookie().openapi_security_schema,
    }
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            if method in _METHODS:
                _complete(operation, method, has_path_params="{" in path)


def _complete(operation: dict, method: str, *, has_path_params: bool) -> None:
    responses = operation.setdefault("responses", {})
    for answer in responses.values():  # declared problems are served as problem+json
        content = answer.get("content", {})
        if content.get("application/json", {}).get("schema") == _PROBLEM_REF:
            answer["content"] = {CONTENT_TYPE: content.pop("application/json")}
    secured = bool(operation.get("security"))
    idempotent = method == "post" and secured
    if idempotent and not any(p.get("name") == "Idempotency-Key" for p in operation.get("parameters", [])):
        operation.setdefault("parameters", []).append(dict(_IDEMPOTENCY_KEY))
    has_input = bool(operation.get("parameters")) or "requestBody" in operation
    wanted = {
        400: has_input,
        401: True,  # a bad token is refused on every path
        403: secured,
        404: has_path_params,
        409: idempotent,
        413: "requestBody" in operation,
        415: "application/json" in operation.get("requestBody", {}).get("content", {}),
        422: idempotent,
        429: True,
    }
    for status, applies in wanted.items():
        if applies and str(status) not in responses and status not in responses:
            responses[status] = {
                "description": _COMMON_RESPONSES[status],
                "content": {CONTENT_TYPE: {"schema": _PROBLEM_REF}},
            }


api = MastheadAPI(
    title="Masthead API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api",
    docs_url=None,  # our own page (api.docs_views): Swagger UI would need a CDN and JavaScript
    renderer=renderers.Renderer(),
    parser=StrictParser(),
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


@api.exception_handler(SuspiciousOperation)
def _suspicious(request: HttpRequest, exc: SuspiciousOperation) -> HttpResponse:
    # e.g. more query or form fields than DATA_UPLOAD_MAX_NUMBER_FIELDS: Django answers these with 400 too.
    return problem(400, "bad_request", _("请求无效。"))


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    codes = {401: "not_authenticated", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}
    if isinstance(exc.__cause__, Problem):  # raised by StrictParser inside Ninja's body parsing
        return problem_response(exc.__cause__)
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


def _one_url_per_path() -> None:
    """Routers mounted at the same prefix may share a path (GET /articles/{article_id}/comments in
    discovery, POST to it in reader_writes). Ninja makes a URL pattern per router and Django stops at
    the first, which answers 405 for the other's methods: give each path's operations to the view of
    the first router that declares it (same path string, so the same parameter names)."""
    first: dict[str, Any] = {}
    for bound in api._get_bound_routers():
        for path, view in list(bound.path_operations.items()):
            key = f"{bound.prefix}/{path}".replace("//", "/")
            if key in first:
                first[key].operations.extend(view.operations)
                del bound.path_operations[path]
            else:
                first[key] = view


_one_url_per_path()  # after the last add_router: Ninja refuses routers added once URLs are built
