from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebConfig(AppConfig):
    name = "masthead.web"
    verbose_name = _("读者页面")
