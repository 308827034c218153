"""我的 → 访问令牌: a signed-in user lists, creates and revokes their personal access tokens.

Plain forms, no JavaScript. A new token is shown once, in the answer to the POST that created it
(never in a redirect URL, never stored: only its digest is kept), and that answer is never cached.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_http_methods

from masthead.api import tokens
from masthead.api.models import AccessToken, Scope
from masthead.channels.queries import active_channels
from masthead.engagement import personal

# Scopes only some users can use: offering "review" to a reader would mint a token that can never work.
CREATOR_SCOPES = {Scope.DRAFTS, Scope.PUBLISH}
EDITOR_SCOPES = {Scope.REVIEW}


def offered_scopes(user) -> list[Scope]:
    """The scopes this user may put on a token, in Scope order (one query: the user menu's own)."""
    state = personal.header_state(user)
    return [
        scope
        for scope in Scope
        if (scope not in CREATOR_SCOPES or state.creator) and (scope not in EDITOR_SCOPES or state.editor)
    ]


class TokenForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("名称"),
        max_length=tokens.NAME_MAX,
        help_text=gettext_lazy("写清楚用在哪里，例如“手机客户端”或“备份脚本”，以后才知道该撤销哪一个。"),
    )
    scopes = forms.MultipleChoiceField(
        label=gettext_lazy("权限范围"),
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("只勾选用得到的。令牌能做的事不会超过你的账号本身能做的。"),
        error_messages={"required": gettext_lazy("请至少选择一项权限范围。")},
    )

    def __init__(self, *args, scopes: list[Scope], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["scopes"].choices = [(s.value, s.label) for s in scopes]
        if not self.is_bound:
            self.initial.setdefault("scopes", [Scope.READ.value])


@sensitive_variables("raw")
def _page(request: HttpRequest, form: TokenForm, *, created=None, raw: str = "", status: int = 200) -> HttpResponse:
    context = {
        "channels": active_channels,
        "form": form,
        "tokens": AccessToken.objects.filter(user=request.user),
        "created": created,
        "plaintext": raw,
        "labels": dict(Scope.choices),
        "limit": tokens.MAX_TOKENS,
    }
    return render(request, "api/tokens.html", context, status=status)


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
@sensitive_variables("raw")  # innermost: error reports hide the frame it directly wraps
def index(request: HttpRequest) -> HttpResponse:
    scopes = offered_scopes(request.user)
    if request.method != "POST":
        return _page(request, TokenForm(scopes=scopes))
    form = TokenForm(request.POST, scopes=scopes)
    if form.is_valid():
        try:
            row, raw = tokens.create_token(request.user, form.cleaned_data["name"], form.cleaned_data["scopes"])
        except ValidationError as exc:
            form.add_error("name" if exc.code == "name" else None, exc)
        else:
            # 201 with the token in the body: reloading this page does not show it again (no-store).
            return _page(request, TokenForm(scopes=scopes), created=row, raw=raw, status=201)
    return _page(request, form, status=400)


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation (the page works without JavaScript); POST revokes."""
    token = get_object_or_404(AccessToken, pk=pk, user=request.user)
    if token.revoked_at is not None:
        messages.info(request, _("令牌“%(name)s”已经撤销过了。") % {"name": token.name})
        return redirect("api_tokens:index")
    if request.method == "POST":
        tokens.revoke(request.user, token)
        messages.success(request, _("令牌“%(name)s”已撤销，使用它的请求会立即被拒绝。") % {"name": token.name})
        return redirect("api_tokens:index")
    return render(request, "api/token_revoke.html", {"channels": active_channels, "token": token})
