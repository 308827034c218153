"""sitemap.xml (articles, channels, creators) and a Google News sitemap of the last two days."""

from datetime import timedelta

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone

from masthead.accounts.models import Account
from masthead.articles.queries import published
from masthead.channels.models import Channel


class ArticleSitemap(Sitemap):
    changefreq = "daily"
    limit = 5000

    def items(self):
        return published().only("pk", "updated_at").order_by("-published_at")

    def lastmod(self, item):
        return item.updated_at


class ChannelSitemap(Sitemap):
    changefreq = "hourly"
    priority = 0.8

    def items(self):
        return Channel.objects.filter(is_active=True)

    def lastmod(self, item):
        return item.updated_at


class CreatorSitemap(Sitemap):
    changefreq = "daily"

    def items(self):
        return Account.objects.filter(article_count__gt=0).only("handle", "updated_at")

    def lastmod(self, item):
        return item.updated_at


SITEMAPS = {"articles": ArticleSitemap, "channels": ChannelSitemap, "creators": CreatorSitemap}


def news_sitemap(request: HttpRequest) -> HttpResponse:
    """Articles published in the last two days, in the Google News sitemap format."""
    since = timezone.now() - timedelta(days=2)
    articles = published().filter(published_at__gte=since).only("pk", "title", "published_at")
    base = settings.SITE_URL or request.build_absolute_uri("/").rstrip("/")
    body = render_to_string(
        "web/news_sitemap.xml",
        {"articles": articles.order_by("-published_at")[:1000], "base": base, "site_name": settings.SITE_NAME},
    )
    return HttpResponse(body, content_type="application/xml; charset=utf-8")


def robots_txt(request: HttpRequest) -> HttpResponse:
    base = settings.SITE_URL or request.build_absolute_uri("/").rstrip("/")
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /a/*/share/",
        "Disallow: /lang/",
        "Disallow: /care/",
        f"Sitemap: {base}/sitemap.xml",
        f"Sitemap: {base}/sitemap-news.xml",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")
