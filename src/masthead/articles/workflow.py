"""Who may publish what, and when: review before publishing for new creators, publish-then-review
(先发后审) for trusted ones, scheduled publishing, the pause on regulated fields without a valid
credential, and the editor's decisions (approve, reject, mark reviewed, remove, badges, credentials).

`actions.py` holds the state transitions; this module decides which one a request leads to, checks
who asks, and records every editor decision in the audit log in the same transaction.
"""

from datetime import date, datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from masthead.accounts import fields, roles
from masthead.accounts.models import Account, Badge
from masthead.articles import actions
from masthead.articles.models import Article, ImageLabel
from masthead.moderation import audit, screening
from masthead.web import pagecache

Status = Article.Status
TRUSTED_BADGE = Badge.QUALITY  # 优质 and 认证 publish at once; an editor reviews afterwards
SOURCE_REQUIRED_CHANNELS = {"top", "military"}
MIN_BODY_CHARS = 20
REASON_LIMIT = 300
SUBMITTABLE = (Status.DRAFT, Status.REJECTED)


def is_trusted(account: Account) -> bool:
    return account.badge >= TRUSTED_BADGE


def regulated_field(article: Article) -> str | None:
    """The regulated field an article falls in, through its channel or its author's field."""
    by_channel = fields.REGULATED_CHANNELS.get(article.channel.slug)
    if by_channel:
        return by_channel
    return article.account.field if fields.is_regulated(article.account.field) else None


def credential_problem(account: Account, field: str) -> str | None:
    """Why the account may not publish in a regulated field today, or None when it may."""
    name = fields.display(field)
    if account.field != field or not account.credential_name or account.credential_expires_on is None:
        return _("“%(field)s”领域需要经过平台认证的相关资质才能发布，请先提交资质。") % {"field": name}
    if not account.credential_valid():
        return _(
            "你的资质“%(credential)s”已于 %(date)s 过期，“%(field)s”领域的发布已暂停；编辑为你续期后即可恢复。"
        ) % {"credential": account.credential_name, "date": account.credential_expires_on.isoformat(), "field": name}
    return None


def _unlabelled_ai_images(article: Article) -> list[str]:
    """AI-generated pictures (body or cover) that do not say so in their label."""
    images = list(article.images.filter(is_ai_generated=True).exclude(label=ImageLabel.AI))
    cover = article.cover
    if cover is not None and cover.is_ai_generated and cover.label != ImageLabel.AI and cover not in images:
        images.append(cover)
    return [image.alt or image.file.name for image in images]


def check_publishable(article: Article) -> None:
    """Raise ValidationError with every reason the article cannot go out yet (keys: source, body,
    channel, is_news, images)."""
    errors: dict[str, list[str]] = {}

    def add(key: str, message: str) -> None:
        errors.setdefault(key, []).append(message)

    if (article.channel.slug in SOURCE_REQUIRED_CHANNELS or article.is_news) and not article.source.strip():
        add("source", _("头条、军事频道和新闻资讯必须注明信息来源。"))
    if len(article.body_text.strip()) < MIN_BODY_CHARS:
        add("body", _("正文太短，至少需要 %(n)s 个字。") % {"n": MIN_BODY_CHARS})
    if not article.channel.is_active:
        add("channel", _("频道“%(channel)s”已停用，请换一个频道。") % {"channel": article.channel.name})
    if (field := regulated_field(article)) and (problem := credential_problem(article.account, field)):
        add("channel", problem)
    if article.is_news and article.is_fiction:
        add("is_news", _("新闻资讯不能同时标为虚构/演绎。"))
    if unlabelled := _unlabelled_ai_images(article):
        add(
            "images",
            _("AI生成的图片必须标注“AI生成”：%(images)s。") % {"images": pgettext("列表分隔符", "、").join(unlabelled)},
        )
    for key, label, text in (("title", _("标题"), article.title), ("body", _("正文"), article.body_text)):
        try:
            screening.check(text, label, field=key)
        except ValidationError as error:
            for message in error.message_dict.get(key, error.messages):
                add(key, message)
    if errors:
        raise ValidationError(errors)


def held_by_screening(article: Article) -> bool:
    """Whether the title or body hits a 'review' term: then an editor looks before anyone reads it."""
    return screening.screen(article.title).held or screening.screen(article.body_text).held


def _require_author(article: Article, user) -> None:
    account = roles.creator_account(user)
    if account is None or account.pk != article.account_id:
        raise PermissionDenied(_("只能提交自己的文章。"))


def _require_editor(user) -> None:
    if not roles.is_editor(user):
        raise PermissionDenied(_("只有编辑可以进行此操作。"))


def _state(article: Article) -> dict:
    return {
        "status": article.status,
        "needs_review": article.needs_review,
        "scheduled_at": article.scheduled_at.isoformat() if article.scheduled_at else None,
        "removal_reason": article.removal_reason,
    }


def _locked(article: Article) -> Article:
    """Lock the article's row and refresh what the decision depends on (another editor may have acted)."""
    current = Article.objects.select_for_update().get(pk=article.pk)
    for name in ("status", "needs_review", "scheduled_at", "removal_reason", "published_at"):
        setattr(article, name, getattr(current, name))
    return article


def _one_line_reason(reason: str, message: str) -> str:
    reason = " ".join((reason or "").split())
    if not reason:
        raise ValidationError({"reason": message})
    if len(reason) > REASON_LIMIT:
        raise ValidationError({"reason": _("原因最多 %(limit)s 个字。") % {"limit": REASON_LIMIT}})
    return reason


@transaction.atomic
def submit(article: Article, *, by, at: datetime | None = None) -> Article:
    """The creator's "publish" button: trusted creators publish (or schedule) at once and are reviewed
    afterwards; everyone else waits for an editor (with the time they asked for kept)."""
    _require_author(article, by)
    _locked(article)
    # Only drafts and rejected articles: actions allow removed → published for an editor's restore, which
    # must never become a way for a creator to undo a takedown.
    if article.status not in SUBMITTABLE:
        raise ValidationError(
            _("文章当前状态为“%(status)s”，不能提交发布。") % {"status": article.get_status_display()}
        )
    check_publishable(article)
    if at is not None and at <= timezone.now():
        at = None
    # Rejected articles and those hitting a 'review' term go back through review whatever the level.
    if not is_trusted(article.account) or article.status == Status.REJECTED or held_by_screening(article):
        article.scheduled_at = at
        article.needs_review = False
        article.save(update_fields=["scheduled_at", "needs_review"])
        return actions.submit_for_review(article)
    article.needs_review = True
    article.save(update_fields=["needs_review"])
    if at is not None:
        return actions.schedule(article, at=at)
    return actions.publish(article)


@transaction.atomic
def approve(article: Article, *, by) -> Article:
    """An editor lets a pending article out: now, or at the time its author asked for."""
    _require_editor(by)
    before = _state(_locked(article))
    if article.status != Status.PENDING:
        raise ValidationError(_("只有待审核的文章可以通过审核。"))
    check_publishable(article)  # e.g. a credential that expired while the article waited
    article.needs_review = False
    article.save(update_fields=["needs_review"])
    if article.scheduled_at is not None and article.scheduled_at > timezone.now():
        actions.schedule(article, at=article.scheduled_at)
    else:
        actions.publish(article)
    audit.record(by, "article.approve", article, before=before, after=_state(article))
    return article


@transaction.atomic
def reject(article: Article, *, by, reason: str) -> Article:
    """Send a pending article back to its author with the reason (shown in the studio)."""
    _require_editor(by)
    reason = _one_line_reason(reason, _("请填写不通过的原因。"))
    before = _state(_locked(article))
    actions.reject(article, reason=reason)
    audit.record(by, "article.reject", article, reason=reason, before=before, after=_state(article))
    return article


@transaction.atomic
def mark_reviewed(article: Article, *, by) -> Article:
    """An editor has looked at an article a trusted creator published at once (先发后审)."""
    _require_editor(by)
    before = _state(_locked(article))
    if not article.needs_review or article.status not in (Status.PUBLISHED, Status.SCHEDULED):
        raise ValidationError(_("这篇文章不在待复审队列中。"))
    article.needs_review = False
    article.save(update_fields=["needs_review", "updated_at"])
    audit.record(by, "article.reviewed", article, before=before, after=_state(article))
    return article


@transaction.atomic
def remove(article: Article, *, by, reason: str) -> Article:
    """Take an article down; readers get a 410 page with the reason."""
    _require_editor(by)
    reason = _one_line_reason(reason, _("下架必须填写原因。"))
    before = _state(_locked(article))
    actions.remove(article, reason=reason)
    if article.needs_review:
        article.needs_review = False
        article.save(update_fields=["needs_review"])
    audit.record(by, "article.remove", article, reason=reason, before=before, after=_state(article))
    return article


def _account_state(account: Account) -> dict:
    return {
        "badge": account.badge,
        "credential_name": account.credential_name,
        "credential_expires_on": account.credential_expires_on.isoformat() if account.credential_expires_on else None,
    }


def _locked_account(account: Account) -> Account:
    current = Account.objects.select_for_update().get(pk=account.pk)
    for name in ("badge", "credential_name", "credential_expires_on", "field"):
        setattr(account, name, getattr(current, name))
    return account


@transaction.atomic
def grant_badge(account: Account, *, by, badge: int, reason: str) -> Account:
    """Set a creator's level (新人, 成长, 优质, 认证); 优质 and above publish at once."""
    _require_editor(by)
    if badge not in Badge.values:
        raise ValidationError({"badge": _("未知的等级。")})
    reason = _one_line_reason(reason, _("请填写调整等级的原因。"))
    before = _account_state(_locked_account(account))
    account.badge = badge
    account.save(update_fields=["badge", "updated_at"])
    audit.record(by, "account.badge", account, reason=reason, before=before, after=_account_state(account))
    pagecache.purge(f"account:{account.pk}")  # author card and bylines
    return account


@transaction.atomic
def renew_credential(account: Account, *, by, name: str, expires_on: date, reason: str = "") -> Account:
    """Record a verified (renewed) credential; publishing in the account's regulated field resumes."""
    _require_editor(by)
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError({"name": _("请填写资质名称。")})
    limit = Account._meta.get_field("credential_name").max_length
    if len(name) > limit:
        raise ValidationError({"name": _("资质名称最多 %(limit)s 个字。") % {"limit": limit}})
    if expires_on is None or expires_on < timezone.localdate():
        raise ValidationError({"expires_on": _("有效期必须是今天或以后的日期。")})
    before = _account_state(_locked_account(account))
    account.credential_name = name
    account.credential_expires_on = expires_on
    account.save(update_fields=["credential_name", "credential_expires_on", "updated_at"])
    audit.record(
        by, "account.credential", account, reason=" ".join(reason.split()), before=before, after=_account_state(account)
    )
    pagecache.purge(f"account:{account.pk}")
    return account
