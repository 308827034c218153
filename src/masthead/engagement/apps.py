import atexit

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EngagementConfig(AppConfig):
    name = "masthead.engagement"
    verbose_name = _("互动数据")

    def ready(self) -> None:
        from masthead.engagement import counters, readers
        from masthead.web import pagecache

        def count_cached_read(article_id: str, request=None) -> None:
            # A cached article page still counts as a read; with the request it also counts the reader.
            if request is None:
                counters.record("views", int(article_id))
            else:
                readers.record_view(request, int(article_id))

        pagecache.register_hit_hook("view", count_cached_read)
        atexit.register(counters.flush_quietly)
