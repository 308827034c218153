"""Small factory functions for test data (no fixtures files)."""

import importlib
import io
import itertools
from datetime import timedelta

from django.utils import timezone
from PIL import Image as PILImage

from masthead.accounts.models import Account
from masthead.articles import actions
from masthead.articles.images import create_image
from masthead.articles.models import Article
from masthead.channels.models import Channel

_seq = itertools.count(1)


def channel(slug: str = "tech") -> Channel:
    if not Channel.objects.filter(slug=slug).exists():
        # A transactional test earlier in the run flushes the table the data migration filled.
        from django.apps import apps

        importlib.import_module("masthead.channels.migrations.0002_default_channels").create_channels(apps, None)
    return Channel.objects.get(slug=slug)


def account(**fields) -> Account:
    n = next(_seq)
    defaults = {"handle": f"writer-{n}", "name": f"测试号{n}", "slogan": "认真写作", "ip_region": "北京"}
    return Account.objects.create(**{**defaults, **fields})


def image_bytes(size=(800, 450), color=(200, 80, 60), fmt="JPEG", **save) -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", size, color).save(out, fmt, **save)
    return out.getvalue()


def image(account=None, **fields):
    data = fields.pop("data", None) or image_bytes()
    return create_image(data, filename="photo.jpg", alt=fields.pop("alt", "一张测试图片"), account=account, **fields)


def article(*, publish: bool = True, account_=None, channel_=None, tags=("测试",), body=None, **fields) -> Article:
    n = next(_seq)
    item = actions.create_article(
        account=account_ or account(),
        channel=channel_ or channel(),
        title=fields.pop("title", f"测试文章{n}"),
        body=body if body is not None else "<p>" + "这是一篇用于测试的文章。" * 20 + "</p>",
        tags=tags,
        **fields,
    )
    if publish:
        actions.publish(item, at=timezone.now() - timedelta(minutes=n))
    item.refresh_from_db()
    return item
