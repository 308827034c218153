"""Reader-facing pages. Views parse the request, call queries, render; anonymous answers are page-cached."""

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import check_for_language
from django.views.decorators.http import require_safe

from masthead.accounts.models import Account
from masthead.articles import queries as article_queries
from masthead.articles.models import Article
from masthead.channels.models import Channel
from masthead.channels.queries import active_channels, channel_blocks
from masthead.discovery.hot import hot_articles
from masthead.discovery.related import related_articles
from masthead.engagement import actions as reactions
from masthead.engagement import comment_views, readers
from masthead.web import seo, share
from masthead.web.pagecache import CARE_COOKIE, cache_page_for_readers
from masthead.web.paging import article_page


def _common() -> dict:
    # Callables: templates resolve them only when a cached fragment misses, so a hit costs no query.
    return {"channels": active_channels, "hot": lambda: hot_articles(10)}


def _blocks():
    return channel_blocks(5)


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    latest = article_page(request, article_queries.published(), count_key="home")
    lead = latest.object_list[0] if latest.number == 1 and latest.object_list else None
    context = {**_common(), "lead": lead, "latest": latest, "blocks": _blocks, "seo": seo.home(request)}
    context["nav_current"] = "home"
    return cache_page_for_readers(render(request, "web/home.html", context), ["fronts"])


@require_safe
def channel(request: HttpRequest, slug: str) -> HttpResponse:
    current = get_object_or_404(Channel, slug=slug, is_active=True)
    articles = article_page(request, article_queries.published().filter(channel=current), count_key=f"c{current.pk}")
    context = {
        **_common(),
        "channel": current,
        "nav_current": current.slug,
        "articles": articles,
        "channel_hot": lambda: hot_articles(10, channel_id=current.pk),
        "seo": seo.channel(request, current),
    }
    return cache_page_for_readers(render(request, "web/channel.html", context), ["fronts"])


@require_safe
def creator(request: HttpRequest, handle: str) -> HttpResponse:
    account = get_object_or_404(Account, handle=handle)
    articles = article_page(request, article_queries.published().filter(account=account), count_key=f"u{account.pk}")
    context = {**_common(), "account": account, "articles": articles, "seo": seo.creator(request, account)}
    return cache_page_for_readers(render(request, "web/creator.html", context), ["fronts", f"account:{account.pk}"])


@require_safe
def article(request: HttpRequest, pk: int) -> HttpResponse:
    item = article_queries.for_page(pk)
    if item is None or item.status not in (Article.Status.PUBLISHED, Article.Status.REMOVED):
        raise Http404
    tags = ["fronts", f"article:{item.pk}", f"account:{item.account_id}"]
    if item.status == Article.Status.REMOVED:
        response = render(request, "web/article_removed.html", {**_common(), "article": item}, status=410)
        return response
    readers.record_view(request, item.pk)
    if request.user.is_authenticated:  # signed-in pages are never cached, so this runs on every read
        reactions.record_read(request.user, item)
    response = render(request, "web/article.html", article_context(request, item))
    return cache_page_for_readers(response, tags, hit=("view", str(item.pk)))


@require_safe
def share_redirect(request: HttpRequest, pk: int, target: str) -> HttpResponse:
    """Count a share, then send the reader on to the share service (a counted click, like a view).

    Counted once per reader, article and day, and not when another site started the request (see
    engagement.actions.share_once); the redirect is answered either way."""
    item = get_object_or_404(Article, pk=pk, status=Article.Status.PUBLISHED)
    if target not in share.TARGETS:
        raise Http404
    reactions.share_once(request, item, target)
    url = seo.absolute_url(request, item.get_absolute_url())
    response = HttpResponseRedirect(share.share_url(target, url, item.title, summary=item.summary))
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _safe_next(request: HttpRequest) -> str:
    target = request.GET.get("next") or "/"
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return "/"
    return target


@require_safe
def set_language(request: HttpRequest, code: str) -> HttpResponse:
    """Switch the interface language with a plain link (no JavaScript, no form) and return."""
    if not check_for_language(code) or code not in dict(settings.LANGUAGES):
        raise Http404
    response = HttpResponseRedirect(_safe_next(request))
    response.set_cookie(settings.LANGUAGE_COOKIE_NAME, code, max_age=settings.LANGUAGE_COOKIE_AGE, samesite="Lax")
    return response


@require_safe
def care_edition(request: HttpRequest, state: str) -> HttpResponse:
    """Turn the care edition (关怀版) on or off and stay on the same page."""
    response = HttpResponseRedirect(_safe_next(request))
    if state == "on":
        response.set_cookie(CARE_COOKIE, "1", max_age=365 * 24 * 3600, samesite="Lax")
    else:
        response.delete_cookie(CARE_COOKIE, samesite="Lax")
    return response


@require_safe
def accessibility(request: HttpRequest) -> HttpResponse:
    return cache_page_for_readers(render(request, "web/accessibility.html", _common()), ["fronts"])


def article_context(request: HttpRequest, item: Article) -> dict:
    """Everything the article page shows; the studio's preview renders the same (and counts no view)."""
    url = seo.absolute_url(request, item.get_absolute_url())
    return {
        **_common(),
        "article": item,
        "related": lambda: related_articles(item, 6),
        "comments": lambda: comment_views.article_block(request, item),
        "blocks": _blocks,
        "share_links": {t: share.share_url(t, url, item.title) for t in share.TARGETS},
        "qr_svg": share.qr_svg(url),
        "absolute_url": url,
        "seo": seo.article(request, item),
        "json_ld": seo.json_ld_text(seo.article_json_ld(request, item)),
    }
