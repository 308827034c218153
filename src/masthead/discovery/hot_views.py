"""The /hot/ page (site-wide and per channel, page-cached for anonymous readers) and the editors'
/review/hot/ page: the list as readers see it with scores, pins at a position, removals and their
reversal, each with a reason and an audit entry."""

import re
from datetime import timedelta

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST, require_safe

from masthead.accounts.roles import editor_required
from masthead.articles.models import Article
from masthead.channels.queries import active_channels
from masthead.discovery import hot
from masthead.discovery.hot_score import GRAVITY, HOT_TAG, WEIGHTS
from masthead.discovery.models import HotOverride, HotScore
from masthead.web.forms import add_errors
from masthead.web.pagecache import cache_page_for_readers

REVIEW_SIZE = 50
_ARTICLE_REF = re.compile(r"(?:/a/)?(\d{1,12})/?$")


# --- readers -------------------------------------------------------------------------------------------


def _page(request: HttpRequest, channel=None) -> HttpResponse:
    context = {
        "channels": active_channels,
        "current": channel,
        "nav_current": "hot",
        "entries": lambda: hot.hot_articles(hot.PAGE_SIZE, channel.pk if channel else None),
    }
    response = render(request, "discovery/hot.html", context)
    return cache_page_for_readers(response, ["fronts", HOT_TAG])


@require_safe
def index(request: HttpRequest) -> HttpResponse:
    slug = request.GET.get("channel")
    if slug:  # tabs are paths, so each is page-cached; the query form stays for old links and forms
        return redirect("hot:channel", slug=slug) if re.fullmatch(r"[-\w]{1,50}", slug) else redirect("hot:index")
    return _page(request)


@require_safe
def channel(request: HttpRequest, slug: str) -> HttpResponse:
    found = next((c for c in active_channels() if c.slug == slug), None)
    if found is None:
        raise Http404
    return _page(request, found)


# --- editors -------------------------------------------------------------------------------------------


class ArticleField(forms.CharField):
    """An article by number or by its address (…/a/123/)."""

    def clean(self, value):
        value = super().clean(value)
        match = _ARTICLE_REF.search(value.strip())
        article = Article.objects.filter(pk=int(match.group(1))).first() if match else None
        if article is None:
            raise ValidationError(_("找不到这篇文章，请填写文章编号或链接。"))
        return article


class OverrideForm(forms.Form):
    article = ArticleField(label=gettext_lazy("文章编号或链接"), max_length=300)
    reason = forms.CharField(label=gettext_lazy("理由"), max_length=hot.REASON_LIMIT)
    hours = forms.IntegerField(
        label=gettext_lazy("有效时长（小时）"),
        required=False,
        min_value=1,
        max_value=24 * 30,
        help_text=gettext_lazy("留空表示一直有效，直到撤销。"),
    )

    def expires_at(self):
        hours = self.cleaned_data.get("hours")
        return timezone.now() + timedelta(hours=hours) if hours else None


class PinForm(OverrideForm):
    position = forms.IntegerField(label=gettext_lazy("榜单位置"), min_value=1, max_value=hot.PAGE_SIZE, initial=1)
    field_order = ["article", "position", "reason", "hours"]


class ClearForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("理由"), max_length=hot.REASON_LIMIT, required=False)


def _review_page(request: HttpRequest, status: int = 200, **forms_) -> HttpResponse:
    overrides = list(
        hot.live_overrides()
        .select_related("article__account", "created_by")
        .order_by("kind", "position", "-created_at")
    )
    removed = {o.article_id for o in overrides if o.kind == HotOverride.Kind.REMOVE}
    computed = HotScore.objects.order_by("-computed_at").values_list("computed_at", flat=True).first()
    context = {
        "channels": active_channels,
        "entries": hot.ranking(REVIEW_SIZE),
        "overrides": overrides,
        "removed_ranked": (
            list(HotScore.objects.select_related("article").filter(article_id__in=removed).order_by("-score"))
            if removed
            else []
        ),
        "computed_at": computed,
        "pin_form": forms_.get("pin_form") or PinForm(prefix="pin"),
        "remove_form": forms_.get("remove_form") or OverrideForm(prefix="remove"),
        "weights": WEIGHTS,
        "gravity": GRAVITY,
    }
    return render(request, "discovery/hot_review.html", context, status=status)


@require_safe
@editor_required
def review(request: HttpRequest) -> HttpResponse:
    return _review_page(request)


def _override(request: HttpRequest, prefix: str, form_class, action, done: str) -> HttpResponse:
    form = form_class(request.POST, prefix=prefix)
    if form.is_valid():
        data = form.cleaned_data
        extra = {"position": data["position"]} if "position" in data else {}
        try:
            action(data["article"], by=request.user, reason=data["reason"], expires_at=form.expires_at(), **extra)
        except ValidationError as exc:
            add_errors(form, exc, rename={"expires_at": "hours"})
        else:
            messages.success(request, done % {"title": data["article"].title})
            return redirect("hot:review")
    return _review_page(request, status=400, **{f"{prefix}_form": form})


@require_POST
@editor_required
def pin(request: HttpRequest) -> HttpResponse:
    return _override(request, "pin", PinForm, hot.pin, _("《%(title)s》已置顶到热榜。"))


@require_POST
@editor_required
def remove(request: HttpRequest) -> HttpResponse:
    return _override(request, "remove", OverrideForm, hot.remove, _("《%(title)s》已移出热榜。"))


@require_POST
@editor_required
def clear(request: HttpRequest, pk: int) -> HttpResponse:
    override = get_object_or_404(HotOverride.objects.select_related("article"), pk=pk)
    form = ClearForm(request.POST)
    if not form.is_valid():  # only a reason that is too long gets here
        messages.error(request, _("理由太长。"))
        return redirect("hot:review")
    was_pin = override.kind == HotOverride.Kind.PIN
    hot.clear(override, by=request.user, reason=form.cleaned_data["reason"])
    done = _("《%(title)s》已取消置顶。") if was_pin else _("《%(title)s》已恢复上榜资格。")
    messages.success(request, done % {"title": override.article.title})
    return redirect("hot:review")
