"""What readers do through the API: comment, like, favorite, follow, report, appeal.

Every operation calls the same action function as the site's pages (engagement.comments,
engagement.actions, accounts.actions, moderation.reports, moderation.appeals), so screening, rate
limits, permissions, counters, notices and cache purges are the same whichever way a reader comes.

Scopes: "comment" for everything here except an appeal against an article's takedown, which is the
author's work on their own writing ("drafts"). Toggles are PUT (on) and DELETE (off): the request
states the wanted state, so repeating it changes nothing.

Removing somebody else's comment (the article's author or an editor, with a reason) is a review
decision, not a reader's write: it is not offered here (DELETE /comments/{id} deletes one's own).
"""

from datetime import datetime
from typing import Annotated, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Path, Router, Schema, Status

from masthead.accounts import actions as account_actions
from masthead.accounts import ratelimit, regions
from masthead.accounts.models import Account
from masthead.api.auth import CALLER, require
from masthead.api.problems import Problem, ProblemOut
from masthead.api.schemas import absolute
from masthead.articles.models import Article
from masthead.engagement import actions, comments
from masthead.engagement.models import Comment
from masthead.moderation import appeals, reports
from masthead.moderation.models import Appeal, Report

router = Router(tags=["reactions"])

ID_MAX = 2**63 - 1  # the largest key either database stores; larger ids are refused with 400, not a crash
Id = Annotated[int, Path(ge=1, le=ID_MAX)]
Handle = Annotated[str, Path(min_length=1, max_length=40)]
# Articles a reader may know exist: the rest (drafts, pending, rejected, scheduled) answer 404.
KNOWN = (Article.Status.PUBLISHED, Article.Status.REMOVED)


# --- shapes -----------------------------------------------------------------------------------------


class CommentIn(Schema):
    body: str = Field(..., max_length=10_000, description="1–1000 characters after trimming")
    reply_to: int | None = Field(None, ge=1, le=ID_MAX, description="the comment answered (a reply)")
    client_token: str = Field("", max_length=comments.TOKEN_MAX, description="sent twice: the first comment")


class CommentOut(Schema):
    id: int
    article_id: int
    thread_id: int | None = Field(..., description="the top-level comment a reply belongs to")
    reply_to_id: int | None
    body: str
    status: Literal["visible", "held", "deleted", "removed"] = Field(
        ..., description="held: waiting for an editor, shown only to its writer"
    )
    status_text: str
    ip_region: str
    like_count: int
    reply_count: int
    created_at: datetime
    url: str


class CommentPosted(CommentOut):
    message: str


class CommentLikeOut(Schema):
    comment_id: int
    liked: bool
    like_count: int


class ArticleLikeOut(Schema):
    article_id: int
    liked: bool
    like_count: int


class FavoriteOut(Schema):
    article_id: int
    favorited: bool


class FollowOut(Schema):
    handle: str
    following: bool
    follower_count: int


class ReportIn(Schema):
    target_type: Literal["article", "comment", "account"]
    target_id: int = Field(..., ge=1, le=ID_MAX)
    category: Report.Category
    details: str = Field("", max_length=10_000)


class ReportOut(Schema):
    id: int
    target_type: Literal["article", "comment", "account"]
    target_id: int
    target_title: str
    category: str
    category_text: str
    details: str
    status: Literal["open", "upheld", "dismissed"]
    status_text: str
    decision: str
    created_at: datetime
    decided_at: datetime | None


class AppealIn(Schema):
    target_type: Literal["article", "comment"]
    target_id: int = Field(..., ge=1, le=ID_MAX)
    text: str = Field(..., max_length=10_000)


class AppealOut(Schema):
    id: int
    target_type: Literal["article", "comment"]
    target_id: int
    status: Literal["pending", "granted", "denied"]
    status_text: str
    takedown_reason: str
    text: str
    decision: str
    created_at: datetime


def comment_out(request: HttpRequest, comment: Comment) -> dict:
    return {
        "id": comment.pk,
        "article_id": comment.article_id,
        "thread_id": comment.thread_id,
        "reply_to_id": comment.reply_to_id,
        "body": comment.body,
        "status": comment.status,
        "status_text": str(comment.get_status_display()),
        "ip_region": comment.ip_region,
        "like_count": comment.like_count,
        "reply_count": comment.reply_count,
        "created_at": comment.created_at,
        "url": absolute(request, comments.comment_url(comment)),
    }


def report_out(report: Report) -> dict:
    """A report as its reporter sees it; needs the target selected (article, comment or account)."""
    target = report.target
    return {
        "id": report.pk,
        "target_type": reports.kind_of(target),
        "target_id": target.pk,
        "target_title": reports.title_of(target),
        "category": report.category,
        "category_text": str(report.get_category_display()),
        "details": report.details,
        "status": report.status,
        "status_text": str(report.get_status_display()),
        "decision": report.decision,
        "created_at": report.created_at,
        "decided_at": report.decided_at,
    }


def appeal_out(appeal: Appeal) -> dict:
    return {
        "id": appeal.pk,
        "target_type": "article" if appeal.article_id else "comment",
        "target_id": appeal.article_id or appeal.comment_id,
        "status": appeal.status,
        "status_text": str(appeal.get_status_display()),
        "takedown_reason": appeal.takedown_reason,
        "text": appeal.text,
        "decision": appeal.decision,
        "created_at": appeal.created_at,
    }


# --- lookups ----------------------------------------------------------------------------------------


def _article(pk: int) -> Article:
    article = Article.objects.select_related("account").defer("body_html", "body_text").filter(pk=pk).first()
    if article is None or article.status not in KNOWN:
        raise Http404
    return article


def _comment(user, pk: int) -> Comment:
    """A comment this user may know of: held ones exist only for their writer and editors."""
    comment = Comment.objects.select_related("article__account", "user").filter(pk=pk).first()
    if comment is None or (comment.status == Comment.Status.HELD and not comments.visible_to(user, comment)):
        raise Http404
    return comment


def _react(user, apply):
    """Likes, favorites and follows as the pages do them: counted against the reaction limit first,
    and a refusal of the action (the reader's own article or account) is a 403."""
    actions.count_reaction(user)  # raises RateLimited: a 429 with Retry-After
    try:
        return apply()
    except ValidationError as exc:
        raise PermissionDenied(" ".join(exc.messages)) from exc


# --- comments ---------------------------------------------------------------------------------------


@router.post(
    "/articles/{id}/comments",
    auth=CALLER,
    response={201: CommentPosted, 202: CommentPosted},
    tags=["comments"],
    summary="Post a comment or a reply",
)
def post_comment(request: HttpRequest, id: Id, payload: CommentIn):
    """201 with the comment; 202 when a sensitive word holds it for an editor (status "held": only its
    writer sees it until approved). A blocked word is a 400 naming it; too fast a 429 with Retry-After.
    The same client_token (or Idempotency-Key) twice returns the first comment."""
    user = require(request, "comment")
    article = _article(id)
    reply_to = None
    if payload.reply_to is not None:
        reply_to = Comment.objects.filter(pk=payload.reply_to, article=article).first()
        if reply_to is None:
            raise ValidationError({"reply_to": _("要回复的跟帖已不存在。")})
    comment = comments.post_comment(
        user,
        article,
        payload.body,
        reply_to=reply_to,
        client_token=payload.client_token,
        region=regions.region_for_request(request),
        ip=ratelimit.client_ip(request),
    )
    held = comment.status == Comment.Status.HELD
    message = _("跟帖已提交，审核通过后其他读者才能看到。") if held else _("跟帖已发表。")
    return Status(202 if held else 201, {**comment_out(request, comment), "message": message})


@router.delete(
    "/comments/{comment_id}", auth=CALLER, response={204: None}, tags=["comments"], summary="Delete your own comment"
)
def delete_comment(request: HttpRequest, comment_id: Id):
    """The writer deletes their comment (a placeholder keeps the thread readable). Deleting it again
    is harmless; somebody else's comment is a 403 (removal with a reason is an editor's review)."""
    user = require(request, "comment")
    comments.delete_own(user, _comment(user, comment_id))
    return Status(204, None)


def _like_comment(request: HttpRequest, comment_id: int, on: bool) -> dict:
    user = require(request, "comment")
    comment = _comment(user, comment_id)
    if comment.article.status != Article.Status.PUBLISHED:
        raise Http404
    count = comments.set_like(user, comment, on)
    return {"comment_id": comment.pk, "liked": on, "like_count": count}


@router.post(
    "/comments/{comment_id}/like", auth=CALLER, response=CommentLikeOut, tags=["comments"], summary="Like a comment"
)
def like_comment(request: HttpRequest, comment_id: Id):
    return _like_comment(request, comment_id, True)


@router.delete(
    "/comments/{comment_id}/like",
    auth=CALLER,
    response=CommentLikeOut,
    tags=["comments"],
    summary="Stop liking a comment",
)
def unlike_comment(request: HttpRequest, comment_id: Id):
    return _like_comment(request, comment_id, False)


# --- articles: likes and favorites ------------------------------------------------------------------


def _like_article(request: HttpRequest, article_id: int, on: bool) -> dict:
    user = require(request, "comment")
    article = _article(article_id)
    count = _react(user, lambda: actions.set_like(user, article, on))
    return {"article_id": article.pk, "liked": on, "like_count": count}


@router.put("/articles/{id}/like", auth=CALLER, response=ArticleLikeOut, summary="Like an article")
def like_article(request: HttpRequest, id: Id):
    """Only published articles, and not one's own (403)."""
    return _like_article(request, id, True)


@router.delete("/articles/{id}/like", auth=CALLER, response=ArticleLikeOut, summary="Stop liking an article")
def unlike_article(request: HttpRequest, id: Id):
    return _like_article(request, id, False)


def _favorite(request: HttpRequest, article_id: int, on: bool) -> dict:
    user = require(request, "comment")
    article = _article(article_id)
    _react(user, lambda: actions.set_favorite(user, article, on))
    return {"article_id": article.pk, "favorited": on}


@router.put("/articles/{id}/favorite", auth=CALLER, response=FavoriteOut, summary="Add to favorites")
def favorite_article(request: HttpRequest, id: Id):
    return _favorite(request, id, True)


@router.delete("/articles/{id}/favorite", auth=CALLER, response=FavoriteOut, summary="Remove from favorites")
def unfavorite_article(request: HttpRequest, id: Id):
    return _favorite(request, id, False)


# --- follows ----------------------------------------------------------------------------------------


def _follow(request: HttpRequest, handle: str, on: bool) -> dict:
    user = require(request, "comment")
    account = get_object_or_404(Account, handle=handle)
    _react(user, lambda: (account_actions.follow if on else account_actions.unfollow)(user, account))
    account.refresh_from_db(fields=["follower_count"])
    return {"handle": account.handle, "following": on, "follower_count": account.follower_count}


@router.put("/accounts/{handle}/follow", auth=CALLER, response=FollowOut, summary="Follow a creator account")
def follow_account(request: HttpRequest, handle: Handle):
    """Not one's own account (403)."""
    return _follow(request, handle, True)


@router.delete("/accounts/{handle}/follow", auth=CALLER, response=FollowOut, summary="Stop following")
def unfollow_account(request: HttpRequest, handle: Handle):
    return _follow(request, handle, False)


# --- reports and appeals ----------------------------------------------------------------------------


@router.post(
    "/reports",
    auth=CALLER,
    response={201: ReportOut, 404: ProblemOut, 409: ProblemOut},
    tags=["reports"],
    summary="Report an article, comment or account",
)
def file_report(request: HttpRequest, payload: ReportIn):
    """One open report per reader and target: another while it is open is a 409 "already_reported"
    (with its id). Only what readers can see can be reported (else 404); one's own content is a 403."""
    user = require(request, "comment")
    target = reports.find_target(payload.target_type, payload.target_id)
    if target is None or not reports.is_reportable(target):
        raise Http404
    mine = Report.objects.filter(reporter=user, status=Report.Status.OPEN, **reports.target_filter(target))
    if (open_id := mine.values_list("pk", flat=True).first()) is not None:
        raise Problem(409, "already_reported", _("你已举报过这条内容，编辑处理后会通知你。"), report_id=open_id)
    report = reports.file_report(user, target, payload.category, payload.details)
    return Status(201, report_out(report))


@router.post(
    "/appeals",
    auth=CALLER,
    response={201: AppealOut, 404: ProblemOut, 409: ProblemOut},
    tags=["reports"],
    summary="Appeal a takedown of your content",
)
def file_appeal(request: HttpRequest, payload: AppealIn):
    """The author of a removed article (scope "drafts") or comment (scope "comment") appeals once:
    a second appeal is a 409 "already_appealed" (the same text again is a double submit and returns
    the first). Content that was not taken down is a 400; somebody else's a 403."""
    user = require(request, "drafts" if payload.target_type == "article" else "comment")
    target = _article(payload.target_id) if payload.target_type == "article" else _comment(user, payload.target_id)
    try:
        appeal = appeals.appeal(user, target, payload.text)
    except ValidationError as exc:
        if getattr(exc, "code", None) == "already_appealed":
            raise Problem(409, "already_appealed", exc.messages[0]) from exc
        raise
    return Status(201, appeal_out(appeal))
