"""Who may publish what, and when: review before publishing for new creators, publish-then-review
for trusted ones, scheduled publishing, and the pause on regulated fields without a valid credential.

`actions.py` holds the state transitions; this module decides which one a creator's request leads to.
"""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from masthead.accounts import fields
from masthead.accounts.models import Account, Badge
from masthead.articles import actions
from masthead.articles.models import Article

Status = Article.Status
TRUSTED_BADGE = Badge.QUALITY  # 优质 and 认证 publish at once; an editor reviews afterwards
SOURCE_REQUIRED_CHANNELS = {"top", "military"}


def is_trusted(account: Account) -> bool:
    return account.badge >= TRUSTED_BADGE


def regulated_field(article: Article) -> str | None:
    """The regulated field an article falls in, through its channel or its author's field."""
    by_channel = fields.REGULATED_CHANNELS.get(article.channel.slug)
    if by_channel:
        return by_channel
    return article.account.field if fields.is_regulated(article.account.field) else None


def check_publishable(article: Article) -> None:
    """Raise ValidationError with every reason the article cannot go out yet."""
    errors: dict[str, str] = {}
    if (article.channel.slug in SOURCE_REQUIRED_CHANNELS or article.is_news) and not article.source.strip():
        errors["source"] = _("头条、军事频道和新闻资讯必须注明信息来源。")
    if len(article.body_text.strip()) < 20:
        errors["body"] = _("正文太短，至少需要 20 个字。")
    field = regulated_field(article)
    if field and (article.account.field != field or not article.account.credential_valid()):
        errors["channel"] = _("“%(field)s”领域需要有效的资质认证才能发布；资质过期后发布会暂停，续期后恢复。") % {
            "field": fields.display(field)
        }
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def submit(article: Article, *, by, at: datetime | None = None) -> Article:
    """The creator's "publish" button: trusted creators publish (or schedule) at once and are reviewed
    afterwards; everyone else waits for an editor."""
    check_publishable(article)
    if at is not None and at <= timezone.now():
        at = None
    if not is_trusted(article.account):
        article.scheduled_at = at
        article.save(update_fields=["scheduled_at"])
        return actions.submit_for_review(article)
    if at is not None:
        return actions.schedule(article, at=at)
    article.needs_review = True
    article.save(update_fields=["needs_review"])
    return actions.publish(article)
