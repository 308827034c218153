import atexit

from django.apps import AppConfig


class EngagementConfig(AppConfig):
    name = "masthead.engagement"

    def ready(self) -> None:
        from masthead.engagement import counters
        from masthead.web import pagecache

        # A cached article page still counts as a read.
        pagecache.register_hit_hook("view", lambda article_id: counters.record("views", int(article_id)))
        atexit.register(counters.flush_quietly)
