"""Page metadata for search engines and sharing: titles, descriptions, canonical URLs, Open Graph, JSON-LD."""

import json
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from masthead.accounts.models import Account
from masthead.articles.models import Article
from masthead.channels.models import Channel

DESCRIPTION_LENGTH = 160


@dataclass
class Meta:
    title: str
    description: str
    canonical: str
    og_type: str = "website"
    image: str = ""


def absolute_url(request: HttpRequest | None, path: str) -> str:
    """`path` as an absolute URL on the public site (MASTHEAD_SITE_URL when set, else the request's host).

    URLs that are already absolute (media on object storage) are returned unchanged."""
    if "://" in path or path.startswith("//"):
        return path
    base = settings.SITE_URL.rstrip("/")
    if base:
        return base + path
    if request is None:
        raise ValueError("absolute_url needs a request when MASTHEAD_SITE_URL is not set")
    return request.build_absolute_uri(path)


def _page_number(request: HttpRequest) -> int:
    """The listing page asked for; page 2+ is a page of its own for search engines."""
    try:
        return max(int(request.GET.get("page", 1)), 1)
    except (TypeError, ValueError):
        return 1


def _listing(request: HttpRequest, title: str, path: str) -> tuple[str, str]:
    """Title and canonical URL of a paginated listing: page N points at itself, not at page 1."""
    page = _page_number(request)
    if page == 1:
        return title, absolute_url(request, path)
    return _("%(title)s - 第%(page)d页") % {"title": title, "page": page}, absolute_url(request, f"{path}?page={page}")


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= DESCRIPTION_LENGTH else text[: DESCRIPTION_LENGTH - 1] + "…"


def home(request: HttpRequest) -> Meta:
    title, canonical = _listing(request, settings.SITE_NAME, "/")
    return Meta(
        title=title,
        description=_("自媒体创作者的新闻与观点平台：头条、军事、体育、娱乐、财经、科技等频道。"),
        canonical=canonical,
    )


def channel(request: HttpRequest, item: Channel) -> Meta:
    title, canonical = _listing(request, f"{item.name} - {settings.SITE_NAME}", item.get_absolute_url())
    return Meta(
        title=title,
        description=_clip(item.description or _("%(name)s频道最新文章") % {"name": item.name}),
        canonical=canonical,
    )


def creator(request: HttpRequest, account: Account) -> Meta:
    title, canonical = _listing(request, f"{account.name} - {settings.SITE_NAME}", account.get_absolute_url())
    # The name leads so that two accounts with the same slogan still get different descriptions.
    if account.slogan:
        description = _("%(name)s：%(slogan)s") % {"name": account.name, "slogan": account.slogan}
    else:
        description = _("%(name)s的最新文章") % {"name": account.name}
    return Meta(
        title=title,
        description=_clip(description),
        canonical=canonical,
        og_type="profile",
        image=absolute_url(request, account.avatar.url) if account.avatar else "",
    )


def _cover_url(request: HttpRequest, item: Article) -> str:
    return absolute_url(request, item.cover.url_for_width(1200)) if item.cover else ""


def article(request: HttpRequest, item: Article) -> Meta:
    return Meta(
        title=f"{item.title} - {item.account.name} - {settings.SITE_NAME}",
        description=_clip(item.summary or item.title),
        canonical=absolute_url(request, item.get_absolute_url()),
        og_type="article",
        image=_cover_url(request, item),
    )


def _w3c(value: datetime | None) -> str | None:
    """ISO 8601 with the site's UTC offset (+08:00), as schema.org and Google expect."""
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


def article_json_ld(request: HttpRequest, item: Article) -> dict:
    """schema.org NewsArticle for the article page."""
    data = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": item.title,
        "description": item.summary or item.title,
        "url": absolute_url(request, item.get_absolute_url()),
        "mainEntityOfPage": absolute_url(request, item.get_absolute_url()),
        "datePublished": _w3c(item.published_at),
        "dateModified": _w3c(max(filter(None, [item.updated_at, item.published_at]))),
        "articleSection": item.channel.name,
        "keywords": [t.name for t in item.tags.all()],
        "author": {
            "@type": "Organization",
            "name": item.account.name,
            "url": absolute_url(request, item.account.get_absolute_url()),
        },
        "publisher": {"@type": "Organization", "name": settings.SITE_NAME, "url": absolute_url(request, "/")},
        "inLanguage": "zh-CN",
    }
    if item.cover:
        data["image"] = [_cover_url(request, item)]
    return data


def json_ld_text(data: dict) -> str:
    """JSON for a <script type="application/ld+json"> element: no text in it can close the element
    or open a comment, whatever the article's title says."""
    text = json.dumps(data, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
