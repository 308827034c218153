"""The creator's statistics pages, CSV exports, and the read-completion beacon of the article page."""

from urllib.parse import parse_qs

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe

from masthead.accounts.roles import creator_account, creator_required
from masthead.articles.models import Article
from masthead.engagement import counters, readers
from masthead.studio import stats

PAGE_SIZE = 50
# The beacon: "a=<article id>&d=<depth>", a few dozen bytes; anything larger is not ours.
BEACON_MAX_BYTES = 64
BEACON_TYPES = ("application/x-www-form-urlencoded", "text/plain")
# Per reader (daily digest): at most this many reports per window; one page view sends at most one.
BEACON_LIMIT = 30
BEACON_WINDOW_SECONDS = 600


def _charts(series: list[stats.Day], with_followers: bool) -> list[stats.Chart]:
    first, last = series[0].day, series[-1].day
    span = _("{first} 至 {last}").format(first=first.isoformat(), last=last.isoformat())
    charts = [
        stats.chart("views", _("每日阅读"), _("近30天每天的阅读次数，") + span, [(d.day, d.views) for d in series]),
        stats.chart(
            "readers",
            _("每日独立读者"),
            _("近30天每天的独立读者人数（同一读者一天内只计一次），") + span,
            [(d.day, d.readers) for d in series],
        ),
    ]
    if with_followers:
        charts.append(
            stats.chart(
                "followers",
                _("每日新增粉丝"),
                _("近30天每天新增的关注人数，") + span,
                [(d.day, d.followers) for d in series],
            )
        )
    return charts


@require_safe
@never_cache
@creator_required
def dashboard(request: HttpRequest) -> HttpResponse:
    account = creator_account(request.user)
    series = stats.daily(stats.window(), account=account)
    stats.add_followers(series, account)
    page = Paginator(stats.article_table(account), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "account": account,
        "totals": stats.account_totals(account),
        "rows": stats.with_completion(page.object_list),
        "page": page,
        "series": series,
        "new_followers": sum(d.followers for d in series),
        "charts": _charts(series, with_followers=True),
    }
    return render(request, "studio/stats/dashboard.html", context)


def _own_article(request: HttpRequest, pk: int) -> Article:
    # Someone else's article is "not found", not "forbidden": its existence is not the creator's business.
    return get_object_or_404(Article, pk=pk, account=creator_account(request.user))


@require_safe
@never_cache
@creator_required
def article(request: HttpRequest, pk: int) -> HttpResponse:
    item = _own_article(request, pk)
    series = stats.daily(stats.window(), article=item)
    context = {
        "article": item,
        "totals": stats.article_totals(item),
        "series": series,
        "charts": _charts(series, with_followers=False),
    }
    return render(request, "studio/stats/article.html", context)


def _stamp() -> str:
    return timezone.localdate().isoformat()


def _local(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def _percent(value: int | None) -> str:
    return "" if value is None else f"{value}%"


@require_safe
@creator_required
def export_account(request: HttpRequest) -> HttpResponse:
    account = creator_account(request.user)
    header = [
        _("文章ID"), _("标题"), _("状态"), _("发布时间"), _("阅读"), _("独立读者（按日去重）"),
        _("平均阅读完成度"), _("点赞"), _("分享"), _("跟帖"),
    ]  # fmt: skip
    status = dict(Article.Status.choices)
    rows = (
        [
            r["id"],
            r["title"],
            status.get(r["status"], r["status"]),
            _local(r["published_at"]),
            r["view_count"],
            r["readers"],
            _percent(r["completion"]),
            r["like_count"],
            r["share_count"],
            r["comment_count"],
        ]
        for r in stats.with_completion(stats.article_table(account))
    )
    return stats.csv_response(f"masthead-stats-{account.handle}-{_stamp()}.csv", header, rows)


@require_safe
@creator_required
def export_article(request: HttpRequest, pk: int) -> HttpResponse:
    item = _own_article(request, pk)
    series = stats.daily(stats.window(), article=item)
    header = [_("日期"), _("阅读"), _("独立读者"), _("平均阅读完成度"), _("阅读完成度上报数"), _("分享")]
    rows = ([d.day.isoformat(), d.views, d.readers, _percent(d.completion), d.depth_count, d.shares] for d in series)
    return stats.csv_response(f"masthead-article-{item.pk}-{_stamp()}.csv", header, rows)


# --- the beacon ---------------------------------------------------------------------------------


def _same_origin(request: HttpRequest) -> bool:
    """Browsers say where a request comes from (Sec-Fetch-Site, Origin); only this site's pages may
    report. CSRF tokens cannot be used: the article page is cached and shared by every reader."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None and fetch_site != "same-origin":
        return False
    origin = request.headers.get("Origin")
    if origin is not None and origin != f"{request.scheme}://{request.get_host()}":
        return origin in settings.CSRF_TRUSTED_ORIGINS
    return fetch_site is not None or origin is not None


def _parse(body: bytes) -> tuple[int, int] | None:
    try:
        fields = parse_qs(body.decode("ascii"), strict_parsing=True, max_num_fields=4)
        (article_id,), (depth,) = fields.pop("a"), fields.pop("d")
        article_id, depth = int(article_id), int(depth)
    except (UnicodeDecodeError, ValueError, KeyError):
        return None
    if fields or article_id <= 0 or not 0 <= depth <= 100 or depth % 10:
        return None
    return article_id, depth


def _within_limit(reader: str) -> bool:
    key = f"masthead:beacon:{reader}:{int(timezone.now().timestamp()) // BEACON_WINDOW_SECONDS}"
    try:
        cache.add(key, 0, BEACON_WINDOW_SECONDS)
        return cache.incr(key) <= BEACON_LIMIT
    except Exception:
        return True  # a cache outage must not lose readers' reports


@csrf_exempt
@require_POST
def beacon(request: HttpRequest) -> HttpResponse:
    """How far a reader got through an article ("a=<id>&d=<0..100 in tens>"), sent once per page view
    by web/static/web/read.js. Buffered with the counters: no database write per report."""
    if not _same_origin(request):
        return HttpResponse(status=403)
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return HttpResponse(status=400)
    if length > BEACON_MAX_BYTES:
        return HttpResponse(status=413)
    if length == 0:
        return HttpResponse(status=400)
    if request.content_type not in BEACON_TYPES:
        return HttpResponse(status=415)
    body = request.read(BEACON_MAX_BYTES + 1)
    if len(body) > BEACON_MAX_BYTES:
        return HttpResponse(status=413)
    parsed = _parse(body)
    if parsed is None:
        return HttpResponse(status=400)
    if not _within_limit(readers.reader_digest(request)):
        return HttpResponse(status=429)
    article_id, depth = parsed
    counters.record_completion(article_id, depth)  # unknown or deleted articles are dropped by the flush
    return HttpResponse(status=204)
