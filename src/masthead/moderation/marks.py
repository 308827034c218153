"""Editors' marks on an article: 谣言 (rumour) or 争议 (disputed), a link to the article that sets the
record straight, and limited reach.

A marked article stays readable, with a notice at the top of its page (and, for a rumour, the link to
the debunking article). Limited reach takes it out of the hot list and recommendations (discovery reads
``Article.reach_limited``). Every change is audited with before/after and the editor's reason, and the
author is told.
"""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from masthead.accounts import notices
from masthead.accounts.roles import is_editor
from masthead.articles import actions
from masthead.articles.models import Article, Mark
from masthead.moderation import audit
from masthead.web import pagecache

REASON_LIMIT = 300


@dataclass(frozen=True)
class MarkState:
    mark: str
    note: str
    debunked_by: int | None
    reach_limited: bool

    @classmethod
    def of(cls, article: Article) -> "MarkState":
        return cls(article.mark, article.mark_note, article.debunked_by_id, article.reach_limited)

    def as_dict(self) -> dict:
        return {
            "mark": self.mark,
            "mark_note": self.note,
            "debunked_by": self.debunked_by,
            "reach_limited": self.reach_limited,
        }


def _one_line(value: str, limit: int, field: str, label: str) -> str:
    value = " ".join((value or "").split())
    if len(value) > limit:
        raise ValidationError({field: _("%(label)s最多 %(limit)s 个字。") % {"label": label, "limit": limit}})
    return value


def _check_debunker(article: Article, debunked_by: Article | None, mark: str) -> None:
    if debunked_by is None:
        return
    if not mark:
        raise ValidationError({"debunked_by": _("只有标记为谣言或争议的文章才能关联辟谣文章。")})
    if debunked_by.pk == article.pk:
        raise ValidationError({"debunked_by": _("辟谣文章不能是这篇文章本身。")})
    if debunked_by.status != Article.Status.PUBLISHED:
        raise ValidationError({"debunked_by": _("辟谣文章必须是已发布的文章。")})
    if debunked_by.mark:
        raise ValidationError({"debunked_by": _("辟谣文章本身带有谣言或争议标记，不能用来辟谣。")})


def _notice_text(article: Article, state: MarkState) -> str:
    if state.mark == Mark.RUMOUR:
        text = _("你的文章《%(title)s》已被编辑标记为谣言。") % {"title": article.title}
    elif state.mark == Mark.DISPUTED:
        text = _("你的文章《%(title)s》已被编辑标记为内容存在争议。") % {"title": article.title}
    elif state.reach_limited:
        text = _("你的文章《%(title)s》已被限制推荐。") % {"title": article.title}
    else:
        text = _("你的文章《%(title)s》的标记已被编辑撤销。") % {"title": article.title}
    if state.mark and state.reach_limited:
        text += _("此文不再进入热榜和推荐。")
    if state.note:
        text += _("说明：%(note)s") % {"note": state.note}
    return text


def set_mark(
    article: Article,
    *,
    by,
    mark: str,
    note: str = "",
    debunked_by: Article | None = None,
    reach_limited: bool = False,
    reason: str = "",
) -> Article:
    """Set (or clear, with ``mark=""``) the editors' mark of an article. Editors only; the reason is
    required and recorded. Setting what is already set changes nothing and records nothing."""
    if not is_editor(by):
        raise PermissionDenied(_("只有编辑可以标记文章。"))
    if mark not in Mark.values:
        raise ValidationError({"mark": _("标记无效。")})
    note = _one_line(note, Article._meta.get_field("mark_note").max_length, "note", _("标记说明"))
    reason = _one_line(reason, REASON_LIMIT, "reason", _("理由"))
    if not mark:  # clearing the mark clears what belongs to it
        note, debunked_by = "", None
    _check_debunker(article, debunked_by, mark)
    wanted = MarkState(mark, note, debunked_by.pk if debunked_by else None, bool(reach_limited))
    with transaction.atomic():
        current = Article.objects.select_for_update().get(pk=article.pk)
        before = MarkState.of(current)
        if before == wanted:
            return article  # a double submit, or nothing changed
        if not reason:
            raise ValidationError({"reason": _("请填写理由，它会记入审计日志。")})
        if (wanted.mark or wanted.reach_limited) and current.status != Article.Status.PUBLISHED:
            raise ValidationError(_("只能标记已发布的文章。"))
        article.status = current.status
        article.mark, article.mark_note, article.reach_limited = wanted.mark, wanted.note, wanted.reach_limited
        article.debunked_by = debunked_by
        article.save(update_fields=["mark", "mark_note", "debunked_by", "reach_limited", "updated_at"])
        audit.record(by, "article.mark", article, reason=reason, before=before.as_dict(), after=wanted.as_dict())
        owner = article.account.owner if article.account.owner_id else None
        notices.notify(owner, "article.mark", _notice_text(article, wanted), article.get_absolute_url())

        def purge() -> None:
            pagecache.purge("fronts")  # the hot list and recommendations drop (or take back) the article
            actions.purge_pages(article)  # its page and its account's, and article_changed for discovery

        transaction.on_commit(purge)
    return article


def marked_articles() -> QuerySet[Article]:
    """Articles carrying a mark or limited reach, most recently changed first (for the editors' list)."""
    return (
        Article.objects.filter(Q(mark__gt="") | Q(reach_limited=True))
        .select_related("account", "debunked_by")
        .defer("body_html", "body_text", "debunked_by__body_html", "debunked_by__body_text")
        .order_by("-updated_at", "-id")
    )
