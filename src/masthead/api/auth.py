"""Who is calling: a personal access token (Authorization: Bearer mh_…) or the site's own session.

The API middleware has already resolved a bearer token into `request.user` and `request.api_token`
(a bad token is refused there, never mistaken for anonymous). These classes tell Ninja, and the
OpenAPI description, which operations need a caller; `require()` checks a token's scope.
"""

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from masthead.api.problems import Problem


class BearerToken(HttpBearer):
    openapi_scheme = "bearer"

    def authenticate(self, request: HttpRequest, token: str):
        api_token = getattr(request, "api_token", None)
        return api_token.user if api_token is not None else None


class SessionCookie(APIKeyCookie):
    """The browser session of a signed-in user; unsafe methods need the CSRF token (X-CSRFToken)."""

    def __init__(self) -> None:
        self.param_name = settings.SESSION_COOKIE_NAME
        super().__init__(csrf=True)

    def _get_key(self, request: HttpRequest) -> str | None:
        if getattr(request, "api_token", None) is not None or not request.user.is_authenticated:
            return None
        if check_csrf(request) is not None:
            raise Problem(403, "csrf_failed", _("CSRF 校验失败：请带上 X-CSRFToken 请求头，或改用访问令牌。"))
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None):
        return request.user if key else None


# Operations that need a caller: `@router.post(..., auth=CALLER)`.
CALLER = [BearerToken(), SessionCookie()]


def require(request: HttpRequest, scope: str | None = None):
    """The calling user, or a 401/403 problem: anonymous, or a token without `scope`.

    A session may do whatever its user may; a token only what its scopes allow (and still only what
    its user may: the action functions check permissions as they do for the web).
    """
    user = request.user
    if not user.is_authenticated:
        raise Problem(
            401,
            "not_authenticated",
            _("请先登录，或在 Authorization 请求头中提供访问令牌。"),
            headers={"WWW-Authenticate": 'Bearer realm="masthead"'},
        )
    token = getattr(request, "api_token", None)
    if scope and token is not None and not token.has_scope(scope):
        raise Problem(403, "scope_missing", _("这个访问令牌没有“%(scope)s”权限。") % {"scope": scope}, scope=scope)
    return user
