import atexit

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EngagementConfig(AppConfig):
    name = "masthead.engagement"
    verbose_name = _("互动数据")

    def ready(self) -> None:
        from masthead.engagement import counters
        from masthead.web import pagecache

        # A cached article page still counts as a read.
        pagecache.register_hit_hook("view", lambda article_id: counters.record("views", int(article_id)))
        atexit.register(counters.flush_quietly)
