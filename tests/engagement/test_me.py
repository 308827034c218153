"""The 我的 page: follows, favorites, reading history and notifications, each the reader's own."""

import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from masthead.accounts import actions as account_actions
from masthead.accounts import notices
from masthead.accounts.models import Follow, Notification
from masthead.articles import actions as article_actions
from masthead.engagement import actions
from masthead.engagement.models import Favorite, ReadingHistory
from tests import factories
from tests.engagement.test_reactions import ROLES, signed_in, user_with_role

pytestmark = pytest.mark.django_db

JSON = {"Accept": "application/json"}


def _section(html: str, anchor: str) -> str:
    return re.search(rf'<section[^>]*id="{anchor}".*?</section>', html, re.S).group(0)


@pytest.mark.parametrize(
    "url",
    ["/me/", "/me/follows/", "/me/favorites/", "/me/history/", "/me/notifications/"],
)
def test_anonymous_readers_are_sent_to_login(client, url):
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize(
    "url",
    ["/me/history/1/delete/", "/me/history/clear/", "/me/notifications/1/read/", "/me/notifications/read/"],
)
def test_anonymous_posts_change_nothing(client, url):
    response = client.post(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))
    assert client.post(url, headers=JSON).status_code == 401


@pytest.mark.parametrize("role", ROLES)
def test_my_page_lists_my_follows_favorites_history_and_notifications_only(role):
    me, other = user_with_role(role), user_with_role("reader", "other")
    writer = factories.account(name="我关注的号")
    favored = factories.article(title="我收藏的文章")
    read = factories.article(title="我读过的文章")
    account_actions.follow(me, writer)
    actions.favorite(me, favored)
    actions.record_read(me, read)
    notices.notify(me, "report", "你的举报已处理", "/a/1/")
    # Someone else's things are not mine.
    account_actions.follow(other, factories.account(name="别人关注的号"))
    actions.favorite(other, factories.article(title="别人收藏的文章"))
    actions.record_read(other, factories.article(title="别人读过的文章"))
    notices.notify(other, "report", "别人的通知")

    html = signed_in(me).get("/me/").content.decode()
    assert "我关注的号" in _section(html, "my-follows")
    assert "我收藏的文章" in _section(html, "my-favorites")
    assert "我读过的文章" in _section(html, "my-history")
    assert "你的举报已处理" in _section(html, "my-notifications")
    for theirs in ("别人关注的号", "别人收藏的文章", "别人读过的文章", "别人的通知"):
        assert theirs not in html
    for section in ("follows", "favorites", "history", "notifications"):
        assert signed_in(me).get(f"/me/{section}/").status_code == 200


def test_unfollow_and_unfavorite_from_my_page():
    me = user_with_role("reader")
    writer = factories.account(name="要取消的号")
    item = factories.article(title="要取消收藏的文章")
    account_actions.follow(me, writer)
    actions.favorite(me, item)
    client = signed_in(me)
    html = client.get("/me/").content.decode()
    assert reverse("engagement:follow", args=[writer.handle]) in _section(html, "my-follows")
    response = client.post(reverse("engagement:follow", args=[writer.handle]), {"state": "off", "next": "/me/"})
    assert response["Location"] == "/me/"
    response = client.post(reverse("engagement:favorite", args=[item.pk]), {"state": "off", "next": "/me/"})
    assert response["Location"] == "/me/"
    html = client.get("/me/").content.decode()
    assert "要取消的号" not in html and "要取消收藏的文章" not in html
    assert "还没有关注任何创作者。" in html and "还没有收藏文章。" in html
    writer.refresh_from_db()
    assert writer.follower_count == 0


def test_a_removed_favorite_is_listed_without_a_link_and_can_be_removed():
    me = user_with_role("reader")
    item = factories.article(title="后来被下架的文章")
    actions.favorite(me, item)
    article_actions.remove(item, reason="违规")
    html = _section(signed_in(me).get("/me/").content.decode(), "my-favorites")
    assert "后来被下架的文章" in html and "（已不可阅读）" in html and f'href="/a/{item.pk}/"' not in html
    signed_in(me).post(reverse("engagement:favorite", args=[item.pk]), {"state": "off"})
    assert not Favorite.objects.exists()


def test_delete_one_history_entry_then_clear_all_leaving_others_alone():
    me, other = user_with_role("reader"), user_with_role("reader", "other")
    first, second, third = (factories.article(title=f"历史{n}") for n in range(3))
    for item in (first, second, third):
        actions.record_read(me, item)
    actions.record_read(other, first)
    client = signed_in(me)

    response = client.post(reverse("engagement:history-delete", args=[first.pk]))
    assert response["Location"] == "/me/history/"
    assert set(ReadingHistory.objects.filter(user=me).values_list("article_id", flat=True)) == {second.pk, third.pk}
    again = client.post(reverse("engagement:history-delete", args=[first.pk]), headers=JSON)
    assert again.json() == {"changed": 0}  # a double submit is harmless
    assert client.post(reverse("engagement:history-clear"), {"next": "/me/"})["Location"] == "/me/"
    assert not ReadingHistory.objects.filter(user=me).exists()
    assert ReadingHistory.objects.filter(user=other, article=first).exists()  # not mine to delete
    assert "还没有阅读历史。" in client.get("/me/").content.decode()


def test_notifications_are_marked_read_one_by_one_or_all_and_counted_in_the_header():
    me, other = user_with_role("reader"), user_with_role("reader", "other")
    mine = [notices.notify(me, "report", f"我的通知{n}") for n in range(3)]
    theirs = notices.notify(other, "report", "别人的通知")
    client = signed_in(me)
    html = client.get("/").content.decode()
    assert 'class="unread-count"' in html and "3 条未读通知" in html

    assert client.post(reverse("engagement:notification-read", args=[mine[0].pk]), headers=JSON).json() == {
        "changed": 1
    }
    assert client.post(reverse("engagement:notification-read", args=[theirs.pk]), headers=JSON).json() == {
        "changed": 0
    }  # someone else's: untouched
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert "2 条未读通知" in client.get("/").content.decode()

    client.post(reverse("engagement:notifications-read"))
    assert not Notification.objects.filter(user=me, read_at__isnull=True).exists()
    assert 'class="unread-count"' not in client.get("/").content.decode()
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_the_full_lists_are_paginated_newest_first():
    me = user_with_role("reader")
    items = [factories.article(title=f"文章{n:02d}") for n in range(35)]
    for item in items:
        actions.record_read(me, item)
    client = signed_in(me)
    page_one = client.get("/me/history/").content.decode()
    assert "文章34" in page_one and "文章00" not in page_one and "第 1 / 2 页" in page_one
    assert "文章00" in client.get("/me/history/?page=2").content.decode()
    # The 我的 page shows the newest ten and links to the rest.
    html = _section(client.get("/me/").content.decode(), "my-history")
    assert html.count("<li>") == 10 and reverse("engagement:mine-history") in html


def _queries(client, url) -> int:
    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_my_page_query_count_does_not_grow_with_my_lists():
    me = user_with_role("reader")
    client = signed_in(me)
    few = _queries(client, "/me/")
    for n in range(15):
        item = factories.article()
        account_actions.follow(me, item.account)
        actions.favorite(me, item)
        actions.record_read(me, item)
        notices.notify(me, "report", f"通知{n}")
    assert _queries(client, "/me/") == few
    assert _queries(client, "/me/favorites/") <= few


def test_my_page_works_for_every_role_and_keeps_its_other_sections():
    for role in ROLES:
        html = signed_in(user_with_role(role)).get("/me/").content.decode()
        assert "我的账号" in html and "阅读历史" in html and "修改密码" in html


def test_following_is_not_possible_for_a_missing_account():
    me = user_with_role("reader")
    assert signed_in(me).post(reverse("engagement:follow", args=["nobody-here"]), {"state": "on"}).status_code == 404
    assert not Follow.objects.exists()


def test_an_anonymous_client_cannot_see_lists_by_guessing(client):
    me = user_with_role("reader")
    actions.record_read(me, factories.article(title="私密的阅读"))
    assert "私密的阅读" not in Client().get("/me/history/", follow=True).content.decode()
