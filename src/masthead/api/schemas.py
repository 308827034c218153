"""Output shapes shared by several routers, and the functions that fill them from model rows.

Every function here reads only what the row (and its select_related neighbours) already holds, so
building a list costs no query per item. Absolute URLs come from the request, as on the pages.
"""

import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Schema

from masthead.accounts import fields
from masthead.accounts.models import Account
from masthead.articles.models import Article, Image
from masthead.channels.models import Channel


class ChannelBrief(Schema):
    slug: str
    name: str
    url: str


class AccountBrief(Schema):
    handle: str
    name: str
    url: str
    avatar: str | None
    badge: int
    badge_label: str
    verified: bool


class Rendition(Schema):
    url: str
    width: int
    height: int


class ImageOut(Schema):
    id: int
    url: str
    width: int
    height: int
    alt: str
    caption: str
    credit: str
    label: str
    label_text: str
    is_ai_generated: bool
    renditions: list[Rendition]
    taken_on: date | None  # the creator's own photo: when and where (shown as 摄于 …)
    taken_place: str


class Labels(Schema):
    original: bool
    fiction: bool
    ai_generated: bool
    source: str
    mark: str  # "" | "rumour" | "disputed"
    mark_text: str
    mark_note: str
    debunked_by: int | None


class Counts(Schema):
    views: int
    likes: int
    comments: int
    shares: int


class ArticleSummary(Schema):
    id: int
    url: str
    title: str
    summary: str
    channel: ChannelBrief
    account: AccountBrief
    published_at: datetime | None
    cover: ImageOut | None
    labels: Labels
    counts: Counts
    ip_region: str


def numbered_page(qs: QuerySet, page: int, build: Callable[[Any], dict], size: int) -> dict:
    """Page `page` of `qs` (two queries: count and rows) in the studio's and review's shape, rows through `build`."""
    total = qs.count()
    start = (page - 1) * size
    return {
        "count": total,
        "page": page,
        "page_size": size,
        "next_page": page + 1 if start + size < total else None,
        "items": [build(row) for row in qs[start : start + size]],
    }


def absolute(request: HttpRequest, path: str) -> str:
    return request.build_absolute_uri(path)


def region(value: str) -> str:
    """An IP属地 as the pages show it: the stored region, or 未知 (translated) when there is none."""
    return value or _("未知")


def article_region(article: Article) -> str:
    # As the article byline: the article's region, else its account's (articles from before regions were kept).
    return region(article.ip_region or article.account.ip_region)


def channel_brief(request: HttpRequest, channel: Channel) -> dict:
    return {"slug": channel.slug, "name": channel.name, "url": absolute(request, channel.get_absolute_url())}


def account_brief(request: HttpRequest, account: Account) -> dict:
    return {
        "handle": account.handle,
        "name": account.name,
        "url": absolute(request, account.get_absolute_url()),
        "avatar": absolute(request, account.avatar.url) if account.avatar else None,
        "badge": account.badge,
        "badge_label": str(account.get_badge_display()),
        "verified": account.verified,
    }


def image_out(request: HttpRequest, image: Image) -> dict:
    from django.core.files.storage import default_storage

    return {
        "id": image.pk,
        "url": absolute(request, image.file.url),
        "width": image.width,
        "height": image.height,
        "alt": image.alt,
        "caption": image.caption,
        "credit": image.credit,
        "label": image.label,
        "label_text": str(image.get_label_display()) if image.label else "",
        "is_ai_generated": image.is_ai_generated,
        "renditions": [
            {"url": absolute(request, default_storage.url(r["name"])), "width": r["w"], "height": r["h"]}
            for r in image.renditions
        ],
        "taken_on": image.taken_on,
        "taken_place": image.taken_place,
    }


def labels(article: Article) -> dict:
    return {
        "original": article.is_original,
        "fiction": article.is_fiction,
        "ai_generated": article.is_ai_generated,
        "source": article.source,
        "mark": article.mark,
        "mark_text": str(article.get_mark_display()) if article.mark else "",
        "mark_note": article.mark_note,
        "debunked_by": article.debunked_by_id,
    }


def counts(article: Article) -> dict:
    return {
        "views": article.view_count,
        "likes": article.like_count,
        "comments": article.comment_count,
        "shares": article.share_count,
    }


def article_summary(request: HttpRequest, article: Article) -> dict:
    """An article as lists show it; needs account, channel and cover selected (articles.queries.for_listing)."""
    return {
        "id": article.pk,
        "url": absolute(request, article.get_absolute_url()),
        "title": article.title,
        "summary": article.summary,
        "channel": channel_brief(request, article.channel),
        "account": account_brief(request, article.account),
        "published_at": article.published_at,
        "cover": image_out(request, article.cover) if article.cover_id else None,
        "labels": labels(article),
        "counts": counts(article),
        "ip_region": article_region(article),
    }


class Credential(Schema):
    """The qualification an account in a regulated field (时政, 财经, 医疗健康, 法律) shows on its card."""

    name: str | None  # None: 资质未认证
    valid: bool  # False when missing or expired (资质已过期): publishing in the field is paused


class AccountCard(AccountBrief):
    """The author card: what the article page's sidebar and the creator page show about an account."""

    slogan: str
    field: str
    field_label: str
    credential: Credential | None  # only for regulated fields, as on the card
    ip_region: str
    article_count: int
    follower_count: int


class AccountProfile(AccountCard):
    intro: str
    articles_url: str


class ChannelOut(ChannelBrief):
    description: str


class ArticleList(Schema):
    """One page of a list, newest first. Pass `next_cursor` back as `cursor` for the next page; null at the end."""

    items: list[ArticleSummary]
    next_cursor: str | None


class ChannelWithTop(ChannelOut):
    top: list[ArticleSummary]


class ChannelList(Schema):
    items: list[ChannelWithTop]


class ChannelPage(ArticleList):
    channel: ChannelOut


class ArticleLabels(Labels):
    """Labels with the debunking article spelled out (only while it is published, as the page links it)."""

    debunked_by_url: str | None
    debunked_by_title: str | None


class ArticleDetail(Schema):
    id: int
    url: str
    title: str
    summary: str
    body_html: str  # sanitised on save; image and link URLs made absolute
    body_text: str
    channel: ChannelBrief
    account: AccountCard
    published_at: datetime | None
    updated_at: datetime
    tags: list[str]
    labels: ArticleLabels
    ip_region: str
    cover: ImageOut | None
    images: list[ImageOut]  # the body's pictures, in the order the body shows them
    counts: Counts


def account_card(request: HttpRequest, account: Account) -> dict:
    credential = None
    if account.is_regulated:
        credential = {"name": account.credential_name or None, "valid": account.credential_valid()}
    return {
        **account_brief(request, account),
        "slogan": account.slogan,
        "field": account.field,
        "field_label": fields.display(account.field) if account.field else "",
        "credential": credential,
        "ip_region": region(account.ip_region),
        "article_count": account.article_count,
        "follower_count": account.follower_count,
    }


def channel_out(request: HttpRequest, channel: Channel) -> dict:
    return {**channel_brief(request, channel), "description": channel.description}


def article_labels(request: HttpRequest, article: Article) -> dict:
    """Needs debunked_by selected (articles.queries.for_page)."""
    debunk = article.debunked_by if article.debunked_by_id else None
    shown = debunk is not None and debunk.status == Article.Status.PUBLISHED
    return {
        **labels(article),
        "debunked_by": debunk.pk if shown else None,
        "debunked_by_url": absolute(request, debunk.get_absolute_url()) if shown else None,
        "debunked_by_title": debunk.title if shown else None,
    }


# In <img> and <a> tags: src, srcset and href values that are site paths ("/media/…", "/a/12/").
_URL_TAG_RE = re.compile(r"<(?:img|a)\b[^>]*>")
_URL_ATTR_RE = re.compile(r'\b(src|srcset|href)="([^"]*)"')


def absolute_body(request: HttpRequest, body_html: str) -> str:
    """The sanitised body with the site's own URLs made absolute, for clients that are not on the site.

    Only attribute values are prefixed with the origin (a host Django validated); nothing else changes."""
    origin = absolute(request, "/").rstrip("/")

    def url(value: str) -> str:
        value = value.strip()
        return origin + value if value.startswith("/") and not value.startswith("//") else value

    def attribute(match: re.Match) -> str:
        name, value = match.groups()
        if name == "srcset":  # "url 320w, url 640w"
            value = ", ".join(" ".join([url(c.split()[0]), *c.split()[1:]]) for c in value.split(",") if c.strip())
        else:
            value = url(value)
        return f'{name}="{value}"'

    return _URL_TAG_RE.sub(lambda tag: _URL_ATTR_RE.sub(attribute, tag.group(0)), body_html)


_BODY_IMAGE_RE = re.compile(r'<figure[^>]*\bdata-image="(\d+)"')


def body_images(article: Article, images: list[Image]) -> list[Image]:
    """The article's images in the order its body shows them (the relation itself has no order)."""
    order: dict[int, int] = {}
    for position, pk in enumerate(_BODY_IMAGE_RE.findall(article.body_html)):
        order.setdefault(int(pk), position)
    return sorted(images, key=lambda image: (order.get(image.pk, len(order)), image.pk))


def article_detail(request: HttpRequest, article: Article) -> dict:
    """An article as its page shows it; needs articles.queries.for_page plus the `images` prefetched.

    body_html is what was sanitised on save, with figure labels in the reader's language (as the
    page renders it) and the site's URLs absolute."""
    from masthead.web.templatetags.masthead import localize_figures

    return {
        "id": article.pk,
        "url": absolute(request, article.get_absolute_url()),
        "title": article.title,
        "summary": article.summary,
        "body_html": absolute_body(request, str(localize_figures(article.body_html))),
        "body_text": article.body_text,
        "channel": channel_brief(request, article.channel),
        "account": account_card(request, article.account),
        "published_at": article.published_at,
        "updated_at": article.updated_at,
        "tags": [tag.name for tag in article.tags.all()],
        "labels": article_labels(request, article),
        "ip_region": article_region(article),
        "cover": image_out(request, article.cover) if article.cover_id else None,
        "images": [image_out(request, image) for image in body_images(article, list(article.images.all()))],
        "counts": counts(article),
    }
