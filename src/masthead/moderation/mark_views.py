"""Editors' pages for 谣言/争议 marks: the list of marked articles, and the form that marks one."""

from urllib.parse import urlsplit

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_safe

from masthead.accounts.roles import editor_required
from masthead.articles.models import Article, Mark
from masthead.moderation import marks
from masthead.moderation.models import AuditEntry
from masthead.moderation.views import _context
from masthead.web.forms import add_errors

PAGE_SIZE = 30


def article_id(value: str) -> int | None:
    """The article number in "123", "/a/123/" or "https://site/a/123/?x=1"; None if there is none."""
    value = value.strip()
    if value.isdigit():
        return int(value)
    path = urlsplit(value).path
    if not path:
        return None
    try:
        match = resolve(path if path.endswith("/") else path + "/")
    except Resolver404:
        return None
    return match.kwargs.get("pk") if match.view_name == "web:article" else None


class ArticleField(forms.CharField):
    """An article given by its number or its address."""

    default_error_messages = {"missing": gettext_lazy("找不到这篇文章，请输入文章编号或文章网址。")}

    def clean(self, value) -> Article | None:
        value = super().clean(value)
        if not value:
            return None
        pk = article_id(value)
        found = Article.objects.filter(pk=pk).first() if pk else None
        if found is None:
            raise ValidationError(self.error_messages["missing"], code="missing")
        return found


class FindForm(forms.Form):
    article = ArticleField(label=gettext_lazy("文章编号或网址"), max_length=500)


class MarkForm(forms.Form):
    mark = forms.ChoiceField(label=gettext_lazy("标记"), choices=Mark.choices, required=False, widget=forms.RadioSelect)
    note = forms.CharField(
        label=gettext_lazy("标记说明"),
        required=False,
        max_length=Article._meta.get_field("mark_note").max_length,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("显示在文章顶部，读者能看到。"),
    )
    debunked_by = ArticleField(
        label=gettext_lazy("辟谣文章"),
        required=False,
        max_length=500,
        help_text=gettext_lazy("文章编号或网址。显示在谣言顶部，并在搜索这条谣言时排在最前。"),
    )
    reach_limited = forms.BooleanField(
        label=gettext_lazy("限制推荐"),
        required=False,
        help_text=gettext_lazy("文章仍可阅读，但不进入热榜和推荐。"),
    )
    reason = forms.CharField(
        label=gettext_lazy("理由"),
        max_length=marks.REASON_LIMIT,
        help_text=gettext_lazy("记入审计日志，不向读者显示。"),
    )


@editor_required
@require_safe
def index(request: HttpRequest) -> HttpResponse:
    """Marked articles, and a box to open any article's marks by its number or address."""
    find = FindForm(request.GET or None)
    if find.is_bound and find.is_valid():
        return redirect("marks:edit", pk=find.cleaned_data["article"].pk)
    page = Paginator(marks.marked_articles(), PAGE_SIZE).get_page(request.GET.get("page"))
    status = 400 if find.is_bound else 200
    return render(request, "moderation/marks/index.html", _context(find=find, page=page), status=status)


@editor_required
@require_http_methods(["GET", "HEAD", "POST"])
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    article = get_object_or_404(Article.objects.select_related("account", "channel", "debunked_by"), pk=pk)
    initial = {
        "mark": article.mark,
        "note": article.mark_note,
        "debunked_by": str(article.debunked_by_id or ""),
        "reach_limited": article.reach_limited,
    }
    form = MarkForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            marks.set_mark(
                article, by=request.user, mark=data["mark"], note=data["note"], debunked_by=data["debunked_by"],
                reach_limited=data["reach_limited"], reason=data["reason"],
            )  # fmt: skip
        except ValidationError as error:
            add_errors(form, error)
        except PermissionDenied as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("已保存文章的标记。"))
            return redirect("marks:edit", pk=article.pk)
    entries = AuditEntry.objects.filter(
        target_type=Article._meta.label_lower, target_id=str(article.pk), action="article.mark"
    )[:50]
    context = _context(article=article, form=form, entries=list(entries))
    return render(request, "moderation/marks/edit.html", context, status=400 if form.errors else 200)
