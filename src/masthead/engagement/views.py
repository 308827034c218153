"""Likes, favorites, follows, shares and the reader's own lists (我的).

Every toggle is a plain form POST that redirects back (no JavaScript needed); the same view answers
JSON when asked with `Accept: application/json` (reactions.js). Anonymous readers never see these
forms (their pages are cached and shared): a POST from them is sent to the login page.
"""

from urllib.parse import urlencode

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import BadRequest, PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from masthead.accounts import actions as account_actions
from masthead.accounts.models import Account
from masthead.articles.models import Article
from masthead.engagement import actions, personal
from masthead.engagement.comments import RateLimited
from masthead.web.templatetags.masthead import wan

PAGE_SIZE = 30


def wants_json(request: HttpRequest) -> bool:
    return request.get_preferred_type(["text/html", "application/json"]) == "application/json"


def _next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return default


def _to_login(request: HttpRequest, next_url: str) -> HttpResponse:
    login_url = reverse("accounts:login")
    if wants_json(request):
        login_url = f"{login_url}?{urlencode({'next': next_url})}"
        return JsonResponse({"error": _("请先登录。"), "login_url": login_url}, status=401)
    return redirect_to_login(next_url)


def _refuse(request: HttpRequest, message: str, status: int, back: str, retry_after: int = 0) -> HttpResponse:
    if wants_json(request):
        response = JsonResponse({"error": message}, status=status)
    else:
        response = render(request, "engagement/refused.html", {"message": message, "back": back}, status=status)
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


def _wanted_state(request: HttpRequest) -> bool:
    state = request.POST.get("state")
    if state not in ("on", "off"):
        raise BadRequest("state must be on or off")
    return state == "on"


def _react(request: HttpRequest, back: str, apply) -> HttpResponse:
    """The common path of like, favorite and follow: sign-in, state, rate limit, the action, answer."""
    if not request.user.is_authenticated:
        return _to_login(request, back)
    on = _wanted_state(request)
    back = _next(request, back)
    try:
        actions.count_reaction(request.user)
    except RateLimited as limited:
        return _refuse(request, limited.messages[0], 429, back, limited.retry_after)
    try:
        payload = apply(on)
    except (PermissionDenied, ValidationError) as exc:
        message = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        return _refuse(request, message or _("不能进行这项操作。"), 403, back)
    if wants_json(request):
        return JsonResponse({"state": on, **payload})
    return redirect(back)


def _article(pk: int) -> Article:
    return get_object_or_404(Article.objects.select_related("account").defer("body_html", "body_text"), pk=pk)


def _count(n: int) -> dict:
    return {"count": n, "count_text": wan(n)}


@require_POST
def like(request: HttpRequest, pk: int) -> HttpResponse:
    back = reverse("web:article", args=[pk])
    return _react(request, back, lambda on: _count(actions.set_like(request.user, _article(pk), on)))


@require_POST
def favorite(request: HttpRequest, pk: int) -> HttpResponse:
    back = reverse("web:article", args=[pk])

    def apply(on: bool) -> dict:
        actions.set_favorite(request.user, _article(pk), on)
        return {}

    return _react(request, back, apply)


@require_POST
def follow(request: HttpRequest, handle: str) -> HttpResponse:
    back = reverse("web:creator", args=[handle])

    def apply(on: bool) -> dict:
        account = get_object_or_404(Account, handle=handle)
        if on:
            account_actions.follow(request.user, account)
        else:
            account_actions.unfollow(request.user, account)
        account.refresh_from_db(fields=["follower_count"])
        return _count(account.follower_count)

    return _react(request, back, apply)


# --- shares -------------------------------------------------------------------------------------


@csrf_exempt  # sent from cached pages, which carry no CSRF token; actions.share_once checks the origin
@require_http_methods(["GET", "POST"])
@never_cache
def shared(request: HttpRequest, pk: int, via: str) -> HttpResponse:
    """A share by copying the link (POST from reactions.js) or by showing the WeChat QR code (POST
    from reactions.js, or without JavaScript a GET for the background image that the stylesheet
    gives only once the 微信扫一扫 box is open). Counted once per reader, article and day."""
    if via not in ("link", "qr") or (request.method == "GET" and via != "qr"):
        raise Http404
    item = get_object_or_404(Article.objects.only("pk", "status"), pk=pk, status=Article.Status.PUBLISHED)
    counted = actions.share_once(request, item, via)
    response = JsonResponse({"counted": counted}) if wants_json(request) else HttpResponse(status=204)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


# --- 我的: the reader's own lists ----------------------------------------------------------------

SECTIONS = {
    "follows": (gettext_lazy("我的关注"), personal.follows),
    "favorites": (gettext_lazy("我的收藏"), personal.favorites),
    "history": (gettext_lazy("阅读历史"), personal.history),
    "notifications": (gettext_lazy("通知"), personal.notifications),
}


@require_safe
@never_cache
def mine(request: HttpRequest, section: str) -> HttpResponse:
    """One of the 我的 lists in full, paginated (the 我的 page shows the newest of each)."""
    if section not in SECTIONS:
        raise Http404
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    title, query = SECTIONS[section]
    page = Paginator(query(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"section": section, "title": title, "page": page, "items": page.object_list}
    return render(request, "engagement/mine.html", context)


def _own_list(request: HttpRequest, section: str, apply) -> HttpResponse:
    back = reverse(f"engagement:mine-{section}")
    if not request.user.is_authenticated:
        return _to_login(request, back)
    changed = apply()
    if wants_json(request):
        return JsonResponse({"changed": changed})
    return redirect(_next(request, back))


@require_POST
def delete_history(request: HttpRequest, pk: int) -> HttpResponse:
    return _own_list(request, "history", lambda: actions.delete_history(request.user, pk))


@require_POST
def clear_history(request: HttpRequest) -> HttpResponse:
    return _own_list(request, "history", lambda: actions.delete_history(request.user, None))


@require_POST
def read_notification(request: HttpRequest, pk: int) -> HttpResponse:
    return _own_list(request, "notifications", lambda: actions.mark_notifications_read(request.user, pk))


@require_POST
def read_all_notifications(request: HttpRequest) -> HttpResponse:
    return _own_list(request, "notifications", lambda: actions.mark_notifications_read(request.user, None))
