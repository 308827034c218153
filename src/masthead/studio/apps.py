from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StudioConfig(AppConfig):
    name = "masthead.studio"
    verbose_name = _("创作者工作台")
