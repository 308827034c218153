"""The publishing workflow: draft → pending → published / rejected / removed.

Every state change of an article goes through a function here: it validates, writes in a
transaction, keeps the account's counts right and purges the cached pages that show the article.
Each change first locks the article's row and reads its status from the database, so an editor's
takedown cannot be undone by a creator saving a page that was opened before it.
"""

import re
from collections.abc import Iterable
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from masthead.accounts import actions as account_actions
from masthead.accounts.models import Account
from masthead.articles import signals
from masthead.articles.body import clean_text, render_body
from masthead.articles.models import Article, Image, Tag
from masthead.web import pagecache

Status = Article.Status

# Which transitions the workflow allows (editors may remove from any visible state).
TRANSITIONS: dict[str, set[str]] = {
    Status.DRAFT: {Status.PENDING, Status.PUBLISHED, Status.SCHEDULED, Status.REMOVED},
    Status.PENDING: {Status.PUBLISHED, Status.SCHEDULED, Status.REJECTED, Status.DRAFT, Status.REMOVED},
    Status.SCHEDULED: {Status.PUBLISHED, Status.DRAFT, Status.REMOVED},
    Status.REJECTED: {Status.DRAFT, Status.PENDING, Status.REMOVED},
    Status.PUBLISHED: {Status.REMOVED, Status.DRAFT, Status.PENDING},
    Status.REMOVED: {Status.PUBLISHED},
}

EDITABLE_FIELDS = {
    "title", "channel", "summary", "cover", "source", "is_original", "is_fiction", "is_ai_generated",
    "is_news", "ip_region",
}  # fmt: skip
_TEXT_FIELDS = ("summary", "source", "ip_region")
SUMMARY_LENGTH = 120
MAX_TAGS = 10
_TAG_SEPARATORS_RE = re.compile(r"[,，、;；\n]")


def _one_line(value: str | None) -> str:
    return " ".join(clean_text(value).split())


def _clean_title(title: str) -> str:
    title = _one_line(title)
    if not title:
        raise ValidationError({"title": _("标题不能为空。")})
    if len(title) > 100:
        raise ValidationError({"title": _("标题最多 100 个字。")})
    return title


def clean_fields(account_id: int, fields: dict) -> dict:
    """Check the article's own fields: known names, text that fits its column, a cover the author may use."""
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise TypeError(f"unknown article fields: {sorted(unknown)}")
    if "title" in fields:
        fields["title"] = _clean_title(fields["title"])
    for name in fields.keys() & _TEXT_FIELDS:
        fields[name] = _one_line(fields[name])
        limit = Article._meta.get_field(name).max_length
        if len(fields[name]) > limit:
            label = Article._meta.get_field(name).verbose_name
            raise ValidationError({name: _("%(label)s最多 %(limit)s 个字。") % {"label": label, "limit": limit}})
    if "channel" in fields and fields["channel"] is None:
        raise ValidationError({"channel": _("请选择频道。")})
    cover: Image | None = fields.get("cover")
    if cover is not None and cover.account_id not in (None, account_id):
        raise ValidationError({"cover": _("只能使用自己上传的图片作封面。")})
    return fields


def tag_names(names: Iterable[str] | str) -> list[str]:
    """Trimmed, de-duplicated (ignoring case) tag names, at most MAX_TAGS; a string is split on commas."""
    if isinstance(names, str):
        names = _TAG_SEPARATORS_RE.split(names)
    seen: dict[str, str] = {}
    for name in names:
        name = _one_line(name).strip("#＃ ")
        name = name[: Tag._meta.get_field("name").max_length].strip()
        if name and name.casefold() not in seen:
            seen[name.casefold()] = name
    return list(seen.values())[:MAX_TAGS]


def set_tags(article: Article, names: Iterable[str] | str) -> None:
    cleaned = tag_names(names)
    existing = set(Tag.objects.filter(name__in=cleaned).values_list("name", flat=True))
    Tag.objects.bulk_create([Tag(name=n) for n in cleaned if n not in existing], ignore_conflicts=True)
    article.tags.set(Tag.objects.filter(name__in=cleaned))


def _auto_summary(text: str) -> str:
    return " ".join(text.split())[:SUMMARY_LENGTH]


def _apply_body(article: Article, body: str, *, summary_given: bool) -> list[int]:
    """Render the body; the summary follows it unless the author wrote one of their own."""
    was_auto = not article.summary or article.summary == _auto_summary(article.body_text)
    rendered = render_body(body, account_id=article.account_id)
    article.body_html = rendered.html
    article.body_text = rendered.text
    if not article.summary or (was_auto and not summary_given):
        article.summary = _auto_summary(rendered.text)
    return rendered.image_ids


def purge_pages(article: Article) -> None:
    """Invalidate the cached pages that show this article and tell listeners (search, 相关推荐) it changed."""
    pagecache.purge(f"article:{article.pk}", f"account:{article.account_id}")
    if article.status == Status.PUBLISHED or article.published_at:
        pagecache.purge("fronts")
    signals.article_changed.send(sender=Article, article=article)


def _lock(article: Article) -> None:
    """Lock the article's row for this transaction and take its current status from the database."""
    article.status = Article.objects.select_for_update().values_list("status", flat=True).get(pk=article.pk)


@transaction.atomic
def create_article(*, account: Account, body: str, tags: Iterable[str] | str = (), **fields) -> Article:
    """Create a draft. `body` is untrusted HTML; it is sanitised here."""
    fields.setdefault("title", "")
    fields.setdefault("channel", None)
    article = Article(account=account, **clean_fields(account.pk, fields))
    image_ids = _apply_body(article, body, summary_given=bool(fields.get("summary")))
    article.save()
    article.images.set(image_ids)
    set_tags(article, tags)
    return article


@transaction.atomic
def update_article(
    article: Article, *, body: str | None = None, tags: Iterable[str] | str | None = None, **fields
) -> Article:
    """Edit an article's content; its status, counters and publication time are not touched here."""
    fields = clean_fields(article.account_id, fields)
    _lock(article)
    if article.status == Status.REMOVED:
        raise ValidationError(_("已下架的文章不能编辑。"))
    for name, value in fields.items():
        setattr(article, name, value)
    image_ids = None if body is None else _apply_body(article, body, summary_given="summary" in fields)
    if not article.summary:
        article.summary = _auto_summary(article.body_text)
    body_fields = {"body_html", "body_text"} if body is not None else set()
    article.save(update_fields={*fields, *body_fields, "summary", "updated_at"})
    if image_ids is not None:
        article.images.set(image_ids)
    if tags is not None:
        set_tags(article, tags)
    transaction.on_commit(lambda: purge_pages(article))
    return article


@transaction.atomic
def refresh_figures(image: Image) -> int:
    """Render again the bodies that show `image`, after its caption, credit or label changed.
    Removed articles stay as they were taken down. Returns how many articles were updated."""
    articles = list(image.articles.exclude(status=Status.REMOVED))
    for article in articles:
        update_article(article, body=article.body_html)
    return len(articles)


def _transition(article: Article, target: str) -> None:
    _lock(article)
    if target not in TRANSITIONS.get(article.status, set()):
        raise ValidationError(
            _("文章当前状态为“%(status)s”，不能改为“%(target)s”。")
            % {"status": article.get_status_display(), "target": Status(target).label}
        )
    article.status = target


def _reason(reason: str, message: str) -> str:
    reason = _one_line(reason)
    if not reason:
        raise ValidationError({"removal_reason": message})
    limit = Article._meta.get_field("removal_reason").max_length
    if len(reason) > limit:
        raise ValidationError({"removal_reason": _("原因最多 %(limit)s 个字。") % {"limit": limit}})
    return reason


@transaction.atomic
def publish(article: Article, *, at: datetime | None = None) -> Article:
    """Publish now (or at the given past moment, e.g. for imports); the first publish time is kept."""
    _transition(article, Status.PUBLISHED)
    if article.published_at is None or at is not None:
        article.published_at = at or timezone.now()
    article.removal_reason = ""
    article.save(update_fields=["status", "published_at", "removal_reason", "updated_at"])
    account_actions.recount([article.account_id])
    transaction.on_commit(lambda: purge_pages(article))
    return article


@transaction.atomic
def schedule(article: Article, *, at: datetime) -> Article:
    """Publish later: `publish_due()` (run by the worker and from requests) publishes it on time."""
    _transition(article, Status.SCHEDULED)
    article.scheduled_at = at
    article.save(update_fields=["status", "scheduled_at", "updated_at"])
    return article


@transaction.atomic
def submit_for_review(article: Article) -> Article:
    """Wait for an editor. A published article sent back (a new creator's edit) leaves the site meanwhile."""
    was_published = article.status == Status.PUBLISHED
    _transition(article, Status.PENDING)
    article.removal_reason = ""
    article.save(update_fields=["status", "removal_reason", "updated_at"])
    if was_published:
        account_actions.recount([article.account_id])
        transaction.on_commit(lambda: purge_pages(article))
    return article


@transaction.atomic
def reject(article: Article, *, reason: str) -> Article:
    reason = _reason(reason, _("请填写不通过的原因。"))
    _transition(article, Status.REJECTED)
    article.removal_reason = reason
    article.save(update_fields=["status", "removal_reason", "updated_at"])
    return article


@transaction.atomic
def remove(article: Article, *, reason: str) -> Article:
    """Take an article down: readers get 410 with the reason instead of the content."""
    reason = _reason(reason, _("下架必须填写原因。"))
    _transition(article, Status.REMOVED)
    article.removal_reason = reason
    article.save(update_fields=["status", "removal_reason", "updated_at"])
    account_actions.recount([article.account_id])
    transaction.on_commit(lambda: purge_pages(article))
    return article
