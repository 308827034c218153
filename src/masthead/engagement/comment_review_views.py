"""Editors' comment tools: the queue of held comments (approve, or refuse with a reason) and a list of
the latest comments to remove from or restore to, each decision audited by the actions."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from masthead.accounts.roles import editor_required
from masthead.engagement import comment_queries as queries
from masthead.engagement import comments as actions
from masthead.engagement.models import Comment
from masthead.moderation.views import _context

PAGE_SIZE = 30
TABS = {"held": Comment.Status.HELD, "recent": "", "removed": Comment.Status.REMOVED}


@editor_required
@require_safe
def queue(request: HttpRequest) -> HttpResponse:
    tab = request.GET.get("tab") if request.GET.get("tab") in TABS else "held"
    qs = queries.held_queue() if tab == "held" else queries.recent(TABS[tab])
    if (article := request.GET.get("article", "")).isdigit():
        qs = qs.filter(article_id=int(article))
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    context = _context(page=page, tab=tab, nav="comments", next_url=request.get_full_path())
    return render(request, "engagement/comments/review.html", context)


def _back(request: HttpRequest) -> HttpResponseRedirect:
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = reverse("comment_review:queue")
    return HttpResponseRedirect(target)


def _decide(request: HttpRequest, pk: int, act, done: str) -> HttpResponse:
    comment = get_object_or_404(Comment.objects.select_related("article", "user"), pk=pk)
    try:
        act(comment)
    except ValidationError as error:
        for text in error.messages:
            messages.error(request, text)
    else:
        messages.success(request, done)
    return _back(request)


@editor_required
@require_POST
def approve(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(request, pk, lambda c: actions.approve_held(c, by=request.user), _("已通过。"))


@editor_required
@require_POST
def reject(request: HttpRequest, pk: int) -> HttpResponse:
    reason = request.POST.get("reason", "")
    return _decide(request, pk, lambda c: actions.reject_held(c, by=request.user, reason=reason), _("已拒绝。"))


@editor_required
@require_POST
def remove(request: HttpRequest, pk: int) -> HttpResponse:
    reason = request.POST.get("reason", "")
    return _decide(request, pk, lambda c: actions.remove_comment(c, by=request.user, reason=reason), _("已移除。"))


@editor_required
@require_POST
def restore(request: HttpRequest, pk: int) -> HttpResponse:
    reason = request.POST.get("reason", "")
    return _decide(request, pk, lambda c: actions.restore_comment(c, by=request.user, reason=reason), _("已恢复。"))
