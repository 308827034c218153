from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ModerationConfig(AppConfig):
    name = "masthead.moderation"
    verbose_name = _("审核与治理")

    def ready(self) -> None:
        from masthead.moderation import admin_audit

        admin_audit.connect()  # every change made through /admin/ goes into the audit log
