"""Likes, favorites and follows: who may do them, double submits, JSON answers, the pages that show them."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from masthead.accounts.models import Follow, Notification
from masthead.articles import actions as article_actions
from masthead.engagement import actions
from masthead.engagement.models import ArticleLike, Favorite, ReadingHistory
from tests import factories

pytestmark = pytest.mark.django_db

JSON = {"Accept": "application/json"}
ROLES = ("reader", "creator", "editor", "admin")


def user_with_role(role: str, name: str | None = None):
    """A signed-in user of each kind: a plain reader, a creator (owns an account), an editor (the
    editors group) and an admin (superuser)."""
    User = get_user_model()
    name = name or f"{role}-user"
    if role == "admin":
        return User.objects.create_superuser(name, password="a-long-pass-phrase")
    user = User.objects.create_user(name, password="a-long-pass-phrase")
    if role == "creator":
        factories.account(owner=user, name=f"{name}的号")
    elif role == "editor":
        user.groups.add(Group.objects.get_or_create(name="editors")[0])
    return user


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _likes(article) -> int:
    article.refresh_from_db()
    return article.like_count


def _post(client, url, state, data=None, **extra):
    return client.post(url, {"state": state, **(data or {})}, **extra)


# --- anonymous --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["like", "favorite"])
def test_anonymous_reactions_go_to_the_login_page_and_change_nothing(client, name):
    item = factories.article()
    url = reverse(f"engagement:{name}", args=[item.pk])
    response = _post(client, url, "on")
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:login')}?next=/a/{item.pk}/"
    answer = _post(client, url, "on", headers=JSON)
    assert answer.status_code == 401 and answer.json()["login_url"].endswith(f"?next=%2Fa%2F{item.pk}%2F")
    assert not ArticleLike.objects.exists() and not Favorite.objects.exists()


def test_anonymous_follow_goes_to_the_login_page(client):
    factories.account(handle="someone")
    response = _post(client, reverse("engagement:follow", args=["someone"]), "on")
    assert response["Location"] == f"{reverse('accounts:login')}?next=/u/someone/"
    assert not Follow.objects.exists()


def test_anonymous_article_page_has_login_links_and_no_form(client):
    item = factories.article()
    html = client.get(item.get_absolute_url()).content.decode()
    assert "登录后点赞" in html and "登录后收藏" in html and "登录后关注" in html
    assert f"{reverse('accounts:login')}?next=/a/{item.pk}/" in html
    assert "csrfmiddlewaretoken" not in html and 'method="post"' not in html  # cached and shared
    assert client.get(item.get_absolute_url())["X-Page-Cache"] == "hit"


# --- every signed-in role ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_every_role_likes_once_however_often_the_form_is_sent(role):
    item = factories.article()
    client = signed_in(user_with_role(role))
    url = reverse("engagement:like", args=[item.pk])
    for _ in range(2):  # a double submit
        response = _post(client, url, "on", data={"next": item.get_absolute_url()})
        assert response.status_code == 302 and response["Location"] == item.get_absolute_url()
    assert _likes(item) == 1 and ArticleLike.objects.count() == 1
    for _ in range(2):
        _post(client, url, "off")
    assert _likes(item) == 0 and not ArticleLike.objects.exists()


@pytest.mark.parametrize("role", ROLES)
def test_every_role_favorites_and_unfavorites(role):
    item = factories.article()
    user = user_with_role(role)
    client = signed_in(user)
    url = reverse("engagement:favorite", args=[item.pk])
    assert _post(client, url, "on", headers=JSON).json() == {"state": True}
    assert _post(client, url, "on", headers=JSON).json() == {"state": True}
    assert Favorite.objects.filter(user=user, article=item).count() == 1
    assert _post(client, url, "off", headers=JSON).json() == {"state": False}
    assert not Favorite.objects.exists()


@pytest.mark.parametrize("role", ROLES)
def test_every_role_follows_others_and_the_count_is_the_true_count(role):
    writer = factories.account(handle="followed")
    url = reverse("engagement:follow", args=["followed"])
    first = signed_in(user_with_role(role))
    assert _post(first, url, "on", headers=JSON).json() == {"state": True, "count": 1, "count_text": "1"}
    assert _post(first, url, "on", headers=JSON).json()["count"] == 1  # a double submit
    other = signed_in(user_with_role("reader", "someone-else"))
    assert _post(other, url, "on", headers=JSON).json()["count"] == 2
    assert _post(first, url, "off", headers=JSON).json() == {"state": False, "count": 1, "count_text": "1"}
    writer.refresh_from_db()
    assert writer.follower_count == Follow.objects.filter(account=writer).count() == 1


def test_a_creator_cannot_like_or_follow_itself_but_may_favorite_its_own_article():
    user = user_with_role("creator")
    item = factories.article(account_=user.account)
    client = signed_in(user)
    refused = _post(client, reverse("engagement:like", args=[item.pk]), "on", headers=JSON)
    assert refused.status_code == 403 and refused.json()["error"] == "不能给自己的文章点赞。"
    page = _post(client, reverse("engagement:like", args=[item.pk]), "on")
    assert page.status_code == 403 and "不能给自己的文章点赞。" in page.content.decode()
    follow = _post(client, reverse("engagement:follow", args=[user.account.handle]), "on", headers=JSON)
    assert follow.status_code == 403 and follow.json()["error"] == "不能关注自己的账号。"
    assert _post(client, reverse("engagement:favorite", args=[item.pk]), "on").status_code == 302
    assert _likes(item) == 0 and not Follow.objects.exists() and Favorite.objects.count() == 1


def test_creator_page_shows_the_follow_form_to_others_and_none_to_its_owner():
    owner = user_with_role("creator")
    handle = owner.account.handle
    mine = signed_in(owner).get(reverse("web:creator", args=[handle])).content.decode()
    assert reverse("engagement:follow", args=[handle]) not in mine
    reader = user_with_role("reader")
    actions_url = reverse("engagement:follow", args=[handle])
    html = signed_in(reader).get(reverse("web:creator", args=[handle])).content.decode()
    assert actions_url in html and 'name="state" value="on"' in html and ">关注<" in html
    Follow.objects.create(user=reader, account=owner.account)
    html = signed_in(reader).get(reverse("web:creator", args=[handle])).content.decode()
    assert 'name="state" value="off"' in html and "已关注" in html


def test_unpublished_articles_cannot_be_liked_or_favorited_but_reactions_can_be_taken_back():
    reader = user_with_role("reader")
    client = signed_in(reader)
    draft = factories.article(publish=False)
    assert _post(client, reverse("engagement:like", args=[draft.pk]), "on").status_code == 403
    assert _post(client, reverse("engagement:favorite", args=[draft.pk]), "on").status_code == 403
    item = factories.article()
    actions.like(reader, item)
    actions.favorite(reader, item)
    article_actions.remove(item, reason="违规")
    assert _post(client, reverse("engagement:like", args=[item.pk]), "off").status_code == 302
    assert _post(client, reverse("engagement:favorite", args=[item.pk]), "off").status_code == 302
    assert _likes(item) == 0 and not Favorite.objects.exists()
    assert _post(client, reverse("engagement:like", args=[999999]), "on").status_code == 404


def test_bad_requests_are_refused():
    item = factories.article()
    client = signed_in(user_with_role("reader"))
    url = reverse("engagement:like", args=[item.pk])
    assert client.get(url).status_code == 405
    assert client.post(url, {"state": "toggle"}).status_code == 400
    assert client.post(url).status_code == 400
    # The next address must be this site's.
    assert _post(client, url, "on", data={"next": "https://evil.example/"})["Location"] == item.get_absolute_url()


def test_reactions_need_the_csrf_token():
    item = factories.article()
    client = Client(enforce_csrf_checks=True)
    client.force_login(user_with_role("reader"))
    assert _post(client, reverse("engagement:like", args=[item.pk]), "on").status_code == 403
    assert _likes(item) == 0


def test_toggles_are_rate_limited_per_user(settings):
    settings.MASTHEAD_RATE_LIMITS = {"reaction-user": (3, 60)}
    item = factories.article()
    client = signed_in(user_with_role("reader"))
    url = reverse("engagement:like", args=[item.pk])
    for state in ("on", "off", "on"):
        assert _post(client, url, state).status_code == 302
    refused = _post(client, url, "off", headers=JSON)
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0 and "操作太频繁" in refused.json()["error"]
    assert _likes(item) == 1  # the refused "off" changed nothing
    other = signed_in(user_with_role("reader", "another"))
    assert _post(other, url, "on").status_code == 302  # the limit is per user


# --- counts and pages -------------------------------------------------------------------------------


def test_like_count_is_recounted_from_the_rows():
    item = factories.article()
    readers = [user_with_role("reader", f"r{n}") for n in range(3)]
    for reader in readers:
        actions.like(reader, item)
    type(item).objects.filter(pk=item.pk).update(like_count=40)  # drifted
    assert actions.unlike(readers[0], item) == 2
    assert _likes(item) == 2


def test_a_like_purges_the_cached_article_page(client, django_capture_on_commit_callbacks):
    item = factories.article()
    assert '登录后点赞</span> <span class="reaction-count">0<' in client.get(item.get_absolute_url()).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        _post(signed_in(user_with_role("reader")), reverse("engagement:like", args=[item.pk]), "on")
    html = client.get(item.get_absolute_url()).content.decode()
    assert '登录后点赞</span> <span class="reaction-count">1<' in html


def test_signed_in_article_page_shows_the_readers_state():
    item = factories.article()
    reader = user_with_role("reader")
    client = signed_in(reader)
    html = client.get(item.get_absolute_url()).content.decode()
    like_form = re.search(r'<form[^>]*data-reaction="like".*?</form>', html, re.S).group(0)
    assert 'value="on"' in like_form and 'aria-pressed="false"' in like_form and "csrfmiddlewaretoken" in like_form
    actions.like(reader, item)
    actions.favorite(reader, item)
    html = client.get(item.get_absolute_url()).content.decode()
    like_form = re.search(r'<form[^>]*data-reaction="like".*?</form>', html, re.S).group(0)
    favorite_form = re.search(r'<form[^>]*data-reaction="favorite".*?</form>', html, re.S).group(0)
    assert (
        'value="off"' in like_form
        and "已赞" in like_form
        and '<span class="reaction-count" data-count="like">1<' in like_form
    )
    assert 'value="off"' in favorite_form and "已收藏" in favorite_form


OUR_TABLES = (
    "engagement_articlelike", "engagement_favorite", "accounts_follow", "engagement_readinghistory",
    "accounts_notification",
)  # fmt: skip


def _queries(client, url) -> tuple[int, int]:
    """(all queries, queries reading or writing the reader's reactions) of a cold page."""
    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    ours = [q for q in captured.captured_queries if any(t in q["sql"] for t in OUR_TABLES)]
    return len(captured), len(ours)


def test_reading_state_costs_signed_in_readers_at_most_three_queries(settings):
    settings.MASTHEAD_PAGE_CACHE_SECONDS = 0
    item = factories.article()
    reader = user_with_role("reader")
    client = signed_in(reader)
    sizes = set()
    for _round in range(2):
        anonymous, anonymous_ours = _queries(Client(), item.get_absolute_url())
        assert anonymous <= 12 and anonymous_ours == 0  # nothing personal on the shared page
        # The reader's like/favorite/follow state (one query), the reading-history upsert, and the
        # header's menu (studio and review links and the unread count in one, where the links alone
        # took two queries before).
        total, ours = _queries(client, item.get_absolute_url())
        assert ours == 3
        sizes.add(total - anonymous)
        for n in range(5):  # more likes, favorites, history and notifications cost nothing more
            other = factories.article(account_=item.account)
            actions.like(reader, other)
            actions.favorite(reader, other)
            actions.record_read(reader, other)
            Notification.objects.create(user=reader, kind="test", text=f"通知{n}")
    assert len(sizes) == 1


def test_reading_an_article_signed_in_records_history_once_per_article(client):
    item = factories.article()
    reader = user_with_role("reader")
    client.get(item.get_absolute_url())  # anonymous: nothing is recorded
    assert not ReadingHistory.objects.exists()
    signed = signed_in(reader)
    signed.get(item.get_absolute_url())
    first = ReadingHistory.objects.get(user=reader, article=item).read_at
    signed.get(item.get_absolute_url())
    entry = ReadingHistory.objects.get(user=reader, article=item)
    assert entry.read_at >= first and ReadingHistory.objects.count() == 1
