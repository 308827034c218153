"""The application form (申请入驻). Parsing only: the rules live in accounts.applications."""

from django import forms
from django.utils.translation import gettext_lazy as _

from masthead.accounts import applications, fields
from masthead.accounts.models import Account, Application


def _max(name: str) -> int:
    return Application._meta.get_field(name).max_length


class ApplicationForm(forms.Form):
    name = forms.CharField(
        label=_("号名称"),
        max_length=_max("name"),
        help_text=_("读者看到的名字。不能含有“官方”、平台或政府机构等字样。"),
    )
    handle = forms.CharField(
        label=_("账号标识"),
        max_length=_max("handle"),
        help_text=_("用在你的主页网址 /u/标识/ 中：小写字母、数字、连字符。"),
        widget=forms.TextInput(attrs={"autocapitalize": "none", "spellcheck": "false"}),
    )
    avatar = forms.FileField(
        label=_("头像"),
        help_text=_("JPEG、PNG、WebP 或 GIF；会居中裁成正方形。"),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp,image/gif"}),
    )
    slogan = forms.CharField(label=_("签名"), max_length=_max("slogan"), required=False)
    field = forms.ChoiceField(
        label=_("领域"),
        choices=[("", _("请选择")), *fields.CHOICES],
        help_text=_("时政、财经、医疗健康、法律领域需要提供资质证明。"),
    )
    intro = forms.CharField(
        label=_("简介"),
        max_length=_max("intro"),
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("介绍你自己和你打算写的内容。"),
    )
    credential_name = forms.CharField(
        label=_("资质名称"),
        max_length=_max("credential_name"),
        required=False,
        help_text=_("例如：证券从业资格、医师执业证书、律师执业证。"),
    )
    credential_expires_on = forms.DateField(
        label=_("资质有效期至"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    qualification = forms.FileField(
        label=_("资质证明"),
        required=False,
        help_text=_("PDF 或图片，只有审核编辑能看到。"),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/jpeg,image/png,image/webp"}),
    )

    CREDENTIAL_FIELDS = ("credential_name", "credential_expires_on", "qualification")

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def basic_fields(self) -> list:
        return [self[name] for name in self.fields if name not in self.CREDENTIAL_FIELDS]

    def credential_fields(self) -> list:
        return [self[name] for name in self.CREDENTIAL_FIELDS]

    # Name and handle are checked here too, so their problems show together with the others.
    def clean_name(self) -> str:
        return applications.check_name(self.cleaned_data["name"], self.user)

    def clean_handle(self) -> str:
        return applications.check_handle(self.cleaned_data["handle"], self.user)

    def application_data(self) -> applications.ApplicationData:
        data = self.cleaned_data
        return applications.ApplicationData(
            name=data["name"],
            handle=data["handle"],
            avatar=data["avatar"],
            slogan=data["slogan"],
            field=data["field"],
            intro=data["intro"],
            credential_name=data["credential_name"],
            credential_expires_on=data["credential_expires_on"],
            qualification=data["qualification"] or None,
        )


class DecisionForm(forms.Form):
    """An editor's decision on an application."""

    decision = forms.ChoiceField(choices=[("approve", _("通过")), ("reject", _("驳回"))])
    reason = forms.CharField(
        label=_("审核意见"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("驳回时必填，申请人会看到它。"),
    )


class AccountAdminForm(forms.ModelForm):
    """The admin's form for creator accounts: a changed name goes through the same screening as an
    application's (accounts.applications.check_rename). No Meta: the admin supplies the model and the
    fields (ModelAdmin.form = AccountAdminForm)."""

    instance: Account

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        if self.instance.pk is not None and name == self.instance.name:
            return name  # unchanged: a term added to the list since must not block editing other fields
        return applications.check_rename(name, self.instance)
