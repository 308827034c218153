"""Shared helpers of the studio tests (creators, logged-in clients, the edit form's fields)."""

import itertools

from django.contrib.auth import get_user_model

from masthead.accounts.models import Badge
from masthead.articles.models import Article
from tests import factories

_seq = itertools.count(1)


def creator(*, badge: int = Badge.NEWCOMER, **fields):
    """A user who owns a creator account; returns (user, account)."""
    n = next(_seq)
    user = get_user_model().objects.create_user(f"creator{n}", f"creator{n}@example.com", "correct horse 9")
    return user, factories.account(owner=user, badge=badge, **fields)


def reader():
    n = next(_seq)
    return get_user_model().objects.create_user(f"reader{n}", f"reader{n}@example.com", "correct horse 9")


def draft(account, **fields) -> Article:
    return factories.article(publish=False, account_=account, **fields)


def form_data(article: Article, **overrides) -> dict:
    """What the edit form posts for `article` unchanged, with `overrides`."""
    article.refresh_from_db()
    data = {
        "version": article.version,
        "title": article.title,
        "summary": "",
        "channel": article.channel_id,
        "tags": "，".join(t.name for t in article.tags.all()),
        "cover": article.cover_id or "",
        "source": article.source,
        "body": article.body_html,
        "action": "save",
    }
    for name in ("is_original", "is_fiction", "is_ai_generated", "is_news"):
        if getattr(article, name):
            data[name] = "on"
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}
