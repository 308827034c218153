"""What the studio's pages and the JSON API's studio share: the defaults and choices of writing an
article (channel, cover, scheduled time) and the step that sends it out (publish, schedule, review).

Both doors call these, so a rule changed here changes for both.
"""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from masthead.accounts import regions
from masthead.accounts.models import Account
from masthead.articles import actions, drafts, workflow
from masthead.articles.models import Article, Image, Revision
from masthead.channels.models import Channel
from masthead.channels.queries import active_channels

Status = Article.Status
UNTITLED = "无标题草稿"  # a new draft's title until the creator writes one (the title cannot be empty)
EDITABLE = {Status.DRAFT, Status.PENDING, Status.SCHEDULED, Status.REJECTED, Status.PUBLISHED}
SEND_ACTIONS = ("publish", "schedule", "review")


def default_channel(account: Account) -> Channel:
    """The channel of the creator's own field if there is one, else the first that needs no source."""
    channels = active_channels()
    for channel in channels:
        if channel.slug == account.field:
            return channel
    usable = [c for c in channels if c.slug not in workflow.SOURCE_REQUIRED_CHANNELS]
    return (usable or channels)[0]


def find_channel(*, pk=None, slug: str | None = None) -> Channel:
    """An active channel by id or slug; anything else is refused, not guessed."""
    for channel in active_channels():
        if (pk is not None and str(channel.pk) == str(pk)) or (slug is not None and channel.slug == slug):
            return channel
    raise ValidationError({"channel": _("请选择频道。")})


def own_cover(account_id: int, value) -> Image | None:
    """The cover chosen by id: one of the creator's own pictures, or none (None or "")."""
    if value in (None, ""):
        return None
    found = str(value).isdigit() and Image.objects.filter(account_id=account_id, pk=int(value)).first()
    if not found:
        raise ValidationError({"cover": _("只能使用自己上传的图片作封面。")})
    return found


def check_scheduled_at(value: datetime | None) -> datetime | None:
    if value is not None and value <= timezone.now():
        raise ValidationError(_("定时发布时间必须晚于现在。"), code="past")
    return value


def send(request: HttpRequest, article: Article, action: str, at: datetime | None = None) -> None:
    """Send a saved, unpublished article out: "publish" (trusted creators publish at once, everyone
    else waits for an editor), "schedule" (likewise, at `at`), or "review" (ask for an editor's look
    even when the creator could publish at once; `at` is kept for after the approval)."""
    if action not in SEND_ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    if article.title == UNTITLED:
        raise ValidationError({"title": _("请填写标题。")})
    if action == "schedule" and at is None:
        raise ValidationError({"scheduled_at": _("请选择定时发布的时间。")})
    try:
        at = check_scheduled_at(at)
    except ValidationError as error:
        raise ValidationError({"scheduled_at": error.messages}) from error
    regions.record_post(request, article)  # IP属地: the region of the request that posts it
    if action != "review":
        workflow.submit(article, by=request.user, at=at)
    else:
        workflow.check_publishable(article)
        if workflow.is_trusted(article.account) and article.status != Status.REJECTED:
            with transaction.atomic():
                if at is not None:
                    article.scheduled_at = at
                    article.save(update_fields=["scheduled_at"])
                actions.submit_for_review(article)
        else:
            workflow.submit(article, by=request.user, at=at)
    drafts.mark(article, request.user, Revision.Kind.PUBLISH if article.is_published else Revision.Kind.SUBMIT)
