from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.views.static import serve

from masthead.api.core import api


def serve_media(request, path: str):
    # MEDIA_ROOT is read per request (not frozen at import) so tests and reconfiguration see the right folder.
    return serve(request, path, document_root=settings.MEDIA_ROOT)


admin.site.site_header = admin.site.site_title = format_lazy(_("{site} 编辑后台"), site=settings.SITE_NAME)
admin.site.index_title = _("内容管理")

# A database outage answers 503 with Retry-After instead of a bare 500 (masthead/ops/outage.py).
handler500 = "masthead.ops.outage.server_error"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("masthead.ops.urls")),
    path("", include("masthead.accounts.urls")),
    path("join/", include("masthead.accounts.join_urls")),
    path("studio/", include("masthead.studio.urls")),
    path("studio/stats/", include("masthead.studio.stats_urls")),
    path("review/", include("masthead.moderation.urls")),
    path("review/articles/", include("masthead.articles.review_urls")),
    path("review/terms/", include("masthead.moderation.terms_urls")),
    path("review/comments/", include("masthead.engagement.comment_review_urls")),
    path("review/marks/", include("masthead.moderation.mark_urls")),
    path("", include("masthead.moderation.report_urls")),  # /report/… and /review/reports/, /review/appeals/
    path("", include("masthead.engagement.urls")),  # likes, favorites, follows, shares, 我的
    path("", include("masthead.engagement.comment_urls")),  # /a/<id>/comments/…
    path("search/", include("masthead.discovery.search_urls")),
    path("", include("masthead.discovery.hot_urls")),  # /hot/ and /review/hot/
    path("", include("masthead.discovery.urls")),  # feed, interests, how recommendation works
    path("api/v1/docs/", include("masthead.api.docs_urls")),
    path("api/v1/", api.urls),
    path("me/tokens/", include("masthead.api.token_urls")),
    path("", include("masthead.web.urls")),
]

if settings.MASTHEAD_SERVE_MEDIA:
    # The embedded default serves uploads itself; at scale nginx or object storage does.
    urlpatterns.append(re_path(r"^media/(?P<path>.*)$", serve_media))
