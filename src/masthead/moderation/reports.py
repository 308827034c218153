"""举报: readers report an article, a comment or a creator account; editors decide, reporters are told.

Every report names exactly one target. Open reports are worked per target: deciding a target decides
all of its open reports at once, so five readers reporting one article make one decision, one audit
entry and five notices. Upholding with a take-down removes the article (articles.workflow.remove) or
the comment (engagement.comments.remove_comment) with the decision as the reason the author and the
readers see; for an account it sets the account back to 新人, so that everything it posts next waits
for an editor before readers see it.
"""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Count, Min
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from masthead.accounts import notices, ratelimit, roles
from masthead.accounts.models import Account, Badge
from masthead.articles.models import Article
from masthead.engagement.comments import RateLimited
from masthead.engagement.models import Comment
from masthead.moderation import audit
from masthead.moderation.models import Report

Status = Report.Status
Category = Report.Category
KINDS: dict[str, type[models.Model]] = {"article": Article, "comment": Comment, "account": Account}
RATE_SCOPE = "report-user"
RATE_LIMIT = (10, 3600)  # new reports per user per hour (MASTHEAD_RATE_LIMITS overrides)
DECISION_LIMIT = 300  # the decision becomes the removal reason, which holds 300 characters
DETAILS_LIMIT = Report._meta.get_field("details").max_length


# --- targets ---------------------------------------------------------------------------------------


def kind_of(target: models.Model) -> str:
    for kind, model in KINDS.items():
        if isinstance(target, model):
            return kind
    raise TypeError(f"cannot report a {type(target).__name__}")


def target_filter(target: models.Model) -> dict:
    """The Report (or Appeal) filter that selects rows about `target`."""
    return {kind_of(target): target}


def owner_id(target: models.Model) -> int | None:
    """The user who wrote the target: the article's account owner, the comment's writer, the account's owner."""
    if isinstance(target, Article):
        return target.account.owner_id
    if isinstance(target, Comment):
        return target.user_id
    return target.owner_id


def title_of(target: models.Model) -> str:
    """A short human name for the target in notices and lists."""
    if isinstance(target, Article):
        return _("文章《%(title)s》") % {"title": target.title}
    if isinstance(target, Comment):
        body = " ".join(target.body.split())
        return _("跟帖“%(body)s”") % {"body": body[:20] + ("…" if len(body) > 20 else "")}
    return _("账号“%(name)s”") % {"name": target.name}


def is_reportable(target: models.Model) -> bool:
    """Only what readers can see can be reported (a draft's id must not answer differently from a missing one)."""
    if isinstance(target, Article):
        return target.status == Article.Status.PUBLISHED
    if isinstance(target, Comment):
        return target.status == Comment.Status.VISIBLE and target.article.status == Article.Status.PUBLISHED
    return True


def find_target(kind: str, pk) -> models.Model | None:
    model = KINDS.get(kind)
    if model is None:
        return None
    qs = model.objects.all()
    if model is Article:
        qs = qs.select_related("account", "channel")
    elif model is Comment:
        qs = qs.select_related("article__account", "user")
    try:
        return qs.filter(pk=int(pk)).first()
    except (TypeError, ValueError):
        return None


def _state(target: models.Model) -> dict:
    if isinstance(target, Account):
        return {"badge": target.badge}
    return {"status": target.status}


def _lock(target: models.Model) -> None:
    """Lock the target's row so two submissions about it are worked one after the other. A comment's
    article is locked first: engagement.comments takes the same locks in that order (no deadlock)."""
    if isinstance(target, Comment):
        Article.objects.select_for_update().filter(pk=target.article_id).values_list("pk").first()
    current = type(target).objects.select_for_update().get(pk=target.pk)
    for name in _state(target):
        setattr(target, name, getattr(current, name))


def _one_line(text: str) -> str:
    return " ".join((text or "").split())


# --- filing ----------------------------------------------------------------------------------------


def file_report(reporter, target: models.Model, category: str, details: str = "") -> Report:
    """File a reader's report, or return the reporter's open report on the same target (updated with
    this category and details), so a double submit or a second thought never makes a second report."""
    if not getattr(reporter, "is_authenticated", False):
        raise PermissionDenied(_("请先登录再举报。"))
    if category not in Category.values:
        raise ValidationError({"category": _("请选择举报类别。")})
    details = (details or "").strip()
    if len(details) > DETAILS_LIMIT:
        raise ValidationError({"details": _("详细说明最多 %(limit)s 个字。") % {"limit": DETAILS_LIMIT}})
    if owner_id(target) == reporter.pk:
        raise PermissionDenied(_("不能举报自己或自己发布的内容。"))
    with transaction.atomic():
        _lock(target)
        if not is_reportable(target):
            raise ValidationError(_("该内容已不再展示，无需举报。"))
        mine = Report.objects.select_for_update().filter(reporter=reporter, status=Status.OPEN, **target_filter(target))
        if existing := mine.first():
            if (existing.category, existing.details) != (category, details):
                existing.category, existing.details = category, details
                existing.save(update_fields=["category", "details"])
            return existing
        limit = ratelimit.hit(RATE_SCOPE, str(reporter.pk), *ratelimit.configured(RATE_SCOPE, *RATE_LIMIT))
        if not limit.allowed:
            raise RateLimited(limit.retry_after, _("举报太频繁了，请 %(wait)s 后再试。"))
        return Report.objects.create(reporter=reporter, category=category, details=details, **target_filter(target))


# --- deciding --------------------------------------------------------------------------------------


def _take_down(target: models.Model, *, by, reason: str) -> bool:
    """Remove the target (or restrict the account); False when it was already so."""
    if isinstance(target, Article):
        if target.status == Article.Status.REMOVED:
            return False
        from masthead.articles import workflow

        workflow.remove(target, by=by, reason=reason)
        link = reverse("reports:appeal-article", args=[target.pk])
        notices.notify(
            target.account.owner,
            "takedown",
            _("你的文章《%(title)s》已被下架，原因：%(reason)s。如有异议，可以申诉一次。")
            % {"title": target.title, "reason": reason},
            link,
        )
        return True
    if isinstance(target, Comment):
        if target.status in (Comment.Status.REMOVED, Comment.Status.DELETED):
            return False  # already gone (removed, or deleted by its writer)
        from masthead.engagement.comments import remove_comment

        remove_comment(target, by=by, reason=reason)
        target.refresh_from_db(fields=["status", "removal_reason"])
        return True
    if target.badge == Badge.NEWCOMER:
        return False
    from masthead.articles import workflow

    # 新人 accounts publish nothing without an editor's approval: the restriction a decision can make
    # without a model change (see docs/moderation.md).
    workflow.grant_badge(target, by=by, badge=Badge.NEWCOMER, reason=reason)
    return True


def decide(subject: Report | models.Model, *, by, outcome: str, decision: str, take_down: bool = False) -> list[Report]:
    """Decide every open report on a target (`subject` is one of its reports or the target itself).

    Returns the reports decided. Raises ValidationError when nothing is open any more (another editor
    was quicker, or the form was sent twice), PermissionDenied for non-editors and for an editor's
    own content.
    """
    if not roles.is_editor(by):
        raise PermissionDenied(_("只有编辑可以处理举报。"))
    target = subject.target if isinstance(subject, Report) else subject
    if outcome not in (Status.UPHELD, Status.DISMISSED):
        raise ValidationError({"outcome": _("请选择处理结果。")})
    if take_down and outcome != Status.UPHELD:
        raise ValidationError({"take_down": _("只有举报属实时才能下架。")})
    decision = _one_line(decision)
    if not decision:
        raise ValidationError({"decision": _("请填写处理意见，举报人会看到它。")})
    if len(decision) > DECISION_LIMIT:
        raise ValidationError({"decision": _("处理意见最多 %(limit)s 个字。") % {"limit": DECISION_LIMIT}})
    if owner_id(target) == by.pk:
        raise PermissionDenied(_("不能处理针对自己内容的举报。"))
    with transaction.atomic():
        _lock(target)
        reports = list(
            Report.objects.select_for_update()
            .filter(status=Status.OPEN, **target_filter(target))
            .select_related("reporter")
            .order_by("created_at", "pk")
        )
        if not reports:
            raise ValidationError(_("这里已经没有待处理的举报了（可能已由其他编辑处理）。"), code="nothing_open")
        before = {**_state(target), "reports": [r.pk for r in reports], "report_status": Status.OPEN}
        taken_down = _take_down(target, by=by, reason=decision) if take_down else False
        now = timezone.now()
        Report.objects.filter(pk__in=[r.pk for r in reports]).update(
            status=outcome, decision=decision, decided_by=by, decided_at=now
        )
        for report in reports:
            report.status, report.decision, report.decided_by, report.decided_at = outcome, decision, by, now
        after = {**_state(target), "report_status": outcome, "take_down": take_down, "taken_down": taken_down}
        action = "report.uphold" if outcome == Status.UPHELD else "report.dismiss"
        audit.record(by, action, target, reason=decision, before=before, after=after)
        _tell_reporters(reports, target, outcome, decision)
    return reports


def _tell_reporters(reports: list[Report], target: models.Model, outcome: str, decision: str) -> None:
    link = reverse("accounts:profile") + "#my-reports"
    if outcome == Status.UPHELD:
        text = _("你对%(target)s的举报已处理：举报属实。处理意见：%(decision)s")
    else:
        text = _("你对%(target)s的举报已处理：未发现违规。处理意见：%(decision)s")
    told = set()
    for report in reports:
        if report.reporter_id not in told:
            told.add(report.reporter_id)
            notices.notify(report.reporter, "report", text % {"target": title_of(target), "decision": decision}, link)


# --- the editors' queue ----------------------------------------------------------------------------


@dataclass
class Group:
    """The open reports on one target, as the queue shows them."""

    kind: str
    target: models.Model | None
    count: int
    first_at: object
    categories: list[tuple[str, int]]


def open_groups():
    """Open reports grouped by target, the longest-waiting target first (a values() queryset to page)."""
    return (
        Report.objects.filter(status=Status.OPEN)
        .values("article_id", "comment_id", "account_id")
        .annotate(n=Count("pk"), first_at=Min("created_at"))
        .order_by("first_at", "article_id", "comment_id", "account_id")
    )


def open_target_count() -> int:
    return open_groups().count()


def load_groups(rows) -> list[Group]:
    """Targets and per-category counts for one page of open_groups(): four queries whatever its size."""
    rows = list(rows)
    ids = {kind: [r[f"{kind}_id"] for r in rows if r[f"{kind}_id"]] for kind in KINDS}
    targets = {
        "article": Article.objects.select_related("account").defer("body_html", "body_text").in_bulk(ids["article"]),
        "comment": Comment.objects.select_related("article", "user").in_bulk(ids["comment"]),
        "account": Account.objects.in_bulk(ids["account"]),
    }
    per_category: dict[tuple, dict[str, int]] = {}
    if rows:
        counts = (
            Report.objects.filter(status=Status.OPEN)
            .filter(
                models.Q(article_id__in=ids["article"])
                | models.Q(comment_id__in=ids["comment"])
                | models.Q(account_id__in=ids["account"])
            )
            .values("article_id", "comment_id", "account_id", "category")
            .annotate(n=Count("pk"))
        )
        for c in counts:
            key = (c["article_id"], c["comment_id"], c["account_id"])
            per_category.setdefault(key, {})[c["category"]] = c["n"]
    labels = dict(Category.choices)
    groups = []
    for r in rows:
        kind = next(k for k in KINDS if r[f"{k}_id"])
        key = (r["article_id"], r["comment_id"], r["account_id"])
        cats = sorted(per_category.get(key, {}).items(), key=lambda item: -item[1])
        groups.append(
            Group(
                kind=kind,
                target=targets[kind].get(r[f"{kind}_id"]),
                count=r["n"],
                first_at=r["first_at"],
                categories=[(labels.get(c, c), n) for c, n in cats],
            )
        )
    return groups
