"""Output shapes shared by several routers, and the functions that fill them from model rows.

Every function here reads only what the row (and its select_related neighbours) already holds, so
building a list costs no query per item. Absolute URLs come from the request, as on the pages.
"""

from datetime import datetime

from django.http import HttpRequest
from ninja import Schema

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


def absolute(request: HttpRequest, path: str) -> str:
    return request.build_absolute_uri(path)


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
        "ip_region": article.ip_region or "",
    }
