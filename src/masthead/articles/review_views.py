"""The editor's article review: the queue of pending articles, the 先发后审 queue of articles trusted
creators published at once, a review page per article (as readers will see it) and per creator
account (level and credential). Every decision is a POST through an action in `workflow`."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST, require_safe

from masthead.accounts.models import Account, Badge
from masthead.accounts.roles import editor_required
from masthead.articles import queries, workflow
from masthead.articles.models import Article
from masthead.channels.queries import active_channels
from masthead.moderation.models import AuditEntry
from masthead.web.forms import add_errors

QUEUE_SIZE = 50
HISTORY_SIZE = 20
Status = Article.Status


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("原因"), max_length=workflow.REASON_LIMIT, widget=forms.Textarea(attrs={"rows": 2})
    )


class BadgeForm(forms.Form):
    badge = forms.TypedChoiceField(label=gettext_lazy("等级"), choices=Badge.choices, coerce=int)
    reason = forms.CharField(label=gettext_lazy("原因"), max_length=workflow.REASON_LIMIT)


class CredentialForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("资质名称"), max_length=60)
    expires_on = forms.DateField(label=gettext_lazy("有效期至"), widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label=gettext_lazy("备注"), max_length=workflow.REASON_LIMIT, required=False)


def _listing():
    return Article.objects.select_related("account", "channel").defer("body_html", "body_text")


@require_safe
@editor_required
def queue(request: HttpRequest) -> HttpResponse:
    pending = queries.review_queue()
    after = queries.post_review_queue()
    context = {
        "channels": active_channels,
        "pending": pending[:QUEUE_SIZE],
        "pending_count": pending.count(),
        "post_review": after[:QUEUE_SIZE],
        "post_review_count": after.count(),
    }
    return render(request, "articles/review/queue.html", context)


def _review_page(request: HttpRequest, article: Article, status: int = 200, **forms_) -> HttpResponse:
    history = AuditEntry.objects.filter(target_type="articles.article", target_id=str(article.pk))
    problems: list[str] = []
    if article.status in (Status.PENDING, Status.SCHEDULED):
        try:
            workflow.check_publishable(article)
        except ValidationError as exc:
            problems = exc.messages
    context = {
        "channels": active_channels,
        "article": article,
        "account": article.account,
        "history": history[:HISTORY_SIZE],
        "problems": problems,
        "reject_form": forms_.get("reject_form") or ReasonForm(prefix="reject"),
        "remove_form": forms_.get("remove_form") or ReasonForm(prefix="remove"),
        "now": timezone.now(),
    }
    return render(request, "articles/review/article.html", context, status=status)


def _article(pk: int) -> Article:
    qs = Article.objects.select_related("account", "channel", "cover").prefetch_related("tags")
    return get_object_or_404(qs, pk=pk)


@require_safe
@editor_required
def review(request: HttpRequest, pk: int) -> HttpResponse:
    return _review_page(request, _article(pk))


def _done(request: HttpRequest, message: str) -> HttpResponse:
    messages.success(request, message)
    return redirect("review_articles:queue")


def _refused(request: HttpRequest, article: Article, error: ValidationError) -> HttpResponse:
    for message in error.messages:
        messages.error(request, message)
    return redirect("review_articles:review", article.pk)


@require_POST
@editor_required
def approve(request: HttpRequest, pk: int) -> HttpResponse:
    article = _article(pk)
    try:
        workflow.approve(article, by=request.user)
    except ValidationError as exc:
        return _refused(request, article, exc)
    if article.status == Status.SCHEDULED:
        when = timezone.localtime(article.scheduled_at).strftime("%Y-%m-%d %H:%M")
        return _done(
            request, _("《%(title)s》已通过，将于 %(when)s 定时发布。") % {"title": article.title, "when": when}
        )
    return _done(request, _("《%(title)s》已通过并发布。") % {"title": article.title})


def _with_reason(request: HttpRequest, pk: int, prefix: str, action, done: str) -> HttpResponse:
    article = _article(pk)
    form = ReasonForm(request.POST, prefix=prefix)
    if form.is_valid():
        try:
            action(article, by=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            return _done(request, done % {"title": article.title})
    return _review_page(request, article, status=400, **{f"{prefix}_form": form})


@require_POST
@editor_required
def reject(request: HttpRequest, pk: int) -> HttpResponse:
    return _with_reason(request, pk, "reject", workflow.reject, _("《%(title)s》未通过，原因已告知作者。"))


@require_POST
@editor_required
def remove(request: HttpRequest, pk: int) -> HttpResponse:
    return _with_reason(request, pk, "remove", workflow.remove, _("《%(title)s》已下架。"))


@require_POST
@editor_required
def mark_reviewed(request: HttpRequest, pk: int) -> HttpResponse:
    article = _article(pk)
    try:
        workflow.mark_reviewed(article, by=request.user)
    except ValidationError as exc:
        return _refused(request, article, exc)
    return _done(request, _("《%(title)s》已复审。") % {"title": article.title})


def _account_page(request: HttpRequest, account: Account, status: int = 200, **forms_) -> HttpResponse:
    history = AuditEntry.objects.filter(target_type="accounts.account", target_id=str(account.pk))
    context = {
        "channels": active_channels,
        "account": account,
        "recent": _listing().filter(account=account).order_by("-updated_at", "-pk")[:10],
        "history": history[:HISTORY_SIZE],
        "badge_form": forms_.get("badge_form") or BadgeForm(initial={"badge": account.badge}),
        "credential_form": forms_.get("credential_form")
        or CredentialForm(initial={"name": account.credential_name, "expires_on": account.credential_expires_on}),
    }
    return render(request, "articles/review/account.html", context, status=status)


@require_safe
@editor_required
def account(request: HttpRequest, handle: str) -> HttpResponse:
    return _account_page(request, get_object_or_404(Account, handle=handle))


@require_POST
@editor_required
def badge(request: HttpRequest, handle: str) -> HttpResponse:
    target = get_object_or_404(Account, handle=handle)
    form = BadgeForm(request.POST)
    if form.is_valid():
        try:
            workflow.grant_badge(target, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(
                request,
                _("已将“%(name)s”的等级调整为“%(badge)s”。")
                % {"name": target.name, "badge": target.get_badge_display()},
            )
            return redirect(reverse("review_articles:account", args=[target.handle]))
    return _account_page(request, target, status=400, badge_form=form)


@require_POST
@editor_required
def credential(request: HttpRequest, handle: str) -> HttpResponse:
    target = get_object_or_404(Account, handle=handle)
    form = CredentialForm(request.POST)
    if form.is_valid():
        try:
            workflow.renew_credential(target, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, _("已更新“%(name)s”的资质。") % {"name": target.name})
            return redirect(reverse("review_articles:account", args=[target.handle]))
    return _account_page(request, target, status=400, credential_form=form)
