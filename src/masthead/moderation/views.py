"""Editors' pages: the review hub, the queue of applications to join, and the audit log (read-only)."""

import re

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_safe

from masthead.accounts import applications as actions
from masthead.accounts import avatars
from masthead.accounts.join_forms import DecisionForm
from masthead.accounts.models import Account, Application
from masthead.accounts.roles import editor_required
from masthead.articles.models import Article
from masthead.channels.queries import active_channels
from masthead.engagement.models import Comment
from masthead.moderation import reports
from masthead.moderation.models import Appeal, AuditEntry

QUEUE_PAGE_SIZE = 30
AUDIT_PAGE_SIZE = 50
# The article queue is the articles app's (masthead/urls.py mounts it at review/articles/); the queues
# of held comments, the hot list and rumour marks belong to other features, linked by their fixed paths.
ARTICLES_QUEUE_URL = "/review/articles/"
COMMENTS_QUEUE_URL = "/review/comments/"
HOT_URL = "/review/hot/"
MARKS_URL = "/review/marks/"
_TARGET_RE = re.compile(r"^(?P<type>[a-z_]+\.[a-z_]+)[:#](?P<id>\S+)$")


def _context(**extra) -> dict:
    return {
        "channels": active_channels,
        "articles_queue_url": ARTICLES_QUEUE_URL,
        "comments_queue_url": COMMENTS_QUEUE_URL,
        "hot_url": HOT_URL,
        "marks_url": MARKS_URL,
        **extra,
    }


@editor_required
@require_safe
def hub(request: HttpRequest) -> HttpResponse:
    counts = Article.objects.aggregate(
        pending=Count("pk", filter=Q(status=Article.Status.PENDING)),
        after=Count("pk", filter=Q(needs_review=True)),
    )
    context = _context(
        pending_applications=Application.objects.filter(status=Application.Status.PENDING).count(),
        pending_articles=counts["pending"],
        post_review_articles=counts["after"],
        open_reports=reports.open_target_count(),
        pending_appeals=Appeal.objects.filter(status=Appeal.Status.PENDING).count(),
        held_comments=Comment.objects.filter(status=Comment.Status.HELD).count(),
        recent=AuditEntry.objects.all()[:10],
    )
    return render(request, "moderation/hub.html", context)


@editor_required
@require_safe
def applications(request: HttpRequest) -> HttpResponse:
    """Pending applications oldest first (first come, first served); decided ones newest first."""
    status = request.GET.get("status", Application.Status.PENDING)
    if status not in Application.Status.values:
        status = Application.Status.PENDING
    qs = Application.objects.filter(status=status).select_related("user", "reviewer")
    pending = status == Application.Status.PENDING
    qs = qs.order_by("created_at", "id") if pending else qs.order_by("-reviewed_at", "-id")
    page = Paginator(qs, QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    context = _context(page=page, status=status, statuses=Application.Status.choices, total=page.paginator.count)
    return render(request, "moderation/applications.html", context)


def _conflicts(item: Application) -> list[str]:
    """What would stop approval now (a name or handle taken since the application was made)."""
    if item.status != Application.Status.PENDING:
        return []
    taken = Account.objects.filter(Q(name__iexact=item.name) | Q(handle__iexact=item.handle) | Q(owner=item.user_id))
    problems = []
    for account in taken.only("name", "handle", "owner_id"):
        if account.owner_id == item.user_id:
            problems.append(_("申请人已经拥有创作者账号“%(name)s”。") % {"name": account.name})
        elif account.name.lower() == item.name.lower():
            problems.append(_("号名称已被账号 @%(handle)s 使用。") % {"handle": account.handle})
        else:
            problems.append(_("账号标识已被账号“%(name)s”使用。") % {"name": account.name})
    return problems


@editor_required
@require_http_methods(["GET", "HEAD", "POST"])
def application(request: HttpRequest, pk: int) -> HttpResponse:
    """Everything the applicant sent, their earlier applications, and the decision form."""
    item = get_object_or_404(Application.objects.select_related("user", "reviewer", "account"), pk=pk)
    form = DecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        decide = actions.approve if form.cleaned_data["decision"] == "approve" else actions.reject
        try:
            decide(item, request.user, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            form.add_error("reason" if hasattr(exc, "error_dict") else None, exc.messages)
        except PermissionDenied as exc:
            form.add_error(None, str(exc) or _("你不能处理这份申请。"))
        else:
            return redirect("moderation:application", pk=item.pk)
    history = Application.objects.filter(user_id=item.user_id).exclude(pk=item.pk).order_by("-created_at")
    entries = AuditEntry.objects.filter(target_type=Application._meta.label_lower, target_id=str(item.pk))
    context = _context(
        item=item,
        form=form,
        history=list(history),
        entries=list(entries),
        conflicts=_conflicts(item),
        flagged=actions.flagged_fields(item),  # 'review' sensitive terms, highlighted for the reviewer
        is_pdf=avatars.is_pdf(item.qualification.name) if item.qualification else False,
    )
    return render(request, "moderation/application.html", context, status=400 if form.errors else 200)


@editor_required
@require_safe
def qualification(request: HttpRequest, pk: int) -> FileResponse:
    """Stream a qualification document from private storage: editors only, never cached, never run."""
    item = get_object_or_404(Application, pk=pk)
    if not item.qualification:
        raise Http404
    try:
        handle = item.qualification.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    name = item.qualification.name
    response = FileResponse(handle, content_type=avatars.content_type(name))
    response["Content-Disposition"] = f'inline; filename="qualification-{item.pk}.{name.rsplit(".", 1)[-1]}"'
    response["Cache-Control"] = "private, no-store"
    # A hostile PDF or image opened in the browser may not run scripts against the site.
    response["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
    return response


class AuditSearchForm(forms.Form):
    actor = forms.CharField(label=_("操作人"), required=False, max_length=150)
    action = forms.CharField(label=_("操作"), required=False, max_length=60)
    target = forms.CharField(
        label=_("对象"),
        required=False,
        max_length=200,
        help_text=_("名称、编号，或“类型:编号”如 accounts.application:12"),
    )
    q = forms.CharField(label=_("理由包含"), required=False, max_length=200)

    def filter(self, qs):
        if not self.is_valid():
            return qs.none()
        data = self.cleaned_data
        if data["actor"]:
            qs = qs.filter(actor_name__icontains=data["actor"])
        if data["action"]:
            qs = qs.filter(action__icontains=data["action"])
        if target := data["target"].strip():
            if match := _TARGET_RE.match(target):
                qs = qs.filter(target_type=match["type"], target_id=match["id"])
            else:
                qs = qs.filter(Q(target_repr__icontains=target) | Q(target_id=target))
        if data["q"]:
            qs = qs.filter(reason__icontains=data["q"])
        return qs


@editor_required
@require_safe
def audit_log(request: HttpRequest) -> HttpResponse:
    """Search the audit log, newest first. Read-only: no page of the site edits or deletes entries."""
    form = AuditSearchForm(request.GET)
    page = Paginator(form.filter(AuditEntry.objects.all()), AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "moderation/audit.html", _context(form=form, page=page))
