"""The creator's studio over JSON (/api/v1/studio/): own articles with their working text, version and
review reasons; drafts saved with a version check; images; submitting and publishing; statistics.

Every write goes through the functions the studio pages call (articles.actions, articles.drafts,
articles.images, studio.writing → articles.workflow), so sanitising, screening, levels, history and
cache purges are the same. Someone else's article answers 404, as on the pages: no probing.

Scopes: "read" lists and counts, "drafts" writes, uploads and submits for review, "publish" puts an
article in front of readers, and only where the account's level allows it on the web too.
"""

from datetime import UTC, date, datetime
from typing import Annotated, Literal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Path, Query, Router, Schema, Status, UploadedFile
from pydantic import AfterValidator, AwareDatetime

from masthead.accounts.models import Account
from masthead.accounts.roles import creator_account
from masthead.api.auth import CALLER, require
from masthead.api.problems import Problem, ProblemOut
from masthead.api.schemas import (
    ChannelBrief,
    Counts,
    ImageOut,
    absolute,
    channel_brief,
    counts,
    image_out,
    numbered_page,
)
from masthead.articles import actions, drafts, workflow
from masthead.articles.body import figure_html
from masthead.articles.images import create_image, read_upload
from masthead.articles.models import Article, ImageLabel, Revision
from masthead.studio import stats, writing

router = Router(tags=["studio"])

ArticleStatus = Article.Status
PAGE_SIZE = 20
MAX_ID = 2**63 - 1
MAX_PAGE = 100_000
# Article fields the creator sets through `labels`, by their API name.
LABEL_FIELDS = {
    "original": "is_original",
    "fiction": "is_fiction",
    "ai_generated": "is_ai_generated",
    "news": "is_news",
}

ArticleId = Annotated[int, Path(..., ge=1, le=MAX_ID)]
StatusName = Literal[tuple(ArticleStatus.values)]
ImageLabelName = Literal[tuple(ImageLabel.values)]


def _sane_time(value: datetime) -> datetime:
    # Times that cannot be shown in the site's time zone are not a schedule anyone meant.
    try:
        utc = value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("out of range") from exc
    if not 2000 <= utc.year <= 2999:
        raise ValueError("out of range")
    return utc


ScheduleTime = Annotated[AwareDatetime, AfterValidator(_sane_time)]


# --- shapes ------------------------------------------------------------------------------------------


class StudioLabels(Schema):
    original: bool = Field(description="Declared original work (原创).")
    fiction: bool = Field(description="Fiction or dramatisation (虚构/演绎).")
    ai_generated: bool = Field(description="Contains AI-generated content (AI生成).")
    news: bool = Field(description="News (新闻资讯): needs a source to go out.")
    source: str = Field(description="Where the information comes from (信息来源).")


class StudioArticleBrief(Schema):
    id: int
    title: str
    status: StatusName
    status_text: str
    channel: ChannelBrief
    version: int
    reason: str = Field(description="Why an editor rejected or removed it; empty otherwise.")
    needs_review: bool = Field(description="Published at once by a trusted creator; an editor looks afterwards.")
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    scheduled_at: datetime | None
    url: str | None = Field(description="The public page, while it is published.")
    counts: Counts


class StudioArticle(StudioArticleBrief):
    summary: str = Field(description="The creator's own summary; empty when it is taken from the body.")
    body_html: str = Field(description="The working text (sanitised), including changes not yet published.")
    tags: list[str]
    labels: StudioLabels
    cover: ImageOut | None
    unpublished_changes: bool = Field(description="A published article with saved changes readers do not see yet.")
    can_publish: bool = Field(description="The account's level lets it publish at once (otherwise: submit).")


class StudioArticlePage(Schema):
    count: int
    page: int
    page_size: int
    next_page: int | None
    items: list[StudioArticleBrief]


class LabelsIn(Schema):
    original: bool = None
    fiction: bool = None
    ai_generated: bool = None
    news: bool = None
    source: str = Field(None, max_length=200)


class ArticleFields(Schema):
    """What a creator writes; on PATCH every field is optional and only those sent change."""

    title: str = Field(None, min_length=1, max_length=100)
    summary: str = Field(None, max_length=300, description="Empty: taken from the body.")
    body_html: str = Field(None, max_length=1_000_000, description="HTML; sanitised (scripts, handlers dropped).")
    channel: str = Field(None, max_length=50, description="An active channel's slug.")
    tags: list[Annotated[str, Field(max_length=100)]] = Field(None, max_length=actions.MAX_TAGS)
    labels: LabelsIn = None
    cover: int | None = Field(None, ge=1, le=MAX_ID, description="One of your own images' id; null: no cover.")


class ArticleChange(ArticleFields):
    version: int = Field(ge=0, le=2**31 - 1, description="The version these edits were made on (409 if stale).")
    force: bool = Field(False, description="Keep these edits even if the draft was saved elsewhere meanwhile.")


class SendIn(ArticleFields):
    version: int = Field(
        None, ge=0, le=2**31 - 1, description="The version you are sending; needed when fields are sent along."
    )
    scheduled_at: ScheduleTime = Field(None, description="Publish at this time instead of now (ISO 8601 with offset).")


class StudioImage(ImageOut):
    figure_html: str = Field(description="The figure as the body shows it.")
    reference: str = Field(description='Put this in body_html where the picture goes: <img data-image="id">.')


class StatTotals(Schema):
    views: int
    readers: int = Field(description="Distinct readers per day, summed over days.")
    shares: int
    likes: int
    comments: int
    completion: int | None = Field(description="Average read completion in per cent; null when nobody reported.")


class AccountTotals(StatTotals):
    articles: int
    followers: int


class StatDay(Schema):
    day: date
    views: int
    readers: int
    shares: int
    completion: int | None


class AccountStatDay(StatDay):
    followers: int


class AccountStats(Schema):
    totals: AccountTotals
    new_followers: int
    days: list[AccountStatDay]


class ArticleStats(Schema):
    id: int
    title: str
    totals: StatTotals
    days: list[StatDay]


# --- helpers -----------------------------------------------------------------------------------------


def _creator(request: HttpRequest, *scopes: str) -> Account:
    """The caller's creator account: 401 anonymous, 403 a token with none of `scopes`, 403 not a creator."""
    user = require(request)
    token = getattr(request, "api_token", None)
    if token is not None and not any(token.has_scope(s) for s in scopes):
        require(request, scopes[0])
    account = creator_account(user)
    if account is None:
        raise Problem(403, "not_creator", _("只有创作者可以这样做：请先申请入驻。"))
    return account


def _own(account: Account, pk: int) -> Article:
    qs = Article.objects.select_related("account", "channel", "cover").prefetch_related("tags")
    return get_object_or_404(qs, pk=pk, account=account)


def _brief(request: HttpRequest, article: Article) -> dict:
    return {
        "id": article.pk,
        "title": article.title,
        "status": article.status,
        "status_text": str(article.get_status_display()),
        "channel": channel_brief(request, article.channel),
        "version": article.version,
        "reason": article.removal_reason if article.status in (ArticleStatus.REJECTED, ArticleStatus.REMOVED) else "",
        "needs_review": article.needs_review,
        "created_at": article.created_at,
        "updated_at": article.updated_at,
        "published_at": article.published_at,
        "scheduled_at": article.scheduled_at,
        "url": absolute(request, article.get_absolute_url()) if article.is_published else None,
        "counts": counts(article),
    }


def _detail(request: HttpRequest, article: Article) -> dict:
    text = drafts.working_text(article)
    return {
        **_brief(request, article),
        "title": text.title,
        "summary": text.summary,
        "body_html": text.body_html,
        "tags": [t.name for t in article.tags.all()],
        "labels": {
            **{name: getattr(article, field) for name, field in LABEL_FIELDS.items()},
            "source": article.source,
        },
        "cover": image_out(request, article.cover) if article.cover_id else None,
        "unpublished_changes": drafts.pending_changes(article) is not None,
        "can_publish": workflow.is_trusted(article.account),
    }


def _fields(account: Account, data: dict) -> dict:
    """The request's fields as the actions take them: model objects for channel and cover."""
    fields = {name: data[name] for name in ("title", "summary") if data.get(name) is not None}
    if data.get("channel") is not None:
        fields["channel"] = writing.find_channel(slug=data["channel"])
    if "cover" in data:
        fields["cover"] = writing.own_cover(account.pk, data["cover"])
    labels = data.get("labels") or {}
    fields |= {
        LABEL_FIELDS[name]: value for name, value in labels.items() if name in LABEL_FIELDS and value is not None
    }
    if labels.get("source") is not None:
        fields["source"] = labels["source"]
    return fields


def _content(payload: ArticleFields) -> tuple[dict, str | None, list[str] | None]:
    """(fields, body, tags) of what the request sent; nulls mean "not sent", except for the cover."""
    data = payload.model_dump(exclude_unset=True, include=set(ArticleFields.model_fields))
    return data, data.get("body_html"), data.get("tags")


def refusal(error: ValidationError, status: int, code: str) -> Problem:
    """A ValidationError as a problem with this status and code, each message under its field."""
    if hasattr(error, "error_dict"):
        errors = [{"field": f, "message": m} for f, ms in error.message_dict.items() for m in ms]
    else:
        errors = [{"field": "", "message": m} for m in error.messages]
    return Problem(status, code, "；".join(e["message"] for e in errors), errors=errors)


# --- articles ----------------------------------------------------------------------------------------


@router.get("/articles", response=StudioArticlePage, auth=CALLER, summary="My articles")
def list_articles(
    request: HttpRequest,
    status: Annotated[StatusName | None, Query(description="Only articles in this state.")] = None,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
):
    """Your own articles in every state, the most recently changed first (scope "read")."""
    account = _creator(request, "read")
    qs = Article.objects.filter(account=account)
    if status:
        qs = qs.filter(status=status)
    rows = qs.select_related("channel").defer("body_html", "body_text").order_by("-updated_at", "-id")
    return numbered_page(rows, page, lambda a: _brief(request, a), PAGE_SIZE)


@router.post("/articles", response={201: StudioArticle}, auth=CALLER, summary="Start a draft")
def create_article(request: HttpRequest, payload: ArticleFields):
    """A new draft with whatever is ready (scope "drafts"); the body is sanitised as on the studio page."""
    account = _creator(request, "drafts")
    data, body, tags = _content(payload)
    fields = _fields(account, data)
    fields.setdefault("title", writing.UNTITLED)
    fields.setdefault("channel", writing.default_channel(account))
    with transaction.atomic():
        article = actions.create_article(account=account, body=body or "", tags=tags or (), **fields)
        drafts.mark(article, request.user, Revision.Kind.SAVE)
    return Status(201, _detail(request, _own(account, article.pk)))


@router.get("/articles/{article_id}", response=StudioArticle, auth=CALLER, summary="One of my articles")
def get_article(request: HttpRequest, article_id: ArticleId):
    """The working text (with changes not yet published), version, state and review reasons (scope "read" or
    "drafts")."""
    account = _creator(request, "read", "drafts")
    return _detail(request, _own(account, article_id))


@router.patch(
    "/articles/{article_id}", response={200: StudioArticle, 409: ProblemOut}, auth=CALLER, summary="Save my edits"
)
def update_article(request: HttpRequest, article_id: ArticleId, payload: ArticleChange):
    """Save edits made on `version` (scope "drafts"). Someone saved in between: 409 `version_conflict` with
    `current_version`. A published article keeps its public text: edits of title, summary and body wait
    as unpublished changes until you publish (or submit) them; its other fields change only along with
    that step (409 `published_fields` here)."""
    account = _creator(request, "drafts")
    article = _own(account, article_id)
    if article.status not in writing.EDITABLE:
        raise Problem(409, "not_editable", _("这篇文章现在不能编辑。"), current_status=article.status)
    data, body, tags = _content(payload)
    fields = _fields(account, data)
    cleaned = actions.clean_fields(article.account_id, dict(fields))
    if article.status == ArticleStatus.PUBLISHED and (changed := drafts.changed_fields(article, cleaned, tags)):
        raise Problem(
            409,
            "published_fields",
            _("已发布文章的这些内容要在发布更新时一起修改：%(fields)s。") % {"fields": ", ".join(changed)},
            fields=changed,
        )
    drafts.save_draft(
        article, request.user, payload.version, kind=Revision.Kind.SAVE, force=payload.force, body=body, tags=tags,
        **fields,
    )  # fmt: skip
    return _detail(request, _own(account, article.pk))


def _send(request: HttpRequest, account: Account, article_id: int, payload: SendIn, *, publish: bool) -> dict:
    """Save what came along (as the studio's form does), then publish, schedule or submit."""
    article = _own(account, article_id)
    if publish and not workflow.is_trusted(account):
        raise Problem(
            403,
            "publish_not_allowed",
            _("你的账号等级（%(badge)s）发布前需要编辑审核：请提交审核。") % {"badge": account.get_badge_display()},
        )
    data, body, tags = _content(payload)
    sent_fields = bool(data)
    if sent_fields:
        _creator(request, "drafts")  # saving along needs the scope of saving
    fields = _fields(account, data)
    if sent_fields and payload.version is None:
        raise ValidationError({"version": _("随内容一起提交时，请提供 version。")})
    if payload.version is not None and payload.version != article.version and not sent_fields:
        raise drafts.DraftConflict(article.version)
    at = payload.scheduled_at
    if article.status == ArticleStatus.PUBLISHED:
        if at is not None:
            raise ValidationError({"scheduled_at": _("已发布的文章不能定时发布。")})
        if not sent_fields and drafts.pending_changes(article) is None:
            raise Problem(409, "no_changes", _("没有未发布的修改。"))
        if not publish and workflow.is_trusted(article.account):
            raise Problem(
                409,
                "publish_required",
                _("你的账号等级下，已发布文章的修改直接上线：请使用“发布”（需要 publish 权限）。"),
            )
        version = article.version if payload.version is None else payload.version
        try:
            drafts.publish_changes(article, request.user, version, body=body, tags=tags, **fields)
        except ValidationError as error:
            raise refusal(error, 400, "not_publishable") from error
    else:
        if article.status not in workflow.SUBMITTABLE:
            raise Problem(
                409,
                "wrong_status",
                _("文章当前状态为“%(status)s”，不能提交发布。") % {"status": article.get_status_display()},
                current_status=article.status,
            )
        if sent_fields:
            drafts.save_draft(
                article, request.user, payload.version, kind=Revision.Kind.SAVE, body=body, tags=tags, **fields
            )
        action = ("schedule" if at else "publish") if publish else "review"
        try:
            writing.send(request, article, action, at)
        except ValidationError as error:
            raise refusal(error, 400, "not_publishable") from error
    return _detail(request, _own(account, article.pk))


@router.post(
    "/articles/{article_id}/submit",
    response={200: StudioArticle, 409: ProblemOut},
    auth=CALLER,
    summary="Submit for review",
)
def submit_article(request: HttpRequest, article_id: ArticleId, payload: SendIn):
    """Ask an editor to review it (scope "drafts"): the article waits as `pending`, and goes out on approval
    (at `scheduled_at` if given). This never publishes by itself, whatever the account's level (use publish
    for that). A published article's unpublished changes: a new creator's go to review (the article leaves
    the site until approved, as on the web); a trusted creator's are published with publish instead."""
    account = _creator(request, "drafts")
    return _send(request, account, article_id, payload, publish=False)


@router.post(
    "/articles/{article_id}/publish", response={200: StudioArticle, 409: ProblemOut}, auth=CALLER, summary="Publish"
)
def publish_article(request: HttpRequest, article_id: ArticleId, payload: SendIn):
    """Publish now, or at `scheduled_at` (scope "publish"), where the account's level allows it on the web
    (优质 and 认证: an editor reviews afterwards); otherwise 403 `publish_not_allowed`: submit instead. As on
    the web, a rejected article or one with a term that needs review still goes to an editor first
    (the answer's `status` says which). For a published article: puts its unpublished changes live."""
    account = _creator(request, "publish")
    return _send(request, account, article_id, payload, publish=True)


# --- images ------------------------------------------------------------------------------------------


@router.post("/images", response={201: StudioImage, 413: ProblemOut}, auth=CALLER, summary="Upload an image")
def upload_image(
    request: HttpRequest,
    file: Annotated[UploadedFile, File(description="JPEG, PNG, WebP or GIF.")],
    alt: Annotated[
        str, Form(max_length=200, description="Alt text: one sentence saying what the picture shows (required).")
    ],
    caption: Annotated[str, Form(max_length=300)] = "",
    credit: Annotated[str, Form(max_length=100)] = "",
    label: Annotated[ImageLabelName, Form(description="Label (file, illustration, author, ai = AI生成).")] = "",
    is_ai_generated: Annotated[bool, Form()] = False,
):
    """Upload a picture (multipart/form-data; scope "drafts") under the studio's rules: JPEG, PNG, WebP or
    GIF up to the site's size limit (413 `too_large` above it); a broken or unsupported file is 400
    `invalid_image` naming `file`. An AI-generated picture is labelled AI生成 and marked."""
    account = _creator(request, "drafts")
    try:
        image = create_image(
            read_upload(file), filename=file.name or "image", alt=alt, account=account, caption=caption,
            credit=credit, label=label, is_ai_generated=is_ai_generated,
        )  # fmt: skip
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            raise  # alt, caption, credit, label: named by the core's handler
        if any(e.code == "size" for e in error.error_list):
            raise Problem(413, "too_large", error.messages[0]) from error
        raise Problem(
            400,
            "invalid_image",
            error.messages[0],
            errors=[
                {"field": "file", "message": m, "type": e.code or ""}
                for e, m in zip(error.error_list, error.messages, strict=True)
            ],
        ) from error
    out = {
        **image_out(request, image),
        "figure_html": figure_html(image),
        "reference": f'<img data-image="{image.pk}">',
    }
    return Status(201, out)


# --- statistics --------------------------------------------------------------------------------------


def _day(entry: stats.Day) -> dict:
    return {
        "day": entry.day,
        "views": entry.views,
        "readers": entry.readers,
        "shares": entry.shares,
        "completion": entry.completion,
    }


@router.get("/stats", response=AccountStats, auth=CALLER, summary="My statistics")
def account_stats(request: HttpRequest, days: Annotated[int, Query(ge=1, le=90)] = stats.DAYS):
    """All-time totals of your account and the last `days` local days (scope "read"), as on the statistics page."""
    account = _creator(request, "read")
    series = stats.daily(stats.window(days), account=account)
    stats.add_followers(series, account)
    return {
        "totals": stats.account_totals(account),
        "new_followers": sum(d.followers for d in series),
        "days": [{**_day(d), "followers": d.followers} for d in series],
    }


@router.get("/articles/{article_id}/stats", response=ArticleStats, auth=CALLER, summary="One article's statistics")
def article_stats(request: HttpRequest, article_id: ArticleId, days: Annotated[int, Query(ge=1, le=90)] = stats.DAYS):
    """All-time totals of one of your articles and the last `days` local days (scope "read")."""
    account = _creator(request, "read")
    article = get_object_or_404(Article.objects.defer("body_html", "body_text"), pk=article_id, account=account)
    return {
        "id": article.pk,
        "title": article.title,
        "totals": stats.article_totals(article),
        "days": [_day(d) for d in stats.daily(stats.window(days), article=article)],
    }
