from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "masthead.accounts"
    verbose_name = _("创作者")
