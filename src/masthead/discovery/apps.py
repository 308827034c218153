from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DiscoveryConfig(AppConfig):
    name = "masthead.discovery"
    verbose_name = _("发现")

    def ready(self) -> None:
        # Receivers: the user dictionary follows channel, tag and account names; the search index and
        # 相关推荐 follow every article change.
        from masthead.discovery import related_tasks, text_signals  # noqa: F401
