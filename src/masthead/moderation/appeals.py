"""申诉: the author of a removed article or comment may appeal once; an editor grants (the content is
restored) or denies (the takedown stands). One appeal per article or comment, ever: the model's
one-to-one field makes a second one impossible, and a double submit returns the first.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from masthead.accounts import notices, roles
from masthead.articles import actions as article_actions
from masthead.articles.models import Article
from masthead.engagement.models import Comment
from masthead.moderation import audit
from masthead.moderation.models import Appeal
from masthead.moderation.reports import DECISION_LIMIT, _one_line, owner_id, target_filter, title_of

Status = Appeal.Status
TEXT_LIMIT = Appeal._meta.get_field("text").max_length
REASON_LIMIT = Appeal._meta.get_field("takedown_reason").max_length


def is_removed(target: models.Model) -> bool:
    if isinstance(target, Article):
        return target.status == Article.Status.REMOVED
    return target.status == Comment.Status.REMOVED


def appeal_of(target: models.Model) -> Appeal | None:
    return Appeal.objects.filter(**target_filter(target)).first()


def page_url(target: models.Model) -> str:
    """The author's page for the target's takedown: the reason, the appeal form or its status."""
    if isinstance(target, Article):
        return reverse("reports:appeal-article", args=[target.pk])
    return reverse("reports:appeal-comment", args=[target.pk])


def _lock(target: models.Model) -> None:
    if isinstance(target, Comment):  # article first, as engagement.comments locks them
        Article.objects.select_for_update().filter(pk=target.article_id).values_list("pk").first()
    target.status = type(target).objects.select_for_update().values_list("status", flat=True).get(pk=target.pk)


def appeal(user, target: Article | Comment, text: str) -> Appeal:
    """The author appeals a takedown. A second appeal is refused; the same text sent again (a double
    submit) returns the first appeal."""
    if not getattr(user, "is_authenticated", False):
        raise PermissionDenied(_("请先登录。"))
    if not isinstance(target, Article | Comment):
        raise TypeError(f"cannot appeal a {type(target).__name__}")
    if owner_id(target) != user.pk:
        raise PermissionDenied(_("只有作者本人可以申诉。"))
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": _("请写明申诉理由。")})
    if len(text) > TEXT_LIMIT:
        raise ValidationError({"text": _("申诉理由最多 %(limit)s 个字。") % {"limit": TEXT_LIMIT}})
    with transaction.atomic():
        _lock(target)
        if existing := appeal_of(target):
            if existing.text == text and existing.appellant_id == user.pk:
                return existing
            raise ValidationError(
                _("每条被下架的内容只能申诉一次。你已于 %(when)s 提交过申诉，当前状态：%(status)s。")
                % {
                    "when": timezone.localtime(existing.created_at).strftime("%Y-%m-%d %H:%M"),
                    "status": existing.get_status_display(),
                },
                code="already_appealed",
            )
        if not is_removed(target):
            raise ValidationError(_("只有被下架或移除的内容才能申诉。"))
        try:
            with transaction.atomic():
                return Appeal.objects.create(
                    appellant=user,
                    takedown_reason=(target.removal_reason or "")[:REASON_LIMIT],
                    text=text,
                    **target_filter(target),
                )
        except IntegrityError:  # a concurrent submit won the one-to-one row (SQLite without row locks)
            existing = appeal_of(target)
            if existing is not None and existing.text == text:
                return existing
            raise ValidationError(_("每条被下架的内容只能申诉一次。"), code="already_appealed") from None


def _restore(target: Article | Comment, *, by, reason: str) -> None:
    if isinstance(target, Article):
        # The editor's grant is the approval: actions.publish is the only way out of REMOVED, and it
        # clears the removal reason, recounts the account and purges the cached pages.
        if target.status == Article.Status.REMOVED:
            article_actions.publish(target)
        return
    if target.status == Comment.Status.REMOVED:
        from masthead.engagement.comments import restore_comment

        restore_comment(target, by=by, reason=reason)
        target.refresh_from_db(fields=["status", "removal_reason"])


def decide_appeal(appeal: Appeal, *, by, grant: bool, decision: str) -> Appeal:
    """Grant (restore the content) or deny an appeal, with the reason the appellant sees."""
    if not roles.is_editor(by):
        raise PermissionDenied(_("只有编辑可以处理申诉。"))
    if appeal.appellant_id == by.pk:
        raise PermissionDenied(_("不能处理自己的申诉。"))
    decision = _one_line(decision)
    if not decision:
        raise ValidationError({"decision": _("请填写处理意见，申诉人会看到它。")})
    if len(decision) > DECISION_LIMIT:
        raise ValidationError({"decision": _("处理意见最多 %(limit)s 个字。") % {"limit": DECISION_LIMIT}})
    with transaction.atomic():
        current = Appeal.objects.select_for_update().get(pk=appeal.pk)
        if current.status != Status.PENDING:
            raise ValidationError(_("这份申诉已经处理过了。"))
        target = current.target
        _lock(target)
        before = {"appeal": current.pk, "appeal_status": current.status, "status": target.status}
        if grant:
            _restore(target, by=by, reason=decision)
        appeal.status = Status.GRANTED if grant else Status.DENIED
        appeal.decision, appeal.decided_by, appeal.decided_at = decision, by, timezone.now()
        appeal.save(update_fields=["status", "decision", "decided_by", "decided_at"])
        after = {"appeal": appeal.pk, "appeal_status": appeal.status, "status": target.status}
        audit.record(
            by, "appeal.grant" if grant else "appeal.deny", target, reason=decision, before=before, after=after
        )
        if grant:
            text = _("你对%(target)s的申诉已通过，内容已恢复。处理意见：%(decision)s")
        else:
            text = _("你对%(target)s的申诉未通过，维持原决定。处理意见：%(decision)s")
        notices.notify(
            appeal.appellant, "appeal", text % {"target": title_of(target), "decision": decision}, page_url(target)
        )
    return appeal
