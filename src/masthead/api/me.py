"""The caller's own things (我的): who they are, follows, favorites, reading history, notifications,
and the reports they filed with their outcomes.

Reads need the "read" scope. Marking notifications read is part of reading them ("read" too);
deleting reading history changes what the reader keeps, so it needs "comment", as other reader
writes do. Lists are pages of `size` (newest first) with the total `count`; each page costs a fixed
number of queries, whatever the number of rows.
"""

from datetime import datetime
from typing import Annotated, Literal

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Path, Query, Router, Schema, Status

from masthead.accounts import roles
from masthead.accounts.models import Notification
from masthead.api.auth import CALLER, require
from masthead.api.models import Scope
from masthead.api.reader_writes import ID_MAX, ReportOut, report_out
from masthead.api.schemas import AccountBrief, ArticleSummary, absolute, account_brief, article_summary
from masthead.articles.models import Article
from masthead.engagement import actions, personal
from masthead.moderation.models import Report

router = Router(tags=["me"])

Id = Annotated[int, Path(ge=1, le=ID_MAX)]
# The listing fields article_summary() reads, added to personal.favorites()/history()'s own select.
ARTICLE_RELATED = ("article__account", "article__channel", "article__cover")


class PageQuery(Schema):
    page: int = Field(1, ge=1, le=10_000)
    size: int = Field(20, ge=1, le=100)


class Me(Schema):
    username: str
    creator: bool = Field(..., description="owns a creator account (号)")
    account: AccountBrief | None
    editor: bool
    unread_notifications: int
    auth: Literal["token", "session"]
    scopes: list[str] = Field(..., description="the token's scopes; a session has all of them")


class FollowItem(Schema):
    account: AccountBrief
    followed_at: datetime


class ArticleItem(Schema):
    article_id: int
    title: str
    readable: bool = Field(..., description="false once the article is no longer published")
    article: ArticleSummary | None = Field(..., description="null when not readable")
    at: datetime = Field(..., description="when it was favorited / last read")


class NotificationItem(Schema):
    id: int
    kind: str
    text: str
    link: str | None
    created_at: datetime
    read: bool


class Page(Schema):
    count: int
    page: int
    size: int
    has_next: bool


class FollowPage(Page):
    items: list[FollowItem]


class ArticlePage(Page):
    items: list[ArticleItem]


class NotificationPage(Page):
    unread: int
    items: list[NotificationItem]


class ReportPage(Page):
    items: list[ReportOut]


class MarkedOut(Schema):
    marked: int


def _page(qs: QuerySet, query: PageQuery, fill) -> dict:
    """One page of `qs` (two queries: the count and the rows)."""
    count = qs.count()
    start = (query.page - 1) * query.size
    rows = list(qs[start : start + query.size]) if start < count else []
    return {
        "count": count,
        "page": query.page,
        "size": query.size,
        "has_next": start + query.size < count,
        "items": [fill(row) for row in rows],
    }


def _article_item(request: HttpRequest, article: Article, at: datetime) -> dict:
    readable = article.status == Article.Status.PUBLISHED
    return {
        "article_id": article.pk,
        "title": article.title,
        "readable": readable,
        "article": article_summary(request, article) if readable else None,
        "at": at,
    }


@router.get("/me", auth=CALLER, response=Me, summary="Who I am")
def me(request: HttpRequest):
    user = require(request, "read")
    state = personal.header_state(user)
    account = roles.creator_account(user) if state.creator else None
    token = request.api_token
    return {
        "username": user.get_username(),
        "creator": state.creator,
        "account": account_brief(request, account) if account is not None else None,
        "editor": state.editor,
        "unread_notifications": state.unread,
        "auth": "token" if token is not None else "session",
        "scopes": token.scope_list if token is not None else list(Scope.values),
    }


@router.get("/me/follows", auth=CALLER, response=FollowPage, summary="Accounts I follow")
def my_follows(request: HttpRequest, query: Query[PageQuery]):
    user = require(request, "read")
    return _page(
        personal.follows(user),
        query,
        lambda f: {"account": account_brief(request, f.account), "followed_at": f.created_at},
    )


@router.get("/me/favorites", auth=CALLER, response=ArticlePage, summary="My favorites")
def my_favorites(request: HttpRequest, query: Query[PageQuery]):
    user = require(request, "read")
    qs = personal.favorites(user).select_related(*ARTICLE_RELATED)
    return _page(qs, query, lambda f: _article_item(request, f.article, f.created_at))


@router.get("/me/history", auth=CALLER, response=ArticlePage, summary="My reading history")
def my_history(request: HttpRequest, query: Query[PageQuery]):
    user = require(request, "read")
    qs = personal.history(user).select_related(*ARTICLE_RELATED)
    return _page(qs, query, lambda h: _article_item(request, h.article, h.read_at))


@router.delete("/me/history", auth=CALLER, response={204: None}, summary="Clear my reading history")
def clear_history(request: HttpRequest):
    actions.delete_history(require(request, "comment"), None)
    return Status(204, None)


@router.delete("/me/history/{article_id}", auth=CALLER, response={204: None}, summary="Forget one article read")
def delete_history(request: HttpRequest, article_id: Id):
    actions.delete_history(require(request, "comment"), article_id)
    return Status(204, None)


def _notification(request: HttpRequest, n: Notification) -> dict:
    return {
        "id": n.pk,
        "kind": n.kind,
        "text": n.text,
        "link": absolute(request, n.link) if n.link else None,
        "created_at": n.created_at,
        "read": n.read_at is not None,
    }


@router.get("/me/notifications", auth=CALLER, response=NotificationPage, summary="My notifications")
def my_notifications(request: HttpRequest, query: Query[PageQuery]):
    user = require(request, "read")
    page = _page(personal.notifications(user), query, lambda n: _notification(request, n))
    return {**page, "unread": personal.notifications(user).filter(read_at__isnull=True).count()}


@router.post("/me/notifications/read", auth=CALLER, response=MarkedOut, summary="Mark all notifications read")
def read_all_notifications(request: HttpRequest):
    return {"marked": actions.mark_notifications_read(require(request, "read"), None)}


@router.post(
    "/me/notifications/{notification_id}/read", auth=CALLER, response=MarkedOut, summary="Mark one notification read"
)
def read_notification(request: HttpRequest, notification_id: Id):
    return {"marked": actions.mark_notifications_read(require(request, "read"), notification_id)}


@router.get("/me/reports", auth=CALLER, response=ReportPage, summary="Reports I filed and their outcomes")
def my_reports(request: HttpRequest, query: Query[PageQuery]):
    user = require(request, "read")
    qs = (
        Report.objects.filter(reporter=user)
        .select_related("article", "comment", "account")
        .defer("article__body_html", "article__body_text")
        .order_by("-created_at", "-pk")
    )
    return _page(qs, query, report_out)
