"""The editors' desk over JSON (/api/v1/review/): the article review queue and its decisions, open
reports grouped by target, and held comments.

Each decision calls the function the review pages call (articles.workflow, moderation.reports,
engagement.comments), so the same checks apply and the same audit entry is written in the same
transaction. Everything here needs an editor and, for a token, the "review" scope.
"""

from datetime import datetime
from typing import Annotated, Literal

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema

from masthead.accounts.roles import is_editor
from masthead.api.auth import CALLER, require
from masthead.api.problems import Problem, ProblemOut
from masthead.api.schemas import (
    AccountBrief,
    ChannelBrief,
    ImageOut,
    Labels,
    absolute,
    account_brief,
    channel_brief,
    image_out,
    labels,
    numbered_page,
)
from masthead.api.studio import refusal
from masthead.articles import queries, workflow
from masthead.articles.models import Article
from masthead.engagement import comment_queries
from masthead.engagement import comments as comment_actions
from masthead.engagement.models import Comment
from masthead.moderation import reports
from masthead.moderation.models import Report

router = Router(tags=["review"])

Status = Article.Status
PAGE_SIZE = 30
MAX_ID = 2**63 - 1
MAX_PAGE = 100_000
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
Page = Annotated[int, Query(ge=1, le=MAX_PAGE)]
StatusName = Literal[tuple(Status.values)]
CommentStatus = Literal[tuple(Comment.Status.values)]
TargetType = Literal[tuple(reports.KINDS)]


def _reason_field(limit: int, description: str):
    return Field(min_length=1, max_length=limit, description=description)


# --- shapes ------------------------------------------------------------------------------------------


class QueuedArticle(Schema):
    id: int
    title: str
    summary: str
    status: StatusName
    status_text: str
    account: AccountBrief
    channel: ChannelBrief
    needs_review: bool
    scheduled_at: datetime | None = Field(description="When its author asked it to go out.")
    published_at: datetime | None
    updated_at: datetime
    reason: str = Field(description="Why it was rejected or removed; empty otherwise.")


class ArticleForReview(QueuedArticle):
    body_html: str
    tags: list[str]
    labels: Labels
    cover: ImageOut | None
    problems: list[str] = Field(description="Why it could not go out now (an approval would be refused).")


class ArticleQueuePage(Schema):
    count: int
    page: int
    page_size: int
    next_page: int | None
    items: list[QueuedArticle]


class ArticleDecision(Schema):
    id: int
    status: StatusName
    status_text: str
    needs_review: bool
    scheduled_at: datetime | None
    published_at: datetime | None
    reason: str


class ReasonIn(Schema):
    reason: Annotated[str, _reason_field(workflow.REASON_LIMIT, "The reason; the author reads it.")]


class CategoryCount(Schema):
    label: str
    count: int


class ReportGroupOut(Schema):
    target_type: TargetType
    target_id: int
    title: str
    url: str | None = Field(description="Where readers see the target (none for a comment's own page).")
    count: int = Field(description="Open reports on it.")
    first_at: datetime = Field(description="When the oldest open report came in.")
    categories: list[CategoryCount]


class ReportQueuePage(Schema):
    count: int
    page: int
    page_size: int
    next_page: int | None
    items: list[ReportGroupOut]


class DecideIn(Schema):
    target_type: TargetType
    target_id: int = Field(ge=1, le=MAX_ID)
    outcome: Literal[Report.Status.UPHELD.value, Report.Status.DISMISSED.value]
    decision: Annotated[
        str,
        _reason_field(reports.DECISION_LIMIT, "The decision; reporters read it, and it is the reason of a take-down."),
    ]
    take_down: bool = Field(False, description="Upheld only: remove the article or comment; an account becomes 新人.")


class DecideOut(Schema):
    target_type: TargetType
    target_id: int
    outcome: str
    decided: list[int] = Field(description="The reports decided.")
    take_down: bool


class CommentArticle(Schema):
    id: int
    title: str
    url: str


class HeldComment(Schema):
    id: int
    body: str
    status: CommentStatus
    status_text: str
    writer: str
    ip_region: str
    created_at: datetime
    article: CommentArticle


class CommentQueuePage(Schema):
    count: int
    page: int
    page_size: int
    next_page: int | None
    items: list[HeldComment]


class CommentDecision(Schema):
    id: int
    status: CommentStatus
    status_text: str
    removal_reason: str


class CommentReasonIn(Schema):
    reason: Annotated[str, _reason_field(comment_actions.REASON_MAX, "The reason; the comment's writer reads it.")]


# --- helpers -----------------------------------------------------------------------------------------


def _editor(request: HttpRequest):
    """The calling editor: 401 anonymous, 403 a token without "review", 403 not an editor."""
    user = require(request, "review")
    if not is_editor(user):
        raise Problem(403, "not_editor", _("只有编辑可以这样做。"))
    return user


def _queued(request: HttpRequest, article: Article) -> dict:
    return {
        "id": article.pk,
        "title": article.title,
        "summary": article.summary,
        "status": article.status,
        "status_text": str(article.get_status_display()),
        "account": account_brief(request, article.account),
        "channel": channel_brief(request, article.channel),
        "needs_review": article.needs_review,
        "scheduled_at": article.scheduled_at,
        "published_at": article.published_at,
        "updated_at": article.updated_at,
        "reason": article.removal_reason if article.status in (Status.REJECTED, Status.REMOVED) else "",
    }


def _decision(article: Article) -> dict:
    return {
        "id": article.pk,
        "status": article.status,
        "status_text": str(article.get_status_display()),
        "needs_review": article.needs_review,
        "scheduled_at": article.scheduled_at,
        "published_at": article.published_at,
        "reason": article.removal_reason,
    }


def _article(pk: int) -> Article:
    qs = Article.objects.select_related("account", "channel", "cover").prefetch_related("tags")
    return get_object_or_404(qs, pk=pk)


def _decide(action, subject, **kwargs) -> None:
    """Run an editor's decision. Refusals about the request (a missing reason, an article that cannot
    go out) name their fields: 400; a target no longer in the state the decision is for (another editor
    was quicker, or it was never in the queue): 409 `wrong_status`."""
    try:
        action(subject, **kwargs)
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            raise refusal(error, 400, "not_publishable" if action is workflow.approve else "invalid") from error
        raise Problem(409, "wrong_status", error.messages[0], current_status=subject.status) from error


# --- articles ----------------------------------------------------------------------------------------


@router.get("/articles", response=ArticleQueuePage, auth=CALLER, summary="Articles waiting for an editor")
def article_queue(
    request: HttpRequest,
    queue: Annotated[
        Literal["pending", "post_review"],
        Query(description="pending: waiting for approval; post_review: published at once, to look at afterwards."),
    ] = "pending",
    page: Page = 1,
):
    """The review queue as the review page shows it, the longest-waiting first (scope "review")."""
    _editor(request)
    qs = queries.review_queue() if queue == "pending" else queries.post_review_queue()
    return numbered_page(qs, page, lambda a: _queued(request, a), PAGE_SIZE)


@router.get("/articles/{article_id}", response=ArticleForReview, auth=CALLER, summary="An article to review")
def article_detail(request: HttpRequest, article_id: Id):
    """Any article in any state, with what would stop it going out now (scope "review")."""
    _editor(request)
    article = _article(article_id)
    problems: list[str] = []
    if article.status in (Status.PENDING, Status.SCHEDULED):
        try:
            workflow.check_publishable(article)
        except ValidationError as error:
            problems = error.messages
    return {
        **_queued(request, article),
        "body_html": article.body_html,
        "tags": [t.name for t in article.tags.all()],
        "labels": labels(article),
        "cover": image_out(request, article.cover) if article.cover_id else None,
        "problems": problems,
    }


@router.post(
    "/articles/{article_id}/approve", response={200: ArticleDecision, 409: ProblemOut}, auth=CALLER, summary="Approve"
)
def approve_article(request: HttpRequest, article_id: Id):
    """Let a pending article out: now, or at the time its author asked for (scope "review"; audited)."""
    editor = _editor(request)
    article = _article(article_id)
    _decide(workflow.approve, article, by=editor)
    return _decision(article)


@router.post(
    "/articles/{article_id}/reject", response={200: ArticleDecision, 409: ProblemOut}, auth=CALLER, summary="Reject"
)
def reject_article(request: HttpRequest, article_id: Id, payload: ReasonIn):
    """Send a pending article back to its author with the reason (scope "review"; audited)."""
    editor = _editor(request)
    article = _article(article_id)
    _decide(workflow.reject, article, by=editor, reason=payload.reason)
    return _decision(article)


@router.post(
    "/articles/{article_id}/remove", response={200: ArticleDecision, 409: ProblemOut}, auth=CALLER, summary="Take down"
)
def remove_article(request: HttpRequest, article_id: Id, payload: ReasonIn):
    """Take an article down; readers get 410 with the reason (scope "review"; audited)."""
    editor = _editor(request)
    article = _article(article_id)
    _decide(workflow.remove, article, by=editor, reason=payload.reason)
    return _decision(article)


@router.post(
    "/articles/{article_id}/reviewed",
    response={200: ArticleDecision, 409: ProblemOut},
    auth=CALLER,
    summary="Mark reviewed",
)
def mark_reviewed(request: HttpRequest, article_id: Id):
    """Done looking at an article a trusted creator published at once (先发后审; scope "review"; audited)."""
    editor = _editor(request)
    article = _article(article_id)
    _decide(workflow.mark_reviewed, article, by=editor)
    return _decision(article)


# --- reports -----------------------------------------------------------------------------------------


def _target_url(request: HttpRequest, target) -> str | None:
    if isinstance(target, Comment):
        return absolute(request, target.article.get_absolute_url()) + f"#c{target.pk}"
    return absolute(request, target.get_absolute_url())


@router.get("/reports", response=ReportQueuePage, auth=CALLER, summary="Open reports")
def report_queue(request: HttpRequest, page: Page = 1):
    """Open reports grouped by what they are about, the longest-waiting first (scope "review")."""
    _editor(request)
    groups = reports.open_groups()
    total = groups.count()
    start = (page - 1) * PAGE_SIZE
    items = [
        {
            "target_type": g.kind,
            "target_id": g.target.pk,
            "title": reports.title_of(g.target),
            "url": _target_url(request, g.target),
            "count": g.count,
            "first_at": g.first_at,
            "categories": [{"label": str(label), "count": n} for label, n in g.categories],
        }
        for g in reports.load_groups(groups[start : start + PAGE_SIZE])
        if g.target is not None
    ]
    return {
        "count": total,
        "page": page,
        "page_size": PAGE_SIZE,
        "next_page": page + 1 if start + PAGE_SIZE < total else None,
        "items": items,
    }


@router.post(
    "/reports/decide",
    response={200: DecideOut, 404: ProblemOut, 409: ProblemOut},
    auth=CALLER,
    summary="Decide the reports on a target",
)
def decide_reports(request: HttpRequest, payload: DecideIn):
    """Decide every open report on one target at once (scope "review"; audited). Upheld with `take_down`
    removes the article or comment (the decision is the reason shown) or sets an account back to 新人.
    Nothing open any more (another editor was quicker): 409 `nothing_open`."""
    editor = _editor(request)
    target = reports.find_target(payload.target_type, payload.target_id)
    if target is None:
        raise Problem(404, "not_found", _("找不到这个被举报的对象。"))
    try:
        decided = reports.decide(
            target, by=editor, outcome=payload.outcome, decision=payload.decision, take_down=payload.take_down
        )
    except ValidationError as error:
        if any(getattr(e, "code", None) == "nothing_open" for e in getattr(error, "error_list", [])):
            raise Problem(409, "nothing_open", error.messages[0]) from error
        raise
    return {
        "target_type": payload.target_type,
        "target_id": target.pk,
        "outcome": payload.outcome,
        "decided": [r.pk for r in decided],
        "take_down": payload.take_down,
    }


# --- held comments -----------------------------------------------------------------------------------


def _held(request: HttpRequest, comment: Comment) -> dict:
    return {
        "id": comment.pk,
        "body": comment.body,
        "status": comment.status,
        "status_text": str(comment.get_status_display()),
        "writer": comment.user.get_username(),
        "ip_region": comment.ip_region,
        "created_at": comment.created_at,
        "article": {
            "id": comment.article_id,
            "title": comment.article.title,
            "url": absolute(request, comment.article.get_absolute_url()),
        },
    }


def _comment_decision(comment: Comment) -> dict:
    return {
        "id": comment.pk,
        "status": comment.status,
        "status_text": str(comment.get_status_display()),
        "removal_reason": comment.removal_reason,
    }


def _comment(pk: int) -> Comment:
    return get_object_or_404(Comment.objects.select_related("article", "user"), pk=pk)


@router.get("/comments", response=CommentQueuePage, auth=CALLER, summary="Held comments")
def comment_queue(
    request: HttpRequest,
    article: Annotated[int | None, Query(ge=1, le=MAX_ID, description="Only under this article.")] = None,
    page: Page = 1,
):
    """Comments held by a 'review' term, oldest first; only their writers see them (scope "review")."""
    _editor(request)
    qs = comment_queries.held_queue()
    if article is not None:
        qs = qs.filter(article_id=article)
    return numbered_page(qs, page, lambda c: _held(request, c), PAGE_SIZE)


@router.post(
    "/comments/{comment_id}/approve",
    response={200: CommentDecision, 409: ProblemOut},
    auth=CALLER,
    summary="Let a comment through",
)
def approve_comment(request: HttpRequest, comment_id: Id):
    """Publish a held comment; its writer is told (scope "review"; audited)."""
    editor = _editor(request)
    comment = _comment(comment_id)
    _decide(comment_actions.approve_held, comment, by=editor)
    return _comment_decision(comment)


@router.post(
    "/comments/{comment_id}/reject",
    response={200: CommentDecision, 409: ProblemOut},
    auth=CALLER,
    summary="Refuse a comment",
)
def reject_comment(request: HttpRequest, comment_id: Id, payload: CommentReasonIn):
    """Refuse a held comment with the reason; its writer is told and may appeal once (scope "review"; audited)."""
    editor = _editor(request)
    comment = _comment(comment_id)
    _decide(comment_actions.reject_held, comment, by=editor, reason=payload.reason)
    return _comment_decision(comment)
