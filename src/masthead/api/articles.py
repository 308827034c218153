"""Reading: published articles, channels and creator accounts, as the pages show them.

Every operation here is anonymous and, for anonymous callers, page-cached with the same tags as the
HTML page that shows the same rows (web/pagecache.py), so a publish, an edit or a takedown purges
both. Lists are newest first with keyset cursors: stable while new articles arrive, and as fast on
the thousandth page as on the first.

Unknown channels and accounts are 404 problems (`channel_not_found`, `account_not_found`), not empty
lists, so a client notices a typo; an unknown tag is an empty list (tags come and go with articles).
"""

import base64
import binascii
import re
from datetime import UTC, datetime, timedelta
from typing import Annotated

from django.db.models import Q, QuerySet, prefetch_related_objects
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import http_date
from django.utils.translation import gettext as _
from ninja import Path, Query, Router

from masthead.accounts.models import Account
from masthead.api.problems import Problem, ProblemOut
from masthead.api.schemas import (
    AccountProfile,
    ArticleDetail,
    ArticleList,
    ChannelList,
    ChannelPage,
    absolute,
    account_card,
    article_detail,
    article_summary,
    channel_out,
)
from masthead.articles import queries as article_queries
from masthead.articles.models import Article
from masthead.channels.models import Channel
from masthead.channels.queries import active_channels, channel_blocks
from masthead.engagement import actions as reactions
from masthead.engagement import readers
from masthead.web.pagecache import cache_page_for_readers

router = Router()

MAX_ID = 2**63 - 1  # the largest key SQLite and PostgreSQL (bigint) hold: bigger numbers are refused with 400
PAGE_SIZE = 20
MAX_PAGE_SIZE = 50
TOP_STORIES = 5  # per channel on /channels, as the channel blocks of the pages
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CURSOR_RE = re.compile(r"(-?\d{1,17})\.(\d{1,19})")

# Slugs, handles and tags are not checked for shape: anything that is not one is simply unknown (404 or
# an empty list). NUL, the one character no database takes, is refused by api.middleware and api.core.
SLUG = r"^[-a-zA-Z0-9_]+$"  # the shape of channel slugs and account handles (imported by api.discovery)
Slug = Annotated[str, Path(max_length=40, description="频道的网址标识，如 tech")]
Handle = Annotated[str, Path(max_length=40, description="创作者账号标识")]
Cursor = Annotated[str | None, Query(max_length=64, description="上一页答复里的 next_cursor；不传则从最新的开始")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="每页篇数")]
# ISO 8601 as Python reads it: a date, or a date and time, with or without an offset (none: Beijing time).
# Declared as a pattern, not as RFC 3339 `date-time`, which would refuse dates and times without offset.
ISO_MOMENT = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"(?:[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?)?(?:Z|[+-][0-9]{2}:?[0-9]{2})?$"
)
Moment = Annotated[
    str | None,
    Query(max_length=40, pattern=ISO_MOMENT, description="ISO 8601，如 2025-01-31T08:00:00+08:00；不带时区按北京时间"),
]


def _invalid(field: str, message: str) -> Problem:
    """The same answer as any other invalid parameter (api.core): code `invalid`, the field named."""
    return Problem(
        400,
        "invalid",
        _("请求参数有误：%(fields)s") % {"fields": field},
        errors=[{"field": field, "message": message, "type": "value_error"}],
    )


# --- cursors -------------------------------------------------------------------------------------
# A cursor is the (published_at, id) of the last item given, base64url-encoded: opaque to clients,
# exact to the microsecond, and the id breaks ties between articles published at the same moment.


def encode_cursor(article: Article) -> str:
    micros = (article.published_at - _EPOCH) // timedelta(microseconds=1)
    return base64.urlsafe_b64encode(f"{micros}.{article.pk}".encode()).rstrip(b"=").decode()


def decode_cursor(raw: str) -> tuple[datetime, int]:
    """(published_at, id) from a cursor, or a 400 problem naming `cursor`."""
    try:
        match = _CURSOR_RE.fullmatch(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode("ascii"))
        if match is None or not 1 <= int(match[2]) <= MAX_ID:
            raise ValueError(raw)
        return _EPOCH + timedelta(microseconds=int(match[1])), int(match[2])
    except (ValueError, OverflowError, binascii.Error, UnicodeDecodeError):
        raise _invalid("cursor", _("分页游标无效：请原样传回上一页答复中的 next_cursor。")) from None


def _moment(field: str, raw: str | None) -> datetime | None:
    """An aware datetime (a time without offset is Asia/Shanghai time) that the databases can hold."""
    if raw is None:
        return None
    try:
        value = datetime.fromisoformat(raw)
        if timezone.is_naive(value):
            value = timezone.make_aware(value)
        value.astimezone(UTC)  # year 1 at +08:00 is year 0 in UTC: no database takes it
    except (OverflowError, ValueError):
        raise _invalid(field, _("时间无效：请使用 ISO 8601 格式，如 2025-01-31T08:00:00+08:00。")) from None
    return value


def article_page(request: HttpRequest, qs: QuerySet[Article], cursor: str | None, limit: int) -> dict:
    """One page of published articles in `qs`, newest first, in one query whatever the page."""
    qs = article_queries.for_listing(qs.filter(published_at__isnull=False)).order_by("-published_at", "-id")
    if cursor:
        at, pk = decode_cursor(cursor)
        # The first condition lets the (status, published_at) index bound the scan; the second breaks ties.
        qs = qs.filter(published_at__lte=at).filter(Q(published_at__lt=at) | Q(pk__lt=pk))
    rows = list(qs[: limit + 1])
    more, rows = len(rows) > limit, rows[:limit]
    return {
        "items": [article_summary(request, a) for a in rows],
        "next_cursor": encode_cursor(rows[-1]) if more else None,
    }


def _channel(slug: str) -> Channel:
    # The navigation's cached list of active channels: no query when warm; an inactive channel is unknown.
    found = next((c for c in active_channels() if c.slug == slug), None)
    if found is None:
        raise Problem(404, "channel_not_found", _("没有这个频道：%(slug)s") % {"slug": slug}, slug=slug)
    return found


def _account(handle: str) -> Account:
    found = Account.objects.filter(handle=handle).first()
    if found is None:
        raise Problem(404, "account_not_found", _("没有这个创作者账号：%(handle)s") % {"handle": handle}, handle=handle)
    return found


# --- articles ------------------------------------------------------------------------------------


@router.get("/articles", response={200: ArticleList, 404: ProblemOut}, tags=["articles"], summary="最新文章")
def list_articles(
    request: HttpRequest,
    response: HttpResponse,
    channel: Annotated[str | None, Query(max_length=40, description="只看这个频道（网址标识）")] = None,
    account: Annotated[str | None, Query(max_length=40, description="只看这个创作者账号（账号标识）")] = None,
    tag: Annotated[str | None, Query(max_length=20, description="只看带这个标签的文章")] = None,
    since: Moment = None,
    until: Moment = None,
    cursor: Cursor = None,
    limit: Limit = PAGE_SIZE,
):
    """Published articles, newest first, with optional filters (all must match).

    `since` (inclusive) and `until` (exclusive) bound the publication time. An unknown channel or
    account is a 404 problem (`channel_not_found` / `account_not_found`); an unknown tag gives an
    empty list."""
    qs = article_queries.published()
    tags = ["fronts"]
    if channel is not None:
        qs = qs.filter(channel=_channel(channel))
    if account is not None:
        found = _account(account)
        qs = qs.filter(account=found)
        tags.append(f"account:{found.pk}")
    if tag is not None:
        qs = qs.filter(tags__name=tag)  # names are unique: the join cannot repeat an article
    if (start := _moment("since", since)) is not None:
        qs = qs.filter(published_at__gte=start)
    if (end := _moment("until", until)) is not None:
        qs = qs.filter(published_at__lt=end)
    cache_page_for_readers(response, tags)
    return article_page(request, qs, cursor, limit)


@router.get("/articles/{id}", response={200: ArticleDetail, 410: ProblemOut}, tags=["articles"], summary="文章正文")
def get_article(
    request: HttpRequest, response: HttpResponse, id: Annotated[int, Path(ge=1, le=MAX_ID, description="文章编号")]
):
    """Everything the article page shows. Counts a read, as opening the page does.

    A removed article is a 410 problem (`removed`) with the editors' `reason`; drafts, articles in
    review, scheduled, rejected and unknown ones are 404."""
    item = article_queries.for_page(id)
    if item is None or item.status not in (Article.Status.PUBLISHED, Article.Status.REMOVED):
        raise Http404
    if item.status == Article.Status.REMOVED:
        raise Problem(410, "removed", _("该文章已被下架"), reason=item.removal_reason)
    prefetch_related_objects([item], "images")
    # A client that shows the article is a reader, as on the page: one view per read, and the reading
    # history of a signed-in caller. A page-cache hit counts through the hit hook (engagement.apps).
    readers.record_view(request, item.pk)
    if request.user.is_authenticated:
        reactions.record_read(request.user, item)
    changed = max(item.updated_at, item.account.updated_at, item.channel.updated_at)
    response["Last-Modified"] = http_date(changed.timestamp())
    cache_page_for_readers(
        response, ["fronts", f"article:{item.pk}", f"account:{item.account_id}"], hit=("view", str(item.pk))
    )
    return article_detail(request, item)


# --- channels ------------------------------------------------------------------------------------


@router.get("/channels", response=ChannelList, tags=["channels"], summary="频道及其头条")
def list_channels(request: HttpRequest, response: HttpResponse):
    """Active channels in navigation order, each with its newest stories (as the channel blocks show)."""
    cache_page_for_readers(response, ["fronts"])
    items = [
        {**channel_out(request, block.channel), "top": [article_summary(request, a) for a in block.articles]}
        for block in channel_blocks(TOP_STORIES)
    ]
    return {"items": items}


@router.get("/channels/{slug}", response=ChannelPage, tags=["channels"], summary="频道的最新文章")
def get_channel(
    request: HttpRequest, response: HttpResponse, slug: Slug, cursor: Cursor = None, limit: Limit = PAGE_SIZE
):
    """One active channel and a page of its articles (pages as in GET /articles)."""
    current = _channel(slug)
    cache_page_for_readers(response, ["fronts"])
    page = article_page(request, article_queries.published().filter(channel=current), cursor, limit)
    return {"channel": channel_out(request, current), **page}


# --- accounts ------------------------------------------------------------------------------------


@router.get("/accounts/{handle}", response=AccountProfile, tags=["accounts"], summary="创作者账号")
def get_account(request: HttpRequest, response: HttpResponse, handle: Handle):
    """The author card of a creator account, with its introduction."""
    found = _account(handle)
    cache_page_for_readers(response, ["fronts", f"account:{found.pk}"])
    return {
        **account_card(request, found),
        "intro": found.intro,
        "articles_url": absolute(request, reverse("api:account_articles", args=[found.handle])),
    }


@router.get("/accounts/{handle}/articles", response=ArticleList, tags=["accounts"], summary="创作者的文章")
def account_articles(
    request: HttpRequest, response: HttpResponse, handle: Handle, cursor: Cursor = None, limit: Limit = PAGE_SIZE
):
    """A page of the account's published articles, newest first (pages as in GET /articles)."""
    found = _account(handle)
    cache_page_for_readers(response, ["fronts", f"account:{found.pk}"])
    return article_page(request, article_queries.published().filter(account=found), cursor, limit)
