"""Reading what readers find around an article: 跟帖 (comments), 相关推荐, 热点推荐 and search.

Each operation answers what the matching web page shows, from the same query functions
(engagement.comment_queries, discovery.related/hot/search), so order, placeholders, highlights and
pagination agree with the pages. Answers that are the same for every anonymous reader are marked
for the page cache with the tags their page uses, so a publish or a new comment purges both.
"""

from datetime import date, datetime, time, timedelta
from typing import Annotated, Literal
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from ninja import Path, Query, Router, Schema

from masthead.accounts.models import Account
from masthead.api.articles import MAX_ID, SLUG, _account, _channel
from masthead.api.problems import Problem, ProblemOut
from masthead.api.schemas import (
    AccountBrief,
    ArticleSummary,
    ChannelBrief,
    absolute,
    account_brief,
    article_summary,
    channel_brief,
)
from masthead.articles.models import Article
from masthead.discovery import hot, related, search
from masthead.discovery.backends.base import MAX_QUERY_LENGTH
from masthead.discovery.hot_score import HOT_TAG
from masthead.discovery.search_views import EARLIEST, LATEST
from masthead.engagement import comment_queries
from masthead.engagement.comments import comment_url
from masthead.engagement.models import Comment
from masthead.web.pagecache import cache_page_for_readers
from masthead.web.templatetags.masthead import wan

router = Router(tags=["discovery"])

MAX_COMMENT_PAGE = 10_000  # as comment_queries.parse_page clamps it
QUOTE_LENGTH = 120  # the quoted comment, as _comment.html truncates it

ArticleId = Annotated[int, Path(ge=1, le=MAX_ID, description="文章编号")]


# --- shapes -------------------------------------------------------------------------------------------


class CommentAuthor(Schema):
    name: str  # the creator account's name, else the username (as the page shows it; never the e-mail)
    account: AccountBrief | None
    is_article_author: bool  # the page's 作者 tag


class QuotedComment(Schema):
    """The comment a reply answers, quoted as the page quotes it (only when it is not the thread head)."""

    id: int
    author: str | None  # None when the quoted comment is not shown (deleted, removed, held)
    excerpt: str  # its text, truncated to 120 characters; "" when not shown
    placeholder: str | None  # 该跟帖已删除 / 该跟帖已被移除


class CommentOut(Schema):
    id: int
    url: str
    thread_id: int | None  # the top-level comment a reply belongs to; None for a top-level comment
    status: Literal["visible", "held", "deleted", "removed"]
    placeholder: str | None  # shown instead of a deleted or removed comment (body and author are then empty)
    review_note: str | None  # for a held comment, shown only to its writer and editors: 审核中，仅你可见 / 待审核
    body: str  # plain text, line breaks kept
    author: CommentAuthor | None
    created_at: datetime
    ip_region: str  # IP属地, "" when unknown
    like_count: int
    reply_count: int
    liked: bool  # by the caller (always false for anonymous callers)
    reply_to: QuotedComment | None


class ThreadOut(CommentOut):
    replies: list[CommentOut]  # the first replies, oldest first (as the page shows them)
    more_replies: bool
    replies_url: str  # GET …/comments/{id}/replies for all of them


class Paging(Schema):
    page: int
    has_next: bool
    has_previous: bool
    next: str | None
    previous: str | None


class CommentPageOut(Paging):
    article_id: int
    count: int  # the article's comment count, as the page's heading shows it
    sort: Literal["hot", "new"]
    threads: list[ThreadOut]


class RepliesPageOut(Paging):
    article_id: int
    thread: CommentOut
    replies: list[CommentOut]


class RelatedEntry(Schema):
    article: ArticleSummary
    reason: str  # as the page shows it: 都提到：A、B · 读过这篇的读者也读了它, or 同频道的新文章; may be ""
    shared_words: list[str]
    co_read: bool  # readers of this article also read it
    same_channel: bool  # a stand-in (newest of the channel) while the list is being computed


class RelatedOut(Schema):
    article_id: int
    entries: list[RelatedEntry]


class HotEntry(Schema):
    rank: int  # 1 = top
    article: ArticleSummary
    pinned: bool  # placed by an editor (编辑推荐)
    heat: int | None  # 热度 as the page shows it; None when pinned or not yet ranked
    label: str  # what the page shows after the time: 编辑推荐, 热度 1.2万, or ""


class HotOut(Schema):
    channel: ChannelBrief | None
    entries: list[HotEntry]


class SearchHit(Schema):
    article: ArticleSummary
    title_html: str  # the title, HTML-escaped, with <mark> around matched words
    snippet_html: str  # about 110 characters around the first match, escaped and marked the same way
    debunks: bool  # a debunking article put first because the query matches a rumour it refutes


class Suggestion(Schema):
    kind: Literal["account", "channel"]
    name: str
    url: str


class SearchFilters(Schema):
    channel: ChannelBrief | None
    account: AccountBrief | None
    since: date | None
    until: date | None  # inclusive


class SearchOut(Paging):
    query: str
    searched: bool  # False when the query has nothing to look for (only punctuation, say)
    total: int
    capped: bool  # more matches than `total`: broad queries are not counted to the end
    relaxed: bool  # no article has every word; these have some of them
    per_page: int
    pages: int
    message: str | None  # the page's status line: 找到 3 篇与“…”相关的文章, 没有找到…, …
    note: str | None
    help: list[str]  # the page's search tips, when nothing was found
    hits: list[SearchHit]
    suggestions: list[Suggestion]
    filters: SearchFilters


# --- articles -----------------------------------------------------------------------------------------


def readable_article(article_id: int) -> Article:
    """A published article (with its account), else 404; a removed one is 410 with its reason, as its page."""
    article = Article.objects.select_related("account").defer("body_html", "body_text").filter(pk=article_id).first()
    if article is None or article.status not in (Article.Status.PUBLISHED, Article.Status.REMOVED):
        raise Http404
    if article.status == Article.Status.REMOVED:
        raise Problem(410, "removed", _("该文章已被下架"), reason=article.removal_reason)
    return article


def _url(request: HttpRequest, **params) -> str:
    return request.build_absolute_uri(f"{request.path}?{urlencode(params)}")


def _paging(request: HttpRequest, number: int, has_next: bool, **params) -> dict:
    return {
        "page": number,
        "has_next": has_next,
        "has_previous": number > 1,
        "next": _url(request, **params, page=number + 1) if has_next else None,
        "previous": _url(request, **params, page=number - 1) if number > 1 else None,
    }


# --- comments -----------------------------------------------------------------------------------------


def _placeholder(comment: Comment) -> str | None:
    if comment.status == Comment.Status.DELETED:
        return _("该跟帖已删除")
    if comment.status == Comment.Status.REMOVED:
        if comment.removal_reason:
            return _("该跟帖已被移除（原因：%(reason)s）") % {"reason": comment.removal_reason}
        return _("该跟帖已被移除")
    return None


def _account_of(user) -> Account | None:
    try:
        return user.account
    except Account.DoesNotExist:
        return None


def _author_name(user) -> str:
    account = _account_of(user)
    return account.name if account is not None else user.get_username()


def _quote(comment: Comment) -> dict | None:
    quoted = comment.reply_to
    if quoted is None or comment.reply_to_id == comment.thread_id:
        return None
    shown = quoted.status == Comment.Status.VISIBLE
    placeholder = None
    if quoted.status == Comment.Status.DELETED:
        placeholder = _("该跟帖已删除")
    elif quoted.status == Comment.Status.REMOVED:
        placeholder = _("该跟帖已被移除")  # the quote leaves the reason out, as the page does
    return {
        "id": quoted.pk,
        "author": _author_name(quoted.user) if shown else None,
        "excerpt": Truncator(quoted.body).chars(QUOTE_LENGTH) if shown else "",
        "placeholder": placeholder,
    }


def comment_out(request: HttpRequest, comment: Comment, article: Article) -> dict:
    """A comment as the page shows it to this caller; needs comment_queries.RELATED selected and
    `is_liked` set (comment_queries.mark_liked), so a list costs no query per comment."""
    placeholder = _placeholder(comment)
    author = None
    if placeholder is None:
        account = _account_of(comment.user)
        author = {
            "name": account.name if account is not None else comment.user.get_username(),
            "account": account_brief(request, account) if account is not None else None,
            "is_article_author": account is not None and account.pk == article.account_id,
        }
    review_note = None
    if comment.status == Comment.Status.HELD:
        own = comment.user_id == getattr(request.user, "pk", None)
        review_note = _("审核中，仅你可见") if own else _("待审核")
    return {
        "id": comment.pk,
        "url": absolute(request, comment_url(comment)),
        "thread_id": comment.thread_id,
        "status": comment.status,
        "placeholder": placeholder,
        "review_note": review_note,
        "body": "" if placeholder else comment.body,
        "author": author,
        "created_at": comment.created_at,
        "ip_region": "" if placeholder else comment.ip_region,
        "like_count": comment.like_count,
        "reply_count": comment.reply_count,
        "liked": bool(getattr(comment, "is_liked", False)),
        "reply_to": None if placeholder else _quote(comment),
    }


def _replies_url(request: HttpRequest, article: Article, comment: Comment) -> str:
    return absolute(request, reverse("api:comment_replies", kwargs={"id": article.pk, "comment_id": comment.pk}))


@router.get(
    "/articles/{id}/comments",
    response={200: CommentPageOut, 410: ProblemOut},
    tags=["comments"],
    summary="跟帖列表",
    operation_id="article_comments",
)
def article_comments(
    request: HttpRequest,
    response: HttpResponse,
    id: ArticleId,
    sort: Annotated[Literal["hot", "new"], Query(description="hot：最热（默认）；new：最新")] = "hot",
    page: Annotated[int, Query(ge=1, le=MAX_COMMENT_PAGE)] = 1,
):
    """The comments of a published article, 20 threads a page, each with its first three replies.

    `hot` ranks by likes and replies, tempered by age (docs/comments.md); `new` is newest first.
    Deleted and removed comments keep their place as a placeholder so threads stay readable; held
    ones are listed only to their writer and to editors. 404 for an unpublished article, 410 for a
    removed one."""
    article = readable_article(id)
    viewer = comment_queries.viewer_for(request.user, article)
    result = comment_queries.comment_page(article, viewer, sort=sort, number=page)
    threads = []
    for thread in result.threads:
        item = comment_out(request, thread.comment, article)
        item["replies"] = [comment_out(request, reply, article) for reply in thread.replies]
        item["more_replies"] = thread.more_replies
        item["replies_url"] = _replies_url(request, article, thread.comment)
        threads.append(item)
    # Anonymous readers share one answer (nothing personal in it); a new comment purges it.
    cache_page_for_readers(response, [f"article:{article.pk}"])
    return {
        **_paging(request, page, result.has_next, sort=sort),
        "article_id": article.pk,
        "count": article.comment_count,
        "sort": result.sort,
        "threads": threads,
    }


@router.get(
    "/articles/{id}/comments/{comment_id}/replies",
    response={200: RepliesPageOut, 410: ProblemOut},
    tags=["comments"],
    summary="一条跟帖的全部回复",
    operation_id="comment_replies",
    url_name="comment_replies",
)
def comment_replies(
    request: HttpRequest,
    response: HttpResponse,
    id: ArticleId,
    comment_id: Annotated[int, Path(ge=1, le=MAX_ID, description="顶层跟帖的编号")],
    page: Annotated[int, Query(ge=1, le=MAX_COMMENT_PAGE)] = 1,
):
    """A top-level comment and its replies, oldest first, 50 a page (the page's 查看全部回复)."""
    article = readable_article(id)
    viewer = comment_queries.viewer_for(request.user, article)
    head = comment_queries.get_head(article, comment_id, viewer)
    if head is None:
        raise Http404
    head.article = article  # already loaded: thread_page reads it
    result = comment_queries.thread_page(head, viewer, number=page)
    cache_page_for_readers(response, [f"article:{article.pk}"])
    return {
        **_paging(request, page, result.has_next),
        "article_id": article.pk,
        "thread": comment_out(request, head, article),
        "replies": [comment_out(request, reply, article) for reply in result.thread.replies],
    }


# --- 相关推荐 --------------------------------------------------------------------------------------------


def _reason(markers: list[str]) -> dict:
    """The stored reason (shared words, then markers) as related.html words it."""
    words = [w for w in markers if w not in (related.CO_READ, related.SAME_CHANNEL)]
    co_read, same_channel = related.CO_READ in markers, related.SAME_CHANNEL in markers
    parts = []
    if same_channel:
        parts.append(_("同频道的新文章"))
    if words:
        parts.append(_("都提到：") + "、".join(words))
    if co_read:
        parts.append(_("读过这篇的读者也读了它"))
    return {"reason": " · ".join(parts), "shared_words": words, "co_read": co_read, "same_channel": same_channel}


@router.get(
    "/articles/{id}/related",
    response={200: RelatedOut, 410: ProblemOut},
    summary="相关推荐",
    operation_id="article_related",
)
def article_related(
    request: HttpRequest,
    response: HttpResponse,
    id: ArticleId,
    limit: Annotated[int, Query(ge=1, le=related.LIMIT)] = related.LIMIT,
):
    """The 相关推荐 under an article, best first, each with why it was chosen: the words both
    articles are about, and whether readers of this one also read it."""
    article = readable_article(id)
    items = related.related_articles(article, related.LIMIT)[:limit]  # the page's list, cached once
    cache_page_for_readers(response, ["fronts", f"article:{article.pk}"])
    return {
        "article_id": article.pk,
        "entries": [
            {"article": article_summary(request, item), **_reason(getattr(item, "related_reason", None) or [])}
            for item in items
        ],
    }


# --- 热点推荐 --------------------------------------------------------------------------------------------


def _hot(request: HttpRequest, response: HttpResponse, channel, limit: int) -> dict:
    entries = []
    for rank, article in enumerate(hot.hot_articles(hot.PAGE_SIZE, channel.pk if channel else None)[:limit], 1):
        heat = None
        if not article.hot_pinned and article.hot_score:
            heat = round(article.hot_score / 0.01)  # as hot.html's {% widthratio hot_score 0.01 1 %}
        label = ""
        if article.hot_pinned:
            label = _("编辑推荐")
        elif heat:
            label = _("热度 %(heat)s") % {"heat": wan(heat)}
        entries.append(
            {
                "rank": rank,
                "article": article_summary(request, article),
                "pinned": bool(article.hot_pinned),
                "heat": heat,
                "label": label,
            }
        )
    cache_page_for_readers(response, ["fronts", HOT_TAG])
    return {"channel": channel_brief(request, channel) if channel else None, "entries": entries}


@router.get("/hot", response=HotOut, summary="热榜", operation_id="hot")
def hot_list(
    request: HttpRequest,
    response: HttpResponse,
    limit: Annotated[int, Query(ge=1, le=hot.PAGE_SIZE)] = hot.PAGE_SIZE,
):
    """The site-wide hot list as /hot/ shows it: the last two days' most-read articles, with
    editors' picks at their positions. Refreshed every minute."""
    return _hot(request, response, None, limit)


@router.get("/hot/{channel_slug}", response=HotOut, summary="频道热榜", operation_id="hot_channel")
def hot_channel(
    request: HttpRequest,
    response: HttpResponse,
    channel_slug: Annotated[str, Path(max_length=40, pattern=SLUG)],
    limit: Annotated[int, Query(ge=1, le=hot.PAGE_SIZE)] = hot.PAGE_SIZE,
):
    """One channel's hot list (/hot/<slug>/); 404 for a channel that does not exist or is hidden."""
    return _hot(request, response, _channel(channel_slug), limit)


# --- search -------------------------------------------------------------------------------------------


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _message(results: search.Results) -> str | None:
    q = results.query
    if not results.searched:
        return _("这个搜索词里没有可以查找的文字，换个说法试试。") if q else None
    if results.capped:
        return _("找到 %(n)s 篇以上与“%(q)s”相关的文章（只列出最相关和最新的）") % {"n": results.total, "q": q}
    if results.total:
        return ngettext("找到 %(n)s 篇与“%(q)s”相关的文章", "找到 %(n)s 篇与“%(q)s”相关的文章", results.total) % {
            "n": results.total,
            "q": q,
        }
    return _("没有找到与“%(q)s”相关的文章。") % {"q": q}


def _help() -> list[str]:
    return [
        _("输入标题或正文里的几个词，用空格分开，例如：篮球 规则"),
        _("中文、英文和数字都可以搜，例如：AI大模型、2026年"),
        _("找作者或频道，可以输入名字、拼音或拼音首字母"),
    ]


@router.get("/search", response={200: SearchOut, 404: ProblemOut}, summary="搜索", operation_id="search")
def search_articles(
    request: HttpRequest,
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=MAX_QUERY_LENGTH,
            pattern=r"\S",
            description="搜索词：标题、正文、标签或作者；多个词用空格分开",
        ),
    ],
    channel: Annotated[str | None, Query(max_length=40, pattern=SLUG, description="频道标识")] = None,
    account: Annotated[str | None, Query(max_length=40, pattern=SLUG, description="账号标识（handle）")] = None,
    since: Annotated[date | None, Query(description="开始日期 YYYY-MM-DD")] = None,
    until: Annotated[date | None, Query(description="结束日期 YYYY-MM-DD（含当天）")] = None,
    page: Annotated[int, Query(ge=1, le=search.MAX_PAGE)] = 1,
):
    """Published articles matching `q`, ranked and highlighted as on /search/: a word is found inside
    a sentence, title matches rank first, and matched words are wrapped in `<mark>` in escaped
    text. Also suggests accounts and channels whose name, pinyin or pinyin initials match. A query
    with nothing to look for answers `searched: false` with the page's hint."""
    # Unknown filters are 404 problems (channel_not_found, account_not_found), as on GET /articles.
    found_channel = _channel(channel) if channel else None
    found_account = _account(account) if account else None
    since_day = max(since, EARLIEST) if since else None
    until_day = min(until, LATEST) if until else None
    results = search.search(
        q,
        channel=found_channel,
        account=found_account,
        since=_start_of(since_day) if since_day else None,
        until=_start_of(until_day + timedelta(days=1)) if until_day else None,  # inclusive end date
        page=page,
    )
    params = {"q": results.query}
    params.update({k: v for k, v in (("channel", channel), ("account", account)) if v})
    params.update({k: v.isoformat() for k, v in (("since", since), ("until", until)) if v})
    return {
        **_paging(request, results.page, results.has_next, **params),
        "query": results.query,
        "searched": results.searched,
        "total": results.total,
        "capped": results.capped,
        "relaxed": results.relaxed,
        "per_page": results.per_page,
        "pages": results.pages,
        "message": _message(results),
        "note": _("没有同时包含所有关键词的文章，以下文章包含其中一部分。") if results.relaxed else None,
        "help": _help() if not results.total else [],
        "hits": [
            {
                "article": article_summary(request, hit.article),
                "title_html": str(hit.title),
                "snippet_html": str(hit.snippet),
                "debunks": hit.debunks,
            }
            for hit in results.hits
        ],
        "suggestions": [{"kind": s.kind, "name": s.name, "url": absolute(request, s.url)} for s in results.suggestions],
        "filters": {
            "channel": channel_brief(request, found_channel) if found_channel else None,
            "account": account_brief(request, found_account) if found_account else None,
            "since": since,
            "until": until,
        },
    }
