"""What every /api/ request goes through before and after its view.

- A bearer token is resolved into `request.user` (a bad or revoked one is refused with 401 at once).
- Rate limits: per token, else per address (accounts.ratelimit: Redis when configured, fail-open).
- JSON bodies over MASTHEAD_API_MAX_BODY_BYTES are refused with 413 before anything reads them.
- POST with an Idempotency-Key: the first answer is stored and replayed for repeats.
- Successful reads get an ETag, Cache-Control and Vary, and conditional requests a 304.
"""

import hashlib
import re
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.http import parse_http_date_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from masthead.accounts import ratelimit
from masthead.api import tokens
from masthead.api.models import IdempotentRequest
from masthead.api.problems import problem

PREFIX = "/api/"
KEY_PATTERN = re.compile(r"[!-~]{1,255}")  # visible ASCII, as the OpenAPI description declares it
# Answers worth replaying: a success or a refusal of the request itself. Not kept: 5xx (try again),
# and refusals that depend on the moment or the caller (auth, rate limit, a conflict).
NOT_REPLAYED = {401, 403, 408, 409, 423, 425, 429}
KEEP_KEYS = timedelta(hours=24)
JSON_TYPES = ("application/json", "application/problem+json")
PLAIN_ERRORS = {
    400: ("bad_request", gettext_lazy("请求无效。")),
    403: ("forbidden", gettext_lazy("你没有权限这样做。")),
    404: ("not_found", gettext_lazy("找不到这个资源。")),
    405: ("method_not_allowed", gettext_lazy("不支持这个请求方法。")),
    500: ("server_error", gettext_lazy("服务器出错了，我们已经记录下来。请稍后再试。")),
}


def _bearer(request: HttpRequest) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _sep, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None


def _unauthorized(detail: str) -> HttpResponse:
    return problem(401, "token_invalid", detail, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})


class ApiMiddleware:
    """Sits after AuthenticationMiddleware; does nothing outside /api/."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(PREFIX):
            return self.get_response(request)
        request.api_token = None
        if "\x00" in request.path:  # a NUL in a path parameter would reach the database
            return problem(400, "invalid_characters", _("请求中含有不允许的字符（NUL）。"))
        if "Authorization" in request.headers:
            raw = _bearer(request)
            token = tokens.authenticate(raw) if raw is not None else None
            if token is None:
                # Counted against the address: guessing tokens costs the same budget as anonymous calls.
                return self._limited(request) or _unauthorized(
                    _("Authorization 请求头应为“Bearer <访问令牌>”。") if raw is None else _("访问令牌无效或已被撤销。")
                )
            request.api_token, request.user = token, token.user
            request._dont_enforce_csrf_checks = True  # no cookie is involved: CSRF cannot apply
        if refused := self._limited(request) or self._too_large(request):
            return refused
        if request.method == "POST" and "Idempotency-Key" in request.headers and request.user.is_authenticated:
            return self._idempotent(request)
        if request.method == "HEAD":
            # HEAD is GET without the body (RFC 9110); Ninja routes only the methods an operation names.
            request.method = "GET"
            response = self._finish(request, self.get_response(request))
            request.method = "HEAD"
            if not response.streaming:
                response["Content-Length"] = str(len(response.content))
                response.content = b""
            return response
        return self._finish(request, self.get_response(request))

    @staticmethod
    def _limited(request: HttpRequest) -> HttpResponse | None:
        if request.api_token is not None:
            scope, key, default = "api-token", str(request.api_token.pk), settings.MASTHEAD_API_TOKEN_RATE
        else:
            scope, key, default = "api-ip", ratelimit.client_ip(request), settings.MASTHEAD_API_IP_RATE
        limit, window = ratelimit.configured(scope, *default)
        result = ratelimit.hit(scope, key, limit, window)
        if result.allowed:
            return None
        return problem(
            429,
            "rate_limited",
            _("请求太频繁，请 %(wait)s后再试。") % {"wait": ratelimit.describe_wait(result.retry_after)},
            headers={"Retry-After": str(result.retry_after)},
        )

    @staticmethod
    def _too_large(request: HttpRequest) -> HttpResponse | None:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return problem(400, "bad_request", _("Content-Length 请求头无效。"))
        multipart = request.content_type == "multipart/form-data"
        limit = settings.MASTHEAD_MAX_UPLOAD_BYTES + 64 * 1024 if multipart else settings.MASTHEAD_API_MAX_BODY_BYTES
        if length > limit:
            return problem(
                413,
                "too_large",
                _("请求内容太大：最多 %(n)d KB。") % {"n": limit // 1024},
                max_bytes=limit,
            )
        return None

    def _idempotent(self, request: HttpRequest) -> HttpResponse:
        key = request.headers["Idempotency-Key"]
        if not KEY_PATTERN.fullmatch(key):
            return problem(
                400, "invalid_idempotency_key", _("Idempotency-Key 应为 1–255 个可见 ASCII 字符（不含空格）。")
            )
        try:
            body = hashlib.sha256(request.body).hexdigest()
        except RequestDataTooBig:
            return problem(413, "too_large", _("请求内容太大。"))
        fingerprint = hashlib.sha256(f"{request.method}\0{request.get_full_path()}\0{body}".encode()).hexdigest()
        principal = f"u{request.user.pk}"
        IdempotentRequest.objects.filter(created_at__lt=timezone.now() - KEEP_KEYS).delete()
        try:
            with transaction.atomic():
                record = IdempotentRequest.objects.create(principal=principal, key=key, fingerprint=fingerprint)
        except IntegrityError:
            first = IdempotentRequest.objects.filter(principal=principal, key=key).first()
            if first is None:  # expired between the insert and the read: treat as new next time
                return problem(409, "idempotency_in_progress", _("相同 Idempotency-Key 的请求正在处理，请稍后重试。"))
            return self._replay(first, fingerprint)
        try:
            response = self._finish(request, self.get_response(request))
        except BaseException:
            record.delete()
            raise
        if response.status_code >= 500 or response.status_code in NOT_REPLAYED or response.streaming:
            record.delete()  # the client may try again with the same key
        else:
            record.status, record.content_type, record.body = (
                response.status_code,
                response.get("Content-Type", ""),
                response.content,
            )
            record.save(update_fields=["status", "content_type", "body"])
        return response

    @staticmethod
    def _replay(first: IdempotentRequest, fingerprint: str) -> HttpResponse:
        if first.fingerprint != fingerprint:
            return problem(
                422,
                "idempotency_key_reused",
                _("这个 Idempotency-Key 已用于另一个请求。"),
            )
        if first.status == 0:
            return problem(
                409,
                "idempotency_in_progress",
                _("相同 Idempotency-Key 的请求正在处理，请稍后重试。"),
                headers={"Retry-After": "1"},
            )
        response = HttpResponse(bytes(first.body), status=first.status, content_type=first.content_type or None)
        response["Idempotent-Replayed"] = "true"
        return response

    @staticmethod
    def _finish(request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if response.status_code >= 400 and not response.get("Content-Type", "").startswith(JSON_TYPES):
            # Django's own answers (no such URL, wrong method, a crash outside the view) in the API's shape.
            code, detail = PLAIN_ERRORS.get(response.status_code, ("error", _("请求失败。")))
            replaced = problem(response.status_code, code, str(detail))
            if response.has_header("Allow"):
                replaced["Allow"] = response["Allow"]
            response = replaced
        patch_vary_headers(response, ("Accept-Language", "Cookie", "Authorization"))
        if request.method not in ("GET", "HEAD") or response.status_code != 200 or response.streaming:
            response.setdefault("Cache-Control", "no-store")
            return response
        public = getattr(response, "page_cache_tags", None) is not None and not request.user.is_authenticated
        response.setdefault("Cache-Control", "max-age=0, must-revalidate" if public else "private, no-cache")
        if not response.has_header("ETag"):
            response["ETag"] = f'"{hashlib.md5(response.content, usedforsecurity=False).hexdigest()}"'
        modified = parse_http_date_safe(response.get("Last-Modified", ""))
        return get_conditional_response(request, etag=response["ETag"], last_modified=modified, response=response)
