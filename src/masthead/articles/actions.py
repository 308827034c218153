"""The publishing workflow: draft → pending → published / rejected / removed.

Every state change of an article goes through a function here: it validates, writes in a
transaction, keeps the account's counts right and purges the cached pages that show the article.
"""

from collections.abc import Iterable
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from masthead.accounts import actions as account_actions
from masthead.articles.body import render_body
from masthead.articles.models import Article, Tag
from masthead.web import pagecache

Status = Article.Status

# Which transitions the workflow allows (editors may remove from any visible state).
TRANSITIONS: dict[str, set[str]] = {
    Status.DRAFT: {Status.PENDING, Status.PUBLISHED, Status.REMOVED},
    Status.PENDING: {Status.PUBLISHED, Status.REJECTED, Status.DRAFT, Status.REMOVED},
    Status.REJECTED: {Status.DRAFT, Status.PENDING, Status.REMOVED},
    Status.PUBLISHED: {Status.REMOVED, Status.DRAFT},
    Status.REMOVED: {Status.PUBLISHED},
}

EDITABLE_FIELDS = {
    "title", "channel", "summary", "cover", "source", "is_original", "is_fiction", "is_ai_generated",
    "ip_region",
}  # fmt: skip


def _clean_title(title: str) -> str:
    title = " ".join((title or "").split())
    if not title:
        raise ValidationError({"title": _("标题不能为空。")})
    if len(title) > 100:
        raise ValidationError({"title": _("标题最多 100 个字。")})
    return title


def set_tags(article: Article, names: Iterable[str]) -> None:
    cleaned = list(dict.fromkeys(n.strip()[:20] for n in names if n and n.strip()))[:10]
    existing = {t.name: t for t in Tag.objects.filter(name__in=cleaned)}
    missing = [Tag(name=n) for n in cleaned if n not in existing]
    Tag.objects.bulk_create(missing, ignore_conflicts=True)
    article.tags.set(Tag.objects.filter(name__in=cleaned))


def _apply_body(article: Article, body: str) -> list[int]:
    rendered = render_body(body, account_id=article.account_id)
    article.body_html = rendered.html
    article.body_text = rendered.text
    if not article.summary:
        article.summary = rendered.text[:120]
    return rendered.image_ids


def purge_pages(article: Article) -> None:
    """Invalidate the cached pages that show this article."""
    pagecache.purge(f"article:{article.pk}", f"account:{article.account_id}")
    if article.status == Status.PUBLISHED or article.published_at:
        pagecache.purge("fronts")


@transaction.atomic
def create_article(*, account, body: str, tags: Iterable[str] = (), **fields) -> Article:
    """Create a draft. `body` is untrusted HTML; it is sanitised here."""
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise TypeError(f"unknown article fields: {sorted(unknown)}")
    fields["title"] = _clean_title(fields.get("title", ""))
    article = Article(account=account, **fields)
    image_ids = _apply_body(article, body)
    article.save()
    article.images.set(image_ids)
    set_tags(article, tags)
    return article


@transaction.atomic
def update_article(article: Article, *, body: str | None = None, tags: Iterable[str] | None = None, **fields):
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise TypeError(f"unknown article fields: {sorted(unknown)}")
    if article.status == Status.REMOVED:
        raise ValidationError(_("已下架的文章不能编辑。"))
    if "title" in fields:
        fields["title"] = _clean_title(fields["title"])
    for name, value in fields.items():
        setattr(article, name, value)
    image_ids = _apply_body(article, body) if body is not None else None
    article.save()
    if image_ids is not None:
        article.images.set(image_ids)
    if tags is not None:
        set_tags(article, tags)
    transaction.on_commit(lambda: purge_pages(article))
    return article


def _transition(article: Article, target: str) -> None:
    if target not in TRANSITIONS.get(article.status, set()):
        raise ValidationError(
            _("文章当前状态为“%(status)s”，不能改为“%(target)s”。")
            % {"status": article.get_status_display(), "target": Status(target).label}
        )
    article.status = target


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
def submit_for_review(article: Article) -> Article:
    _transition(article, Status.PENDING)
    article.save(update_fields=["status", "updated_at"])
    return article


@transaction.atomic
def reject(article: Article, *, reason: str) -> Article:
    if not reason.strip():
        raise ValidationError(_("请填写不通过的原因。"))
    _transition(article, Status.REJECTED)
    article.removal_reason = reason.strip()
    article.save(update_fields=["status", "removal_reason", "updated_at"])
    return article


@transaction.atomic
def remove(article: Article, *, reason: str) -> Article:
    """Take an article down: readers get 410 with the reason instead of the content."""
    if not reason.strip():
        raise ValidationError(_("下架必须填写原因。"))
    _transition(article, Status.REMOVED)
    article.removal_reason = reason.strip()
    article.save(update_fields=["status", "removal_reason", "updated_at"])
    account_actions.recount([article.account_id])
    transaction.on_commit(lambda: purge_pages(article))
    return article
