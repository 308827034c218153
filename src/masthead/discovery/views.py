"""The 推荐 feed, its controls (不感兴趣, the personalization switch, interest tags) and the page that
explains recommendation. Every control is a plain form (POST, then redirect); with the header
`Accept: application/json` the same views answer JSON for the small script on the feed page."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from masthead.accounts import ratelimit
from masthead.articles.models import Article
from masthead.discovery import feed as feeds
from masthead.discovery import interests as interest_tags
from masthead.discovery.hot import hot_articles
from masthead.web.pagecache import cache_page_for_readers

# 不感兴趣 and switches per reader: plenty for a person, a wall for a script.
CONTROL_LIMIT = ("feed-control", 120, 600)


def _wants_json(request: HttpRequest) -> bool:
    return request.get_preferred_type(["text/html", "application/json"]) == "application/json"


def _back(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return default


def _limited(request: HttpRequest) -> HttpResponse | None:
    limit, window = ratelimit.configured(*CONTROL_LIMIT)
    state = ratelimit.hit(CONTROL_LIMIT[0], str(request.user.pk), limit, window)
    if state.allowed:
        return None
    message = _("操作太频繁，请稍后再试。")
    if _wants_json(request):
        response = JsonResponse({"error": message}, status=429)
    else:
        response = HttpResponse(message, status=429, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(state.retry_after)
    return response


def _common() -> dict:
    from masthead.channels.queries import active_channels

    return {"channels": active_channels, "hot": lambda: hot_articles(10), "nav_current": "feed"}


@require_safe
def feed(request: HttpRequest) -> HttpResponse:
    """推荐: personal for a signed-in reader with personalization on; anonymous readers get the
    default with an explanation (and the page is cached for them)."""
    user = request.user
    if not user.is_authenticated:
        context = {**_common(), "items": feeds.default_feed(), "personalized": False}
        return cache_page_for_readers(render(request, "discovery/feed.html", context), ["fronts"])
    personalized = interest_tags.is_personalized(user)
    if personalized:
        interest_tags.refresh_if_stale(user)
    context = {**_common(), "items": feeds.feed_for(user), "personalized": personalized}
    return render(request, "discovery/feed.html", context)


@require_POST
@login_required
def dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    """不感兴趣: the article leaves the feed at once."""
    if refused := _limited(request):
        return refused
    article = get_object_or_404(Article, pk=pk)
    feeds.dismiss(request.user, article)
    if _wants_json(request):
        return JsonResponse({"dismissed": article.pk, "message": _("已减少此类推荐")})
    return redirect(_back(request, "discovery:feed"))


@require_POST
@login_required
def personalization(request: HttpRequest) -> HttpResponse:
    """The one-click switch: state=on|off."""
    if refused := _limited(request):
        return refused
    on = request.POST.get("state") == "on"
    interest_tags.set_personalized(request.user, on)
    if _wants_json(request):
        return JsonResponse({"personalized": on})
    return redirect(_back(request, "discovery:feed"))


@require_safe
@login_required
def interests(request: HttpRequest) -> HttpResponse:
    """The interest tags inferred about the reader, each deletable."""
    personalized = interest_tags.is_personalized(request.user)
    if personalized:
        interest_tags.refresh_if_stale(request.user)
    context = {
        **_common(),
        "interests": interest_tags.visible_interests(request.user),
        "personalized": personalized,
    }
    return render(request, "discovery/interests.html", context)


@require_POST
@login_required
def delete_interest(request: HttpRequest) -> HttpResponse:
    if refused := _limited(request):
        return refused
    term = (request.POST.get("term") or "").strip()
    if term:
        interest_tags.delete_interest(request.user, term)
    if _wants_json(request):
        return JsonResponse({"deleted": term})
    return redirect(_back(request, "discovery:interests"))


@require_safe
def how_it_works(request: HttpRequest) -> HttpResponse:
    return cache_page_for_readers(render(request, "discovery/how.html", _common()), ["fronts"])
