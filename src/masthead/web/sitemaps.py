"""sitemap.xml (articles, channels, creators) and a Google News sitemap of the last two days."""

from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.contrib.sitemaps import views as sitemap_views
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_safe

from masthead.accounts.models import Account
from masthead.articles.queries import published
from masthead.channels.models import Channel
from masthead.web.pagecache import cache_page_for_readers

NEWS_WINDOW = timedelta(days=2)
NEWS_LIMIT = 1000  # Google News reads at most 1,000 URLs per news sitemap.


def _last_published(column: str) -> Coalesce:
    """Newest publication time in the channel/account (one indexed lookup each), else the row's own time."""
    newest = published().filter(**{column: OuterRef("pk")}).order_by("-published_at").values("published_at")[:1]
    return Coalesce(Subquery(newest), "updated_at")


def site_base(request: HttpRequest) -> str:
    """Scheme and host (and any path prefix) of the public site, without a trailing slash."""
    return settings.SITE_URL.rstrip("/") or request.build_absolute_uri("/").rstrip("/")


class PublicSitemap(Sitemap):
    """Locations on MASTHEAD_SITE_URL when it is set, on the requested host otherwise."""

    def get_protocol(self, protocol: str | None = None) -> str:
        if settings.SITE_URL:
            return urlsplit(settings.SITE_URL).scheme
        return super().get_protocol(protocol)

    def get_domain(self, site=None) -> str:
        if settings.SITE_URL:
            parts = urlsplit(settings.SITE_URL.rstrip("/"))
            return parts.netloc + parts.path
        return super().get_domain(site)


class ArticleSitemap(PublicSitemap):
    changefreq = "daily"
    # sitemap.xml is a single file (no index), so it takes the protocol's maximum, newest first.
    limit = 50000

    def items(self):
        return published().only("pk", "published_at", "updated_at").order_by("-published_at", "-pk")

    def lastmod(self, item):
        return max(filter(None, [item.updated_at, item.published_at]))


class ChannelSitemap(PublicSitemap):
    changefreq = "hourly"
    priority = 0.8

    def items(self):
        # A channel page changes when an article is published in it, not when its row is edited.
        return (
            Channel.objects.filter(is_active=True)
            .annotate(last_published=_last_published("channel"))
            .order_by("order", "pk")
        )

    def lastmod(self, item):
        return item.last_published


class CreatorSitemap(PublicSitemap):
    changefreq = "daily"

    def items(self):
        return (
            Account.objects.filter(article_count__gt=0)
            .only("handle", "updated_at")
            .annotate(last_published=_last_published("account"))
            .order_by("pk")
        )

    def lastmod(self, item):
        return item.last_published


SITEMAPS = {"articles": ArticleSitemap, "channels": ChannelSitemap, "creators": CreatorSitemap}


@require_safe
def sitemap(request: HttpRequest) -> HttpResponse:
    """Django's sitemap view over SITEMAPS, served from the page cache until something is published."""
    return cache_page_for_readers(sitemap_views.sitemap(request, sitemaps=SITEMAPS), ["fronts"])


@require_safe
def news_sitemap(request: HttpRequest) -> HttpResponse:
    """Articles published in the last two days, in the Google News sitemap format."""
    since = timezone.now() - NEWS_WINDOW
    articles = (
        published().filter(published_at__gte=since).only("pk", "title", "published_at").order_by("-published_at", "-pk")
    )
    body = render_to_string(
        "web/news_sitemap.xml",
        {"articles": articles[:NEWS_LIMIT], "base": site_base(request), "site_name": settings.SITE_NAME},
    )
    response = HttpResponse(body, content_type="application/xml; charset=utf-8")
    return cache_page_for_readers(response, ["fronts"])  # publishing and removing purge "fronts"


@require_safe
def robots_txt(request: HttpRequest) -> HttpResponse:
    base = site_base(request)
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /a/*/share/",
        "Disallow: /a/*/shared/",
        "Disallow: /lang/",
        "Disallow: /care/",
        "",
        f"Sitemap: {base}/sitemap.xml",
        f"Sitemap: {base}/sitemap-news.xml",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")
