"""Forms for reader accounts: Django's auth forms with Chinese labels, rate limits and our reset link."""

from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from masthead.accounts import ratelimit
from masthead.web.seo import absolute_url

User = get_user_model()

# (limit, window in seconds); each can be changed with MASTHEAD_RATE_LIMITS.
LOGIN_ACCOUNT = ("login-account", 5, 15 * 60)  # failed logins per user name
LOGIN_IP = ("login-ip", 20, 15 * 60)  # failed logins per client address, whatever the user name
SIGNUP_IP = ("signup-ip", 10, 60 * 60)  # sign-up attempts per client address
RESET_IP = ("password-reset-ip", 5, 60 * 60)  # reset requests per client address
RESET_EMAIL = ("password-reset-email", 3, 60 * 60)  # reset mails per address (silently: no enumeration)


def limit(rule: tuple[str, int, int]) -> tuple[str, int, int]:
    scope, count, window = rule
    return (scope, *ratelimit.configured(scope, count, window))


def too_many(retry_after: int) -> ValidationError:
    return ValidationError(
        _("尝试次数过多，为保护账号安全已暂停。请 %(wait)s后再试。"),
        code="rate_limited",
        params={"wait": ratelimit.describe_wait(retry_after)},
    )


EMAIL_INVALID = _("请输入有效的电子邮箱地址。")


class RateLimitedForm:
    """Lets a view answer 429 with Retry-After when the form was refused for going too fast."""

    retry_after = 0

    def refuse(self, retry_after: int) -> None:
        self.retry_after = retry_after
        raise too_many(retry_after)


class LoginForm(RateLimitedForm, auth_forms.AuthenticationForm):
    error_messages = {
        "invalid_login": _("用户名或密码不正确。请注意区分大小写。"),
        "inactive": _("该账号已停用。"),
    }

    def __init__(self, request=None, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")  # labels sit above their inputs: no colon
        super().__init__(request, *args, **kwargs)
        self.fields["username"].label = _("用户名")
        self.fields["username"].widget.attrs["autocomplete"] = "username"
        self.fields["password"].label = _("密码")

    def clean(self):
        username, password = self.cleaned_data.get("username"), self.cleaned_data.get("password")
        if username is None or not password:
            return super().clean()
        account_key, ip = username.casefold(), ratelimit.client_ip(self.request)
        account_scope, account_limit, account_window = limit(LOGIN_ACCOUNT)
        ip_scope, ip_limit, ip_window = limit(LOGIN_IP)
        # Checked before the password: a locked account costs no hashing and reveals nothing.
        for state in (
            ratelimit.peek(account_scope, account_key, account_limit, account_window),
            ratelimit.peek(ip_scope, ip, ip_limit, ip_window),
        ):
            if not state.allowed:
                self.refuse(state.retry_after)
        try:
            cleaned = super().clean()
        except ValidationError as error:
            if error.code != "invalid_login":
                raise
            on_account = ratelimit.hit(account_scope, account_key, account_limit, account_window)
            on_ip = ratelimit.hit(ip_scope, ip, ip_limit, ip_window)
            wait = max(on_account.retry_after, on_ip.retry_after)
            if wait:
                self.refuse(wait)
            if on_account.remaining <= 2:
                n = on_account.remaining
                raise ValidationError(
                    [
                        error,
                        ValidationError(
                            ngettext(
                                "再输错 %(n)d 次，该账号将暂停登录一段时间。",
                                "再输错 %(n)d 次，该账号将暂停登录一段时间。",
                                n,
                            )
                            % {"n": n},
                            code="attempts_left",
                        ),
                    ]
                ) from None
            raise
        ratelimit.reset(account_scope, account_key, account_window)
        return cleaned


class SignupForm(auth_forms.UserCreationForm):
    email = forms.EmailField(
        label=_("电子邮箱"),
        max_length=254,
        help_text=_("用于找回密码，不会公开。"),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={"invalid": EMAIL_INVALID},
    )

    class Meta(auth_forms.UserCreationForm.Meta):
        model = User
        fields = ("username", "email")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["username"].label = _("用户名")
        self.fields["username"].help_text = _("登录时使用，最多 150 个字符：汉字、字母、数字或 @ . + - _。")
        self.fields["username"].widget.attrs["autocomplete"] = "username"
        self.fields["password1"].label = _("密码")
        self.fields["password2"].label = _("确认密码")
        self.fields["password2"].help_text = _("再输入一次，以免输错。")
        self.error_messages = {**self.error_messages, "password_mismatch": _("两次输入的密码不一致。")}

    def clean_username(self):
        username = self.cleaned_data.get("username")
        if username and User._default_manager.filter(username__iexact=username).exists():
            raise ValidationError(_("该用户名已被使用。"), code="unique")
        return username

    def clean_email(self):
        email = User._default_manager.normalize_email(self.cleaned_data["email"])
        if User._default_manager.filter(email__iexact=email).exists():
            raise ValidationError(_("该邮箱已注册，可以直接登录或找回密码。"), code="unique")
        return email


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ("first_name", "email")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        name = self.fields["first_name"]
        name.label, name.max_length = _("昵称"), 30
        name.widget.attrs["maxlength"] = 30
        name.help_text = _("显示在跟帖等处；不填则显示用户名。")
        email = self.fields["email"]
        email.label, email.required = _("电子邮箱"), True
        email.error_messages["invalid"] = EMAIL_INVALID
        email.help_text = _("用于找回密码，不会公开。")

    def clean_email(self):
        email = User._default_manager.normalize_email(self.cleaned_data["email"])
        if User._default_manager.filter(email__iexact=email).exclude(pk=self.instance.pk).exists():
            raise ValidationError(_("该邮箱已被其他账号使用。"), code="unique")
        return email


class _ChineseNewPasswords:
    def _label_new_passwords(self) -> None:
        self.fields["new_password1"].label = _("新密码")
        self.fields["new_password2"].label = _("确认新密码")
        self.error_messages = {**self.error_messages, "password_mismatch": _("两次输入的密码不一致。")}


class SetPasswordForm(_ChineseNewPasswords, auth_forms.SetPasswordForm):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self._label_new_passwords()


class PasswordChangeForm(_ChineseNewPasswords, auth_forms.PasswordChangeForm):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self._label_new_passwords()
        self.fields["old_password"].label = _("当前密码")
        self.error_messages = {**self.error_messages, "password_incorrect": _("当前密码不正确。")}


class PasswordResetForm(RateLimitedForm, auth_forms.PasswordResetForm):
    """Django's reset form; the link points at MASTHEAD_SITE_URL when set, and each address gets few mails."""

    request = None

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["email"].label = _("电子邮箱")
        self.fields["email"].error_messages["invalid"] = EMAIL_INVALID

    def save(self, *args, request=None, **kwargs):
        self.request = request
        return super().save(*args, request=request, **kwargs)

    def get_users(self, email):
        scope, count, window = limit(RESET_EMAIL)
        if not ratelimit.hit(scope, email.casefold(), count, window).allowed:
            return iter(())  # the page says the same either way: whether an address is known stays secret
        return super().get_users(email)

    def send_mail(self, subject_template_name, email_template_name, context, *args, **kwargs):
        path = reverse("accounts:password_reset_confirm", kwargs={"uidb64": context["uid"], "token": context["token"]})
        context["reset_url"] = absolute_url(self.request, path)
        super().send_mail(subject_template_name, email_template_name, context, *args, **kwargs)
