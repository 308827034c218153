"""Reads of one signed-in reader's own things: their state on a page (liked, favorited, following),
their follows, favorites, reading history and notifications. Each is one query."""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models import Count, Exists, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from masthead.accounts import roles
from masthead.accounts.models import Account, Follow, Notification
from masthead.articles.models import Article
from masthead.engagement.models import ArticleLike, Favorite, ReadingHistory

# What a list row of an article needs; the bodies are large and never shown in a list.
_ARTICLE_DEFER = ("article__body_html", "article__body_text")


@dataclass(frozen=True)
class ArticleState:
    liked: bool = False
    favorited: bool = False
    following: bool = False  # the article's account


def article_state(user, article: Article) -> ArticleState:
    """The reader's like, favorite and follow of the article's account, in one query."""
    if not getattr(user, "is_authenticated", False):
        return ArticleState()
    row = (
        Article.objects.filter(pk=article.pk)
        .annotate(
            liked=Exists(ArticleLike.objects.filter(user=user, article=OuterRef("pk"))),
            favorited=Exists(Favorite.objects.filter(user=user, article=OuterRef("pk"))),
            following=Exists(Follow.objects.filter(user=user, account=OuterRef("account_id"))),
        )
        .values("liked", "favorited", "following")
        .first()
    )
    return ArticleState(**row) if row else ArticleState()


def is_following(user, account: Account) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return Follow.objects.filter(user=user, account=account).exists()


@dataclass(frozen=True)
class HeaderState:
    creator: bool = False  # owns a creator account: the studio link
    editor: bool = False  # staff, superuser or in the editors group: the review link
    unread: int = 0  # unread notifications, shown next to 我的


def header_state(user) -> HeaderState:
    """What the header's user menu shows, in one query (the menu is on every signed-in page)."""
    if not getattr(user, "is_authenticated", False):
        return HeaderState()
    unread = (
        Notification.objects.filter(user=OuterRef("pk"), read_at__isnull=True)
        .order_by()
        .values("user")
        .annotate(n=Count("pk"))
        .values("n")
    )
    row = (
        get_user_model()
        .objects.filter(pk=user.pk)
        .annotate(
            unread=Coalesce(Subquery(unread), 0),
            creator=Exists(Account.objects.filter(owner=OuterRef("pk"))),
            in_editors=Exists(Group.objects.filter(user=OuterRef("pk"), name=roles.EDITORS_GROUP)),
        )
        .values("unread", "creator", "in_editors")
        .first()
    )
    if row is None:
        return HeaderState()
    editor = user.is_staff or user.is_superuser or row["in_editors"]
    return HeaderState(creator=row["creator"], editor=editor, unread=row["unread"])


def follows(user) -> QuerySet[Follow]:
    return Follow.objects.filter(user=user).select_related("account").order_by("-created_at", "-pk")


def favorites(user) -> QuerySet[Favorite]:
    return (
        Favorite.objects.filter(user=user)
        .select_related("article", "article__account")
        .defer(*_ARTICLE_DEFER)
        .order_by("-created_at", "-pk")
    )


def history(user) -> QuerySet[ReadingHistory]:
    return (
        ReadingHistory.objects.filter(user=user)
        .select_related("article", "article__account")
        .defer(*_ARTICLE_DEFER)
        .order_by("-read_at", "-pk")
    )


def notifications(user) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user).order_by("-created_at", "-pk")
