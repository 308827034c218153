"""Page metadata for search engines and sharing: titles, descriptions, canonical URLs, Open Graph, JSON-LD."""

from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _

from masthead.accounts.models import Account
from masthead.articles.models import Article
from masthead.channels.models import Channel


@dataclass
class Meta:
    title: str
    description: str
    canonical: str
    og_type: str = "website"
    image: str = ""


def _absolute(request: HttpRequest, path: str) -> str:
    if settings.SITE_URL:
        return settings.SITE_URL + path
    return request.build_absolute_uri(path)


def home(request: HttpRequest) -> Meta:
    return Meta(
        title=settings.SITE_NAME,
        description=_("自媒体创作者的新闻与观点平台：头条、军事、体育、娱乐、财经、科技等频道。"),
        canonical=_absolute(request, "/"),
    )


def channel(request: HttpRequest, item: Channel) -> Meta:
    return Meta(
        title=f"{item.name} - {settings.SITE_NAME}",
        description=item.description or _("%(name)s频道最新文章") % {"name": item.name},
        canonical=_absolute(request, item.get_absolute_url()),
    )


def creator(request: HttpRequest, account: Account) -> Meta:
    return Meta(
        title=f"{account.name} - {settings.SITE_NAME}",
        description=account.slogan or account.name,
        canonical=_absolute(request, account.get_absolute_url()),
        og_type="profile",
        image=_absolute(request, account.avatar.url) if account.avatar else "",
    )


def article(request: HttpRequest, item: Article) -> Meta:
    return Meta(
        title=f"{item.title} - {item.account.name} - {settings.SITE_NAME}",
        description=item.summary[:160],
        canonical=_absolute(request, item.get_absolute_url()),
        og_type="article",
        image=_absolute(request, item.cover.url_for_width(1200)) if item.cover else "",
    )


def article_json_ld(request: HttpRequest, item: Article) -> dict:
    """schema.org NewsArticle for the article page."""
    data = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": item.title,
        "description": item.summary,
        "mainEntityOfPage": _absolute(request, item.get_absolute_url()),
        "datePublished": item.published_at.isoformat() if item.published_at else None,
        "dateModified": item.updated_at.isoformat(),
        "articleSection": item.channel.name,
        "keywords": [t.name for t in item.tags.all()],
        "author": {
            "@type": "Organization",
            "name": item.account.name,
            "url": _absolute(request, item.account.get_absolute_url()),
        },
        "publisher": {"@type": "Organization", "name": settings.SITE_NAME},
        "inLanguage": "zh-CN",
    }
    if item.cover:
        data["image"] = [_absolute(request, item.cover.url_for_width(1200))]
    return data
