"""申请入驻: the landing page, the application form and the applicant's status page."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from masthead.accounts import applications
from masthead.accounts.join_forms import ApplicationForm
from masthead.accounts.models import Application
from masthead.accounts.roles import creator_account
from masthead.channels.queries import active_channels
from masthead.web.pagecache import cache_page_for_readers

# The studio's address is fixed by masthead/urls.py ("studio/"); its URL names belong to the studio app.
STUDIO_URL = "/studio/"


def _context(**extra) -> dict:
    # A callable: the navigation is a cached fragment, resolved only when that cache misses.
    return {"channels": active_channels, "studio_url": STUDIO_URL, **extra}


@require_safe
def landing(request: HttpRequest) -> HttpResponse:
    """What creators get, and the way in. Anonymous readers get one cached page (it has no form)."""
    if not request.user.is_authenticated:
        return cache_page_for_readers(render(request, "web/join.html", _context()), ["fronts"])
    context = _context(account=creator_account(request.user), pending=applications.pending_application(request.user))
    return render(request, "web/join.html", context)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def apply(request: HttpRequest) -> HttpResponse:
    account = creator_account(request.user)
    if account is not None:
        return render(request, "accounts/join/already.html", _context(account=account))
    if applications.pending_application(request.user) is not None:
        return redirect("join:status")
    form = ApplicationForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            applications.apply(request.user, form.application_data())
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return redirect("join:status")
    return render(request, "accounts/join/apply.html", _context(form=form))


@login_required
@require_safe
def status(request: HttpRequest) -> HttpResponse:
    """The applicant's applications, newest first, with the reviewer's reason."""
    items = list(Application.objects.filter(user=request.user).select_related("account").order_by("-created_at"))
    context = _context(
        applications=items,
        account=creator_account(request.user),
        can_apply=not any(a.status == Application.Status.PENDING for a in items),
    )
    return render(request, "accounts/join/status.html", context)
