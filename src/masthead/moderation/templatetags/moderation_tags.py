"""Template tags for 举报 and 申诉 on pages other apps own (我的, the removed-article page, the studio)."""

from collections.abc import Iterable

from django import template

from masthead.moderation.models import Appeal, Report

register = template.Library()

MY_LIST_SIZE = 20


@register.simple_tag
def reports_of(user) -> list[Report]:
    """The user's latest reports with their targets (one query)."""
    if not getattr(user, "is_authenticated", False):
        return []
    qs = Report.objects.filter(reporter=user).select_related("article", "comment__article", "account")
    return list(qs.order_by("-created_at", "-pk")[:MY_LIST_SIZE])


@register.simple_tag
def appeals_of(user) -> list[Appeal]:
    """The user's latest appeals with their targets (one query)."""
    if not getattr(user, "is_authenticated", False):
        return []
    qs = Appeal.objects.filter(appellant=user).select_related("article", "comment__article")
    return list(qs.order_by("-created_at", "-pk")[:MY_LIST_SIZE])


@register.simple_tag
def appeal_for(target) -> Appeal | None:
    """The appeal against an article's or comment's takedown, if its author made one."""
    if target is None:
        return None
    field = "comment" if target._meta.model_name == "comment" else "article"
    return Appeal.objects.filter(**{field: target}).first()


@register.simple_tag
def appeals_by_article(articles: Iterable) -> dict[int, Appeal]:
    """Appeals of the removed articles in a list, by article id (one query for the whole list)."""
    removed = [a for a in articles if getattr(a, "status", None) == "removed"]
    if not removed:
        return {}
    descriptor = type(removed[0]).appeal
    if all(descriptor.is_cached(a) for a in removed):  # the view used select_related("appeal"): no query
        return {a.pk: a.appeal for a in removed if getattr(a, "appeal", None) is not None}
    return {appeal.article_id: appeal for appeal in Appeal.objects.filter(article_id__in=[a.pk for a in removed])}


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None
