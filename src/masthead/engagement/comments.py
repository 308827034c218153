"""Comments (跟帖): every state change of a comment goes through a function here.

Each function validates, writes in one transaction, keeps the counters right (Article.comment_count,
Comment.reply_count, Comment.like_count are recounted from the rows under a row lock, never
incremented), records editors' decisions in the audit log, tells the writer what happened to their
comment, and purges the cached article page after commit. See docs/comments.md for the rules.

Lock order, to keep concurrent actions from deadlocking: the article's row, then comment rows.
"""

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from masthead.accounts import ratelimit, regions, roles
from masthead.accounts.notices import notify
from masthead.articles.models import Article
from masthead.engagement.models import Comment, CommentLike
from masthead.moderation import audit, screening
from masthead.web import pagecache

Status = Comment.Status
BODY_MAX = 1000
REASON_MAX = 300
TOKEN_MAX = 40

# (scope, limit, window in seconds); each can be changed with MASTHEAD_RATE_LIMITS.
POST_LIMITS_USER = (("comment-user-minute", 5, 60), ("comment-user-day", 60, 24 * 3600))
POST_LIMITS_IP = (("comment-ip-minute", 20, 60), ("comment-ip-day", 300, 24 * 3600))
LIKE_LIMIT_USER = ("comment-like-user", 60, 60)


class RateLimited(ValidationError):
    """Refused for going too fast; `retry_after` seconds until the next attempt can succeed.

    Other limits (reactions, reports) raise it too, with their own `message` (a %(wait)s format), so
    every client answers them alike: the pages and the API with 429 and Retry-After."""

    def __init__(self, retry_after: int, message: str | None = None) -> None:
        self.retry_after = retry_after
        message = message or _("发帖太频繁了，请 %(wait)s后再试。")
        super().__init__(message % {"wait": ratelimit.describe_wait(retry_after)}, code="rate_limited")


# --- helpers ----------------------------------------------------------------------------------------------


def _require_reader(user) -> None:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        raise PermissionDenied(_("请先登录。"))


def is_article_author(user, article: Article) -> bool:
    """Whether `user` owns the creator account the article is published under."""
    if not getattr(user, "is_authenticated", False):
        return False
    account = roles.creator_account(user)
    return account is not None and account.pk == article.account_id


def can_remove(user, comment: Comment) -> bool:
    """The article's author and editors may remove comments under it."""
    return roles.is_editor(user) or is_article_author(user, comment.article)


def _require_editor(user) -> None:
    if not roles.is_editor(user):
        raise PermissionDenied(_("只有编辑可以进行此操作。"))


def _clean_reason(reason: str) -> str:
    reason = " ".join((reason or "").split())
    if not reason:
        raise ValidationError({"reason": _("请填写原因。")})
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": _("原因最多 %(limit)s 个字。") % {"limit": REASON_MAX}})
    return reason


def _snapshot(comment: Comment) -> dict:
    return {"status": comment.status, "removal_reason": comment.removal_reason}


def _lock_article(article_id: int) -> Article:
    # NO KEY UPDATE: does not wait for the key-share locks that inserting a comment or like takes.
    return Article.objects.select_for_update(no_key=True).get(pk=article_id)


def _lock_comment(comment: Comment) -> Comment:
    """Lock the comment's row and refresh it in place (another request may have changed it)."""
    current = Comment.objects.select_for_update(no_key=True).get(pk=comment.pk)
    for name in ("status", "removal_reason", "removed_by_id", "like_count", "reply_count"):
        setattr(comment, name, getattr(current, name))
    return comment


def recount(article_id: int, thread_ids: list[int] | None = None) -> None:
    """Recompute the article's comment_count (visible comments) and the threads' reply_count (visible
    replies) from the rows. Call with the article's row locked (all writers take that lock first)."""
    visible = Comment.objects.filter(status=Status.VISIBLE).order_by()
    Article.objects.filter(pk=article_id).update(
        comment_count=Coalesce(
            Subquery(visible.filter(article=OuterRef("pk")).values("article").annotate(n=Count("pk")).values("n")),
            0,
        )
    )
    if thread_ids:
        Comment.objects.filter(pk__in=thread_ids).update(
            reply_count=Coalesce(
                Subquery(visible.filter(thread=OuterRef("pk")).values("thread").annotate(n=Count("pk")).values("n")),
                0,
            )
        )


def _recount_likes(comment: Comment) -> int:
    """Recompute like_count from the likes (the comment's row is locked by the caller)."""
    count = CommentLike.objects.filter(comment=comment).count()
    Comment.objects.filter(pk=comment.pk).update(like_count=count)
    comment.like_count = count
    return count


def _purge(article_id: int) -> None:
    pagecache.purge(f"article:{article_id}")  # waits for the commit by itself


def _counts_changed(comment: Comment) -> None:
    recount(comment.article_id, [comment.thread_id] if comment.thread_id else None)
    _purge(comment.article_id)


def appeal_url(comment: Comment) -> str:
    try:
        return reverse("reports:appeal-comment", args=[comment.pk])
    except NoReverseMatch:  # the appeals app is optional for this module
        return ""


def comment_url(comment: Comment) -> str:
    return reverse("comments:thread", args=[comment.article_id, comment.thread_id or comment.pk]) + f"#c{comment.pk}"


# --- posting ----------------------------------------------------------------------------------------------


def _check_rate(user, ip: str) -> None:
    rules = [(rule, str(user.pk)) for rule in POST_LIMITS_USER]
    if ip:
        rules += [(rule, ip) for rule in POST_LIMITS_IP]
    waits = []
    for (scope, limit, window), key in rules:
        limit, window = ratelimit.configured(scope, limit, window)
        result = ratelimit.peek(scope, key, limit, window)
        if not result.allowed:
            waits.append(result.retry_after)
    if waits:
        raise RateLimited(max(waits))


def _count_post(user, ip: str) -> None:
    rules = [(rule, str(user.pk)) for rule in POST_LIMITS_USER]
    if ip:
        rules += [(rule, ip) for rule in POST_LIMITS_IP]
    for (scope, limit, window), key in rules:
        ratelimit.hit(scope, key, *ratelimit.configured(scope, limit, window))


def _existing(user, client_token: str) -> Comment | None:
    if not client_token:
        return None
    return Comment.objects.filter(user=user, client_token=client_token).first()


def post_comment(
    user: AbstractBaseUser,
    article: Article,
    body: str,
    *,
    reply_to: Comment | None = None,
    client_token: str = "",
    region: str = "",
    ip: str = "",
) -> Comment:
    """Post a comment, or a reply to `reply_to`. The same `client_token` twice returns the first comment.

    Raises ValidationError (keys "body", "reply_to", "__all__"), RateLimited, or PermissionDenied.
    A comment hitting a 'review' term is saved HELD: only its writer and editors see it until an
    editor decides.
    """
    _require_reader(user)
    client_token = (client_token or "").strip()[:TOKEN_MAX]
    if (first := _existing(user, client_token)) is not None:
        return first  # a double submit: the first one counts, nothing else happens
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": _("请输入跟帖内容。")})
    if len(body) > BODY_MAX:
        raise ValidationError(
            {"body": _("跟帖最多 %(limit)s 个字，现在是 %(n)s 个字。") % {"limit": BODY_MAX, "n": len(body)}}
        )
    if article.status != Article.Status.PUBLISHED:
        raise ValidationError(_("这篇文章未发布或已下架，不能跟帖。"))
    if reply_to is not None and (reply_to.article_id != article.pk or reply_to.status != Status.VISIBLE):
        raise ValidationError({"reply_to": _("要回复的跟帖已不存在。")})
    _check_rate(user, ip)
    held = screening.check(body, _("跟帖"), field="body")

    with transaction.atomic():
        locked = _lock_article(article.pk)
        if locked.status != Article.Status.PUBLISHED:  # taken down while the form was open
            raise ValidationError(_("这篇文章未发布或已下架，不能跟帖。"))
        thread_id = None
        if reply_to is not None:
            # Replies stay one level deep: a reply to a reply joins the same thread.
            current = Comment.objects.filter(pk=reply_to.pk).values_list("status", "thread_id").first()
            if current is None or current[0] != Status.VISIBLE:
                raise ValidationError({"reply_to": _("要回复的跟帖已不存在。")})
            thread_id = current[1] or reply_to.pk
        try:
            with transaction.atomic():  # savepoint: the unique token may lose a race to a double submit
                comment = Comment.objects.create(
                    article_id=article.pk,
                    user=user,
                    thread_id=thread_id,
                    reply_to=reply_to,
                    body=body,
                    status=Status.HELD if held else Status.VISIBLE,
                    ip_region=(region or "")[:20],
                    client_token=client_token,
                )
        except IntegrityError:
            first = _existing(user, client_token)
            if first is None:
                raise
            return first
        if not held:
            _counts_changed(comment)
    _count_post(user, ip)
    record_activity = getattr(regions, "record_activity", None)
    if record_activity is not None:
        record_activity(user, region)
    return comment


# --- the writer -------------------------------------------------------------------------------------------


def delete_own(user, comment: Comment) -> Comment:
    """The writer deletes their comment; it stays as a placeholder so replies keep their context."""
    _require_reader(user)
    if comment.user_id != user.pk:
        raise PermissionDenied(_("只能删除自己的跟帖。"))
    with transaction.atomic():
        _lock_article(comment.article_id)
        _lock_comment(comment)
        if comment.status == Status.DELETED:
            return comment
        if comment.status == Status.REMOVED:
            raise ValidationError(_("该跟帖已被移除。"))
        was_visible = comment.status == Status.VISIBLE
        comment.status = Status.DELETED
        comment.save(update_fields=["status"])
        if was_visible:
            _counts_changed(comment)
    return comment


# --- the article's author and editors ---------------------------------------------------------------------


def _take_down(comment: Comment, *, by, reason: str, action: str) -> Comment:
    reason = _clean_reason(reason)
    by_editor = roles.is_editor(by)
    with transaction.atomic():
        _lock_article(comment.article_id)
        _lock_comment(comment)
        if comment.status == Status.REMOVED:
            return comment  # a double submit, or two editors at once: the first decision stands
        if comment.status == Status.DELETED:
            raise ValidationError(_("该跟帖已被作者删除。"))
        before = _snapshot(comment)
        was_visible = comment.status == Status.VISIBLE
        comment.status, comment.removal_reason, comment.removed_by = Status.REMOVED, reason, by
        comment.save(update_fields=["status", "removal_reason", "removed_by"])
        title = comment.article.title
        if by_editor:
            audit.record(by, action, comment, reason=reason, before=before, after=_snapshot(comment))
            notify(
                comment.user,
                "comment.removed",
                _("你在《%(title)s》下的跟帖已被编辑移除，原因：%(reason)s。如有异议，可以申诉一次。")
                % {"title": title, "reason": reason},
                appeal_url(comment),
            )
        else:
            notify(
                comment.user,
                "comment.removed",
                _("你在《%(title)s》下的跟帖已被文章作者移除，原因：%(reason)s。") % {"title": title, "reason": reason},
                comment_url(comment),
            )
        if was_visible:
            _counts_changed(comment)
    return comment


def remove_comment(comment: Comment, *, by, reason: str) -> Comment:
    """The article's author or an editor removes a comment, with a reason shown in its place."""
    _require_reader(by)
    if not can_remove(by, comment):
        raise PermissionDenied(_("只有文章作者和编辑可以移除跟帖。"))
    return _take_down(comment, by=by, reason=reason, action="comment.remove")


def reject_held(comment: Comment, *, by, reason: str) -> Comment:
    """An editor refuses a held comment: it becomes removed, with the reason (the writer may appeal)."""
    _require_editor(by)
    if comment.status not in (Status.HELD, Status.REMOVED):
        raise ValidationError(_("该跟帖不在待审核状态。"))
    return _take_down(comment, by=by, reason=reason, action="comment.reject")


def approve_held(comment: Comment, *, by) -> Comment:
    """An editor lets a held comment through."""
    _require_editor(by)
    with transaction.atomic():
        _lock_article(comment.article_id)
        _lock_comment(comment)
        if comment.status == Status.VISIBLE:
            return comment
        if comment.status != Status.HELD:
            raise ValidationError(_("该跟帖不在待审核状态。"))
        before = _snapshot(comment)
        comment.status = Status.VISIBLE
        comment.save(update_fields=["status"])
        audit.record(by, "comment.approve", comment, before=before, after=_snapshot(comment))
        notify(
            comment.user,
            "comment.approved",
            _("你在《%(title)s》下的跟帖已通过审核。") % {"title": comment.article.title},
            comment_url(comment),
        )
        _counts_changed(comment)
    return comment


def restore_comment(comment: Comment, *, by, reason: str) -> Comment:
    """An editor puts a removed comment back (e.g. when its appeal is granted). The appeal's decision
    tells the writer; this function does not, so a granted appeal sends one message, not two."""
    _require_editor(by)
    reason = _clean_reason(reason)
    with transaction.atomic():
        _lock_article(comment.article_id)
        _lock_comment(comment)
        if comment.status == Status.VISIBLE:
            return comment
        if comment.status != Status.REMOVED:
            raise ValidationError(_("只能恢复已移除的跟帖。"))
        before = _snapshot(comment)
        comment.status, comment.removal_reason, comment.removed_by = Status.VISIBLE, "", None
        comment.save(update_fields=["status", "removal_reason", "removed_by"])
        audit.record(by, "comment.restore", comment, reason=reason, before=before, after=_snapshot(comment))
        _counts_changed(comment)
    return comment


# --- likes ------------------------------------------------------------------------------------------------


def set_like(user, comment: Comment, on: bool) -> int:
    """Like (on=True) or unlike a comment; repeating either is harmless. Returns the new like count.

    Likes do not purge the cached article page: like counts may lag for anonymous readers by up to
    the page cache's lifetime, which spares a popular article from being re-rendered on every click.
    """
    _require_reader(user)
    if comment.user_id == user.pk:
        raise ValidationError(_("不能给自己的跟帖点赞。"))
    scope, limit, window = LIKE_LIMIT_USER
    result = ratelimit.hit(scope, str(user.pk), *ratelimit.configured(scope, limit, window))
    if not result.allowed:
        raise RateLimited(result.retry_after)
    with transaction.atomic():
        _lock_comment(comment)
        if on:
            if comment.status != Status.VISIBLE:
                raise ValidationError(_("该跟帖已不存在。"))
            _like, created = CommentLike.objects.get_or_create(user=user, comment=comment)
        else:
            created = CommentLike.objects.filter(user=user, comment=comment).delete()[0] > 0
        return _recount_likes(comment) if created else comment.like_count


def liked_ids(user, comment_ids: list[int]) -> set[int]:
    """Which of these comments the user likes (one query; none for anonymous readers)."""
    if not getattr(user, "is_authenticated", False) or not comment_ids:
        return set()
    return set(CommentLike.objects.filter(user=user, comment_id__in=comment_ids).values_list("comment_id", flat=True))


def visible_to(user, comment: Comment) -> bool:
    """Whether `user` may see the comment's text (held ones: only the writer and editors)."""
    if comment.status == Status.VISIBLE:
        return True
    if comment.status == Status.HELD:
        return getattr(user, "pk", None) == comment.user_id or roles.is_editor(user)
    return False
