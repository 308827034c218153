"""A signed-in reader's own state in templates (liked, favorited, following, unread notifications).

Anonymous readers get the defaults without a query: their pages are cached and shared. Answers are
remembered on the request, so the article's actions and its author card share one query."""

from django import template
from django.http import HttpRequest

from masthead.accounts.models import Account
from masthead.articles.models import Article
from masthead.engagement import personal

register = template.Library()


def _memo(context) -> tuple[object, dict]:
    request: HttpRequest | None = context.get("request")
    user = context.get("user") or getattr(request, "user", None)
    if request is None:
        return user, {}
    if not hasattr(request, "_masthead_reader_state"):
        request._masthead_reader_state = {}
    return user, request._masthead_reader_state


@register.simple_tag(takes_context=True)
def article_state(context, article: Article) -> personal.ArticleState:
    """{% article_state article as state %}: state.liked, state.favorited, state.following."""
    user, memo = _memo(context)
    key = ("article", article.pk)
    if key not in memo:
        memo[key] = personal.article_state(user, article)
        memo[("account", article.account_id)] = memo[key].following
    return memo[key]


@register.simple_tag(takes_context=True)
def following(context, account: Account) -> bool:
    """{% following account as is_following %}"""
    user, memo = _memo(context)
    key = ("account", account.pk)
    if key not in memo:
        memo[key] = personal.is_following(user, account)
    return memo[key]


@register.simple_tag(takes_context=True)
def header_state(context) -> personal.HeaderState:
    """{% header_state as me %}: me.creator, me.editor, me.unread (the user menu, one query)."""
    user, memo = _memo(context)
    if "header" not in memo:
        memo["header"] = personal.header_state(user)
    return memo["header"]
