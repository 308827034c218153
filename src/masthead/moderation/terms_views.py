"""Editors' page for the sensitive-word list: search, bulk add, activate/deactivate, delete, try a text."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST, require_safe

from masthead.accounts.roles import editor_required
from masthead.moderation import screening
from masthead.moderation.models import SensitiveTerm
from masthead.moderation.views import _context

PAGE_SIZE = 50


class AddTermsForm(forms.Form):
    lines = forms.CharField(
        label=gettext_lazy("词语"),
        max_length=50_000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=gettext_lazy("每行一个。大小写、全角半角以及字间的空格、标点和符号都会被忽略。"),
    )
    action = forms.ChoiceField(
        label=gettext_lazy("处理方式"),
        choices=SensitiveTerm.Action.choices,
        initial=SensitiveTerm.Action.REVIEW,
        widget=forms.RadioSelect,
        help_text=gettext_lazy("拦截：内容不能提交，作者会看到是哪个词。送审：内容暂不公开，等待编辑审核。"),
    )
    note = forms.CharField(label=gettext_lazy("备注"), required=False, max_length=200)


class SearchForm(forms.Form):
    q = forms.CharField(label=gettext_lazy("词语或备注"), required=False, max_length=100)
    action = forms.ChoiceField(
        label=gettext_lazy("处理方式"),
        required=False,
        choices=[("", gettext_lazy("全部")), *SensitiveTerm.Action.choices],
    )
    status = forms.ChoiceField(
        label=gettext_lazy("状态"),
        required=False,
        choices=[("", gettext_lazy("全部")), ("active", gettext_lazy("启用")), ("inactive", gettext_lazy("已停用"))],
    )

    def filter(self, qs):
        if not self.is_valid():
            return qs.none()
        data = self.cleaned_data
        if q := data["q"].strip():
            key = screening.normalise_term(q)
            qs = qs.filter((Q(term__contains=key) if key else Q(pk__in=[])) | Q(note__icontains=q))
        if data["action"]:
            qs = qs.filter(action=data["action"])
        if data["status"]:
            qs = qs.filter(is_active=data["status"] == "active")
        return qs


class TryForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("检测一段文字"), max_length=20_000, widget=forms.Textarea(attrs={"rows": 4})
    )


def _index(request: HttpRequest, *, add_form=None, try_form=None, result=None, status=200) -> HttpResponse:
    search = SearchForm(request.GET, auto_id="search_%s")  # ids apart from the add form's
    qs = search.filter(SensitiveTerm.objects.select_related("created_by"))
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    context = _context(
        search=search,
        page=page,
        add_form=add_form or AddTermsForm(),
        try_form=try_form or TryForm(),
        result=result,
        highlighted=screening.highlight(try_form.cleaned_data["text"], result) if result is not None else "",
        # Where the row buttons come back to; after a POST that is the plain list.
        here=request.get_full_path() if request.method in ("GET", "HEAD") else reverse("terms:index"),
    )
    return render(request, "moderation/terms/index.html", context, status=status)


@editor_required
@require_safe
def index(request: HttpRequest) -> HttpResponse:
    return _index(request)


def _back(request: HttpRequest) -> HttpResponse:
    """To the list as the editor left it (search and page kept)."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return redirect(target)
    return redirect("terms:index")


@editor_required
@require_POST
def add(request: HttpRequest) -> HttpResponse:
    form = AddTermsForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            outcome = screening.add_terms(data["lines"], data["action"], request.user, note=data["note"])
        except ValidationError as exc:
            form.add_error("lines", exc)
        else:
            messages.success(
                request,
                _("新增 %(added)d 个，更新 %(changed)d 个，%(same)d 个已在列表中。")
                % {"added": len(outcome.added), "changed": len(outcome.changed), "same": len(outcome.unchanged)},
            )
            if outcome.invalid:
                messages.warning(
                    request,
                    _("以下各行没有添加（只有空格、标点或符号，或超过 %(n)d 个字）：%(lines)s")
                    % {"n": screening.MAX_TERM_LENGTH, "lines": screening.join_list(outcome.invalid[:20])},
                )
            return redirect("terms:index")
    return _index(request, add_form=form, status=400)


@editor_required
@require_POST
def activate(request: HttpRequest, pk: int) -> HttpResponse:
    term = get_object_or_404(SensitiveTerm, pk=pk)
    screening.set_active(term, True, request.user)
    messages.success(request, _("已启用“%(term)s”。") % {"term": term.term})
    return _back(request)


@editor_required
@require_POST
def deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    term = get_object_or_404(SensitiveTerm, pk=pk)
    screening.set_active(term, False, request.user)
    messages.success(request, _("已停用“%(term)s”。") % {"term": term.term})
    return _back(request)


@editor_required
@require_POST
def delete(request: HttpRequest, pk: int) -> HttpResponse:
    term = get_object_or_404(SensitiveTerm, pk=pk)
    screening.delete_term(term, request.user)
    messages.success(request, _("已删除“%(term)s”。") % {"term": term.term})
    return _back(request)


@editor_required
@require_POST
def try_text(request: HttpRequest) -> HttpResponse:
    """Show what the current list does to a text, matches highlighted. Changes nothing."""
    form = TryForm(request.POST)
    if not form.is_valid():
        return _index(request, try_form=form, status=400)
    return _index(request, try_form=form, result=screening.screen(form.cleaned_data["text"]))
