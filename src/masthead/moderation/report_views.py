"""Pages of 举报 and 申诉: the reader's report form, the author's appeal page, and the editors' queues
of open reports (grouped by target) and pending appeals. Views parse and render; moderation.reports
and moderation.appeals make every change."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_safe

from masthead.accounts.roles import editor_required
from masthead.channels.queries import active_channels
from masthead.moderation import appeals, reports
from masthead.moderation.models import Appeal, AuditEntry, Report
from masthead.web.forms import add_errors

QUEUE_PAGE_SIZE = 30
HISTORY_SIZE = 30
ARTICLES_QUEUE_URL = "/review/articles/"


def _context(**extra) -> dict:
    return {"channels": active_channels, "articles_queue_url": ARTICLES_QUEUE_URL, **extra}


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


# --- forms -----------------------------------------------------------------------------------------


class ReportForm(forms.Form):
    category = forms.ChoiceField(
        label=gettext_lazy("举报类别"),
        choices=Report.Category.choices,
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("请选择举报类别。")},
    )
    details = forms.CharField(
        label=gettext_lazy("详细说明"),
        required=False,
        max_length=reports.DETAILS_LIMIT,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("选填：哪里有问题，有无证据链接。编辑处理时会看到。"),
    )


class DecisionForm(forms.Form):
    outcome = forms.ChoiceField(
        label=gettext_lazy("处理结果"),
        choices=[
            (Report.Status.UPHELD, Report.Status.UPHELD.label),
            (Report.Status.DISMISSED, Report.Status.DISMISSED.label),
        ],
        widget=forms.RadioSelect,
    )
    take_down = forms.BooleanField(label=gettext_lazy("下架该内容（账号：降为新人，发布须先审核）"), required=False)
    decision = forms.CharField(
        label=gettext_lazy("处理意见"),
        max_length=reports.DECISION_LIMIT,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("必填。举报人会看到；下架时它也是作者和读者看到的原因。"),
    )


class AppealForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("申诉理由"),
        max_length=appeals.TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=gettext_lazy("每条内容只能申诉一次，请一次写清楚。"),
    )


class AppealDecisionForm(forms.Form):
    grant = forms.TypedChoiceField(
        label=gettext_lazy("处理结果"),
        choices=[("1", gettext_lazy("申诉成功，恢复内容")), ("0", gettext_lazy("维持原决定"))],
        coerce=lambda value: value == "1",
        widget=forms.RadioSelect,
    )
    decision = forms.CharField(
        label=gettext_lazy("处理意见"),
        max_length=reports.DECISION_LIMIT,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("必填，申诉人会看到。"),
    )


# --- readers: 举报 ---------------------------------------------------------------------------------


def _target_from_query(request: HttpRequest):
    for kind in reports.KINDS:
        if kind in request.GET:
            target = reports.find_target(kind, request.GET[kind])
            if target is not None and reports.is_reportable(target):
                return kind, target
            break
    raise Http404


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def new_report(request: HttpRequest) -> HttpResponse:
    """/report/?article=<id> (or comment=, account=): the form, and filing it."""
    kind, target = _target_from_query(request)
    own = reports.owner_id(target) == request.user.pk
    form = ReportForm(request.POST if request.method == "POST" else None)
    status = 200
    if own:
        status = 403
        form = None
    elif request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                report = reports.file_report(request.user, target, **form.cleaned_data)
            except ValidationError as exc:
                status = 429 if getattr(exc, "code", None) == "rate_limited" else 400
                add_errors(form, exc)
            except PermissionDenied as exc:
                status = 403
                form.add_error(None, str(exc))
            else:
                if _wants_json(request):
                    return JsonResponse(
                        {"id": report.pk, "status": report.status, "message": _("举报已提交，编辑会尽快处理。")}
                    )
                return redirect("reports:sent", report.pk)
        if _wants_json(request):
            return JsonResponse({"errors": form.errors.get_json_data()}, status=status)
    context = _context(form=form, kind=kind, target=target, own=own, title=reports.title_of(target))
    return render(request, "moderation/reports/new.html", context, status=status)


@login_required
@require_safe
def sent(request: HttpRequest, pk: int) -> HttpResponse:
    """The reporter's confirmation: what was reported, and later how it was decided."""
    report = get_object_or_404(
        Report.objects.select_related("article", "comment__article", "account"), pk=pk, reporter=request.user
    )
    return render(request, "moderation/reports/sent.html", _context(report=report, kind=reports.kind_of(report.target)))


# --- authors: 申诉 ---------------------------------------------------------------------------------


def _appeal_page(request: HttpRequest, target) -> HttpResponse:
    if reports.owner_id(target) != request.user.pk:
        raise PermissionDenied
    existing = appeals.appeal_of(target)
    form = AppealForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                appeals.appeal(request.user, target, form.cleaned_data["text"])
            except ValidationError as exc:
                add_errors(form, exc)
                status = 409 if getattr(exc, "code", None) == "already_appealed" else 400
            else:
                messages.success(request, _("申诉已提交，编辑会尽快处理，结果会通知你。"))
                return redirect(appeals.page_url(target))
    context = _context(
        target=target,
        kind=reports.kind_of(target),
        title=reports.title_of(target),
        removed=appeals.is_removed(target),
        appeal=existing,
        form=form,
    )
    return render(request, "moderation/appeals/new.html", context, status=status)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def appeal_article(request: HttpRequest, pk: int) -> HttpResponse:
    target = reports.find_target("article", pk)
    if target is None:
        raise Http404
    return _appeal_page(request, target)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def appeal_comment(request: HttpRequest, pk: int) -> HttpResponse:
    target = reports.find_target("comment", pk)
    if target is None:
        raise Http404
    return _appeal_page(request, target)


# --- editors: the report queue ---------------------------------------------------------------------


@editor_required
@require_safe
def queue(request: HttpRequest) -> HttpResponse:
    """Open reports grouped by target, the longest-waiting first."""
    page = Paginator(reports.open_groups(), QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    context = _context(page=page, groups=reports.load_groups(page.object_list), total=page.paginator.count)
    return render(request, "moderation/reports/queue.html", context)


def _history(target) -> list[AuditEntry]:
    entries = AuditEntry.objects.filter(target_type=target._meta.label_lower, target_id=str(target.pk))
    return list(entries[:HISTORY_SIZE])


@editor_required
@require_http_methods(["GET", "HEAD", "POST"])
def review_target(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """One reported target: the content, every report on it, its history and the decision form."""
    item = reports.find_target(kind, pk)
    if item is None:
        raise Http404
    form = DecisionForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                decided = reports.decide(item, by=request.user, **form.cleaned_data)
            except ValidationError as exc:
                add_errors(form, exc)
            except PermissionDenied as exc:
                status = 403
                form.add_error(None, str(exc) or _("你不能处理这些举报。"))
            else:
                messages.success(
                    request,
                    _("已处理 %(n)s 条举报：%(outcome)s。")
                    % {"n": len(decided), "outcome": Report.Status(form.cleaned_data["outcome"]).label},
                )
                return redirect("reports:queue")
    all_reports = list(
        Report.objects.filter(**reports.target_filter(item))
        .select_related("reporter", "decided_by")
        .order_by("-created_at", "-pk")
    )
    context = _context(
        item=item,
        kind=kind,
        title=reports.title_of(item),
        reports=all_reports,
        open_count=sum(1 for r in all_reports if r.status == Report.Status.OPEN),
        entries=_history(item),
        form=form,
        is_own=reports.owner_id(item) == request.user.pk,
    )
    return render(request, "moderation/reports/target.html", context, status=status)


# --- editors: the appeal queue ---------------------------------------------------------------------


@editor_required
@require_safe
def appeal_queue(request: HttpRequest) -> HttpResponse:
    """Pending appeals oldest first; decided ones (?status=granted|denied) newest first."""
    status = request.GET.get("status", Appeal.Status.PENDING)
    if status not in Appeal.Status.values:
        status = Appeal.Status.PENDING
    qs = Appeal.objects.filter(status=status).select_related("appellant", "article", "comment", "decided_by")
    qs = qs.order_by("created_at", "pk") if status == Appeal.Status.PENDING else qs.order_by("-decided_at", "-pk")
    page = Paginator(qs, QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    context = _context(page=page, status=status, statuses=Appeal.Status.choices, total=page.paginator.count)
    return render(request, "moderation/appeals/queue.html", context)


@editor_required
@require_http_methods(["GET", "HEAD", "POST"])
def appeal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    appeal = get_object_or_404(
        Appeal.objects.select_related("appellant", "article__account", "comment__article", "decided_by"), pk=pk
    )
    form = AppealDecisionForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                appeals.decide_appeal(appeal, by=request.user, **form.cleaned_data)
            except ValidationError as exc:
                add_errors(form, exc)
            except PermissionDenied as exc:
                status = 403
                form.add_error(None, str(exc) or _("你不能处理这份申诉。"))
            else:
                messages.success(request, _("申诉已处理：%(status)s。") % {"status": appeal.get_status_display()})
                return redirect("reports:appeals")
    item = appeal.target
    context = _context(
        appeal=appeal,
        item=item,
        kind=reports.kind_of(item),
        title=reports.title_of(item),
        reports=list(
            Report.objects.filter(**reports.target_filter(item))
            .select_related("reporter", "decided_by")
            .order_by("-created_at", "-pk")
        ),
        entries=_history(item),
        form=form,
    )
    return render(request, "moderation/appeals/detail.html", context, status=status)
