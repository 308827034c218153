"""Reader accounts: Django's auth views, configured (templates, forms, rate limits), plus sign-up and profile.

None of these pages opts into the anonymous page cache: each carries a CSRF token or personal data,
and all are marked never_cache for browsers and proxies as well.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods
from django.views.generic import FormView

from masthead.accounts import ratelimit, roles
from masthead.accounts.auth_forms import (
    LOGIN_ACCOUNT,
    RESET_IP,
    SIGNUP_IP,
    LoginForm,
    PasswordChangeForm,
    PasswordResetForm,
    ProfileForm,
    SetPasswordForm,
    SignupForm,
    limit,
    too_many,
)
from masthead.accounts.models import Application
from masthead.channels.queries import active_channels
from masthead.engagement import personal


class SitePage:
    """Context every page extending web/base.html needs (the channel bar is built from it)."""

    def get_context_data(self, **kwargs):
        # Lazy: the cached channel-bar fragment resolves it only on a miss.
        return super().get_context_data(**{"channels": active_channels, **kwargs})


def _throttled(response: HttpResponse, retry_after: int) -> HttpResponse:
    if retry_after:
        response.status_code = 429
        response["Retry-After"] = str(retry_after)
    return response


def _refuse_client(form, request: HttpRequest, rule: tuple[str, int, int]) -> bool:
    """Count this request against the client's address; on refusal put the message on the form."""
    scope, count, window = limit(rule)
    state = ratelimit.hit(scope, ratelimit.client_ip(request), count, window)
    if state.allowed:
        return False
    form.retry_after = state.retry_after
    form.add_error(None, too_many(state.retry_after))
    return True


@method_decorator(never_cache, name="dispatch")
class LoginView(SitePage, auth_views.LoginView):
    template_name = "accounts/auth/login.html"
    form_class = LoginForm
    redirect_authenticated_user = True

    def form_invalid(self, form):
        return _throttled(super().form_invalid(form), form.retry_after)


class LogoutView(auth_views.LogoutView):
    """POST only (Django refuses GET with 405): a link or an image tag must not sign anyone out."""


@method_decorator([sensitive_post_parameters("password1", "password2"), never_cache], name="dispatch")
class SignupView(SitePage, auth_views.RedirectURLMixin, FormView):
    template_name = "accounts/auth/signup.html"
    form_class = SignupForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:  # also what a double-submitted form meets once the first went through
            return redirect(self.get_success_url())
        return super().dispatch(request, *args, **kwargs)

    def get_default_redirect_url(self) -> str:
        return str(settings.LOGIN_REDIRECT_URL)

    def get_context_data(self, **kwargs):
        return super().get_context_data(**{"next": self.get_redirect_url(), **kwargs})

    def post(self, request, *args, **kwargs):
        form = self.get_form()
        form.retry_after = 0
        if _refuse_client(form, request, SIGNUP_IP):
            return _throttled(self.form_invalid(form), form.retry_after)
        return self.form_valid(form) if form.is_valid() else self.form_invalid(form)

    def form_valid(self, form):
        try:
            with transaction.atomic():
                user = form.save()
        except IntegrityError:  # the same name sent twice at once: the other request created it
            form.add_error("username", _("该用户名已被使用。"))
            return self.form_invalid(form)
        login(self.request, user, backend="django.contrib.auth.backends.ModelBackend")
        return HttpResponseRedirect(self.get_success_url())


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = ProfileForm(request.POST or None, instance=user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("资料已保存。"))
        return redirect("accounts:profile")
    creator = roles.creator_account(user)
    context = {
        "channels": active_channels,
        "form": form,
        "creator": creator,
        "editor": roles.is_editor(user),
        "application": None if creator else Application.objects.filter(user=user).first(),
        # The newest of each of the reader's lists (one query each); the full lists are sub-pages.
        **{name: _preview(query(user)) for name, query in MY_LISTS.items()},
    }
    return render(request, "accounts/auth/profile.html", context)


MY_LISTS = {
    "follows": personal.follows,
    "favorites": personal.favorites,
    "history": personal.history,
    "notifications": personal.notifications,
}
PREVIEW_ITEMS = 10


def _preview(queryset) -> dict:
    """The first PREVIEW_ITEMS rows and whether there are more (one query: one row more is read)."""
    rows = list(queryset[: PREVIEW_ITEMS + 1])
    return {"items": rows[:PREVIEW_ITEMS], "more": len(rows) > PREVIEW_ITEMS}


@method_decorator(never_cache, name="dispatch")
class PasswordChangeView(SitePage, auth_views.PasswordChangeView):
    template_name = "accounts/auth/password_change.html"
    form_class = PasswordChangeForm
    success_url = reverse_lazy("accounts:profile")

    def form_valid(self, form):
        messages.success(self.request, _("密码已修改。"))
        return super().form_valid(form)  # keeps this session signed in, signs out the others


@method_decorator(never_cache, name="dispatch")
class PasswordResetView(SitePage, auth_views.PasswordResetView):
    template_name = "accounts/auth/password_reset_form.html"
    form_class = PasswordResetForm
    email_template_name = "accounts/auth/password_reset_email.txt"
    subject_template_name = "accounts/auth/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form):
        if _refuse_client(form, self.request, RESET_IP):
            return _throttled(self.form_invalid(form), form.retry_after)
        self.extra_email_context = {"site_name": settings.SITE_NAME}
        return super().form_valid(form)


@method_decorator(never_cache, name="dispatch")
class PasswordResetDoneView(SitePage, auth_views.PasswordResetDoneView):
    template_name = "accounts/auth/password_reset_done.html"


@method_decorator(never_cache, name="dispatch")
class PasswordResetConfirmView(SitePage, auth_views.PasswordResetConfirmView):
    template_name = "accounts/auth/password_reset_confirm.html"
    form_class = SetPasswordForm
    success_url = reverse_lazy("accounts:password_reset_complete")

    def form_valid(self, form):
        # Whoever could read the mail owns the account: a lockout from guessing the old password ends.
        scope, _count, window = limit(LOGIN_ACCOUNT)
        ratelimit.reset(scope, self.user.get_username().casefold(), window)
        return super().form_valid(form)


@method_decorator(never_cache, name="dispatch")
class PasswordResetCompleteView(SitePage, auth_views.PasswordResetCompleteView):
    template_name = "accounts/auth/password_reset_complete.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(**{"login_url": reverse(settings.LOGIN_URL), **kwargs})
