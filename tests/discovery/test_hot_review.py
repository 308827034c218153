"""Editors' pins and removals on the hot list (audited, editors only), the /hot/ page, and the
once-a-minute refresh from the request path."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from masthead.articles.models import Article
from masthead.discovery import hot, hot_score, hot_tasks
from masthead.discovery.models import HotOverride, HotScore
from masthead.engagement import counters
from masthead.engagement.models import ArticleStatDay
from masthead.moderation.models import AuditEntry
from tests import factories
from tests.discovery.test_hot import _quiet_buffers, editor, published, ranked, user  # noqa: F401

pytestmark = pytest.mark.django_db


def _hot(*readers_counts: int) -> list[Article]:
    """Articles with these readers today, ranked by the refresh."""
    items = []
    for n in readers_counts:
        item = published(hours_ago=1)
        ArticleStatDay.objects.create(article=item, day=counters.local_day(), views=n, readers=n)
        items.append(item)
    hot_score.refresh()
    return items


def _entries(action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action))


# --- the actions -------------------------------------------------------------------------------------


def test_a_pin_puts_the_article_at_its_position_and_is_audited():
    first, second, third = _hot(30, 20, 10)
    quiet = published(hours_ago=5)  # no readers at all
    boss = editor()
    hot.pin(quiet, by=boss, position=2, reason="重要通知")
    assert ranked() == [first.pk, quiet.pk, second.pk, third.pk]
    (entry,) = _entries("hot.pin")
    assert (entry.actor, entry.reason, entry.target_id) == (boss, "重要通知", str(quiet.pk))
    assert entry.after == {"kind": "pin", "reason": "重要通知", "position": 2}
    assert hot.hot_articles(10)[1].hot_pinned


def test_a_pin_beyond_the_list_goes_last_and_a_pinned_article_is_not_listed_twice():
    first, second = _hot(30, 20)
    hot.pin(first, by=editor(), position=9, reason="放后面")
    assert ranked() == [second.pk, first.pk]


def test_a_removal_keeps_the_article_off_every_list_until_restored():
    first, second = _hot(30, 20)
    boss = editor()
    override = hot.remove(first, by=boss, reason="标题党")
    assert ranked() == [second.pk]
    assert first.pk not in [a.pk for a in hot.hot_articles(10, channel_id=first.channel_id)]
    hot_score.refresh()
    assert ranked() == [second.pk]
    hot.clear(override, by=boss, reason="已修改标题")
    assert ranked() == [first.pk, second.pk]
    assert [(e.action, e.reason) for e in AuditEntry.objects.order_by("pk")] == [
        ("hot.remove", "标题党"),
        ("hot.restore", "已修改标题"),
    ]


def test_unpinning_is_audited_with_what_was_undone():
    (item,) = _hot(5)
    boss = editor()
    override = hot.pin(item, by=boss, position=1, reason="置顶")
    hot.clear(override, by=boss)
    (entry,) = _entries("hot.unpin")
    assert entry.before == {"kind": "pin", "reason": "置顶", "position": 1}
    assert not HotOverride.objects.exists()


def test_changing_a_removal_into_a_pin_records_before_and_after():
    (item,) = _hot(5)
    boss = editor()
    hot.remove(item, by=boss, reason="先撤下")
    hot.pin(item, by=boss, position=3, reason="核实后置顶")
    entry = _entries("hot.pin")[0]
    assert entry.before == {"kind": "remove", "reason": "先撤下"}
    assert entry.after["position"] == 3
    assert HotOverride.objects.get().kind == HotOverride.Kind.PIN


def test_overrides_need_an_editor_and_a_reason_and_pins_a_listable_article():
    (item,) = _hot(5)
    with pytest.raises(ValidationError):
        hot.pin(item, by=user("reader"), position=1, reason="想上热榜")
    with pytest.raises(ValidationError):
        hot.remove(item, by=editor(), reason="  ")
    with pytest.raises(ValidationError):
        hot.pin(item, by=editor("e2"), position=0, reason="位置不对")
    Article.objects.filter(pk=item.pk).update(reach_limited=True)
    item.refresh_from_db()
    with pytest.raises(ValidationError):
        hot.pin(item, by=editor("e3"), position=1, reason="限制推荐的不能置顶")
    assert not HotOverride.objects.exists() and not AuditEntry.objects.exists()


def test_a_pinned_article_that_is_limited_or_removed_later_leaves_the_list():
    first, second = _hot(30, 20)
    hot.pin(second, by=editor(), position=1, reason="置顶")
    Article.objects.filter(pk=second.pk).update(reach_limited=True)
    assert ranked() == [first.pk]


def test_overrides_expire_and_the_task_clears_them_with_an_audit_entry():
    first, second = _hot(30, 20)
    boss = editor()
    hot.remove(first, by=boss, reason="暂时撤下", expires_at=timezone.now() + timedelta(hours=1))
    assert ranked() == [second.pk]
    HotOverride.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert ranked() == [first.pk, second.pk]  # no longer applies, even before it is cleared
    hot_tasks.refresh_hot.enqueue()
    assert not HotOverride.objects.exists()
    (entry,) = _entries("hot.expire")
    assert entry.actor is None and entry.before["kind"] == "remove"


# --- the editors' page -------------------------------------------------------------------------------


def _client(person) -> Client:
    client = Client()
    client.force_login(person)
    return client


def test_only_editors_reach_the_review_page():
    (item,) = _hot(5)
    urls = ["/review/hot/"]
    posts = ["/review/hot/pin/", "/review/hot/remove/"]
    for url in urls + posts:
        response = Client().get(url) if url in urls else Client().post(url, {})
        assert response.status_code == 302 and response.url.startswith("/login/"), url
    reader = _client(user("reader"))
    assert reader.get("/review/hot/").status_code == 403
    response = reader.post("/review/hot/remove/", {"remove-article": item.pk, "remove-reason": "不喜欢"})
    assert response.status_code == 403
    assert not HotOverride.objects.exists()
    page = _client(editor()).get("/review/hot/")
    assert page.status_code == 200
    assert item.title in page.content.decode()


def test_editors_pin_remove_and_restore_through_the_page():
    first, second = _hot(30, 20)
    client = _client(editor())
    response = client.post(
        "/review/hot/pin/",
        {"pin-article": f"https://example.com/a/{second.pk}/", "pin-position": 1, "pin-reason": "编辑推荐"},
    )
    assert response.status_code == 302 and response.url == "/review/hot/"
    assert ranked() == [second.pk, first.pk]
    response = client.post("/review/hot/remove/", {"remove-article": first.pk, "remove-reason": "内容待核实"})
    assert response.status_code == 302
    assert ranked() == [second.pk]
    removal = HotOverride.objects.get(kind=HotOverride.Kind.REMOVE)
    assert client.post(f"/review/hot/{removal.pk}/clear/", {"reason": ""}).status_code == 302
    assert ranked() == [second.pk, first.pk]
    assert [e.action for e in AuditEntry.objects.order_by("pk")] == ["hot.pin", "hot.remove", "hot.restore"]


def test_a_removal_without_a_reason_is_refused_on_the_page():
    (item,) = _hot(5)
    response = _client(editor()).post("/review/hot/remove/", {"remove-article": item.pk, "remove-reason": ""})
    assert response.status_code == 400
    assert not HotOverride.objects.exists()
    response = _client(editor("e2")).post(
        "/review/hot/pin/", {"pin-article": "999999", "pin-position": 1, "pin-reason": "不存在"}
    )
    assert response.status_code == 400 and "找不到这篇文章" in response.content.decode()


# --- the /hot/ page ------------------------------------------------------------------------------------


def test_the_hot_page_lists_title_source_and_time_and_is_cached(django_assert_max_num_queries):
    items = _hot(30, 20, 10)
    with django_assert_max_num_queries(4):
        response = Client().get("/hot/")
    html = response.content.decode()
    assert response.status_code == 200 and response["X-Page-Cache"] == "miss"
    positions = [html.index(a.title) for a in items]
    assert positions == sorted(positions)
    assert items[0].account.name in html and "csrfmiddlewaretoken" not in html
    with django_assert_max_num_queries(0):
        assert Client().get("/hot/")["X-Page-Cache"] == "hit"


def test_channel_tabs():
    tech = published(channel_=factories.channel("tech"))
    sports = published(channel_=factories.channel("sports"))
    for item, n in ((tech, 5), (sports, 9)):
        ArticleStatDay.objects.create(article=item, day=counters.local_day(), views=n, readers=n)
    hot_score.refresh()
    html = Client().get("/hot/sports/").content.decode()
    assert sports.title in html and tech.title not in html
    response = Client().get("/hot/?channel=sports")
    assert response.status_code == 302 and response.url == "/hot/sports/"
    assert Client().get("/hot/no-such-channel/").status_code == 404


def test_the_sidebar_on_the_home_page_shows_the_hot_list():
    (item,) = _hot(5)
    html = Client().get("/").content.decode()
    section = html[html.index('class="box hot"') :]
    assert item.title in section[: section.index("</section>")]


def test_a_refresh_shows_on_the_hot_page_at_once(django_capture_on_commit_callbacks):
    assert "暂无热点" in Client().get("/hot/").content.decode()  # cached with an empty list
    item = published()
    ArticleStatDay.objects.create(article=item, day=counters.local_day(), views=3, readers=3)
    with django_capture_on_commit_callbacks(execute=True):
        hot_score.refresh()
    assert item.title in Client().get("/hot/").content.decode()


def test_an_editors_removal_shows_at_once(django_capture_on_commit_callbacks):
    (item,) = _hot(5)
    assert item.title in Client().get("/hot/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        hot.remove(item, by=editor(), reason="待核实")
    assert item.title not in Client().get("/hot/").content.decode()


# --- refreshed every minute from requests --------------------------------------------------------------


def test_requests_refresh_the_list_at_most_once_a_minute(settings):
    settings.MASTHEAD_HOT_REFRESH_SECONDS = 60
    hot_tasks._next_check = 0.0
    item = published()
    ArticleStatDay.objects.create(article=item, day=counters.local_day(), views=3, readers=3)
    assert hot_tasks.maybe_refresh()
    assert HotScore.objects.filter(article=item).exists()
    hot_tasks._next_check = 0.0  # another process: the shared key says it is not due yet
    assert not hot_tasks.maybe_refresh()
    settings.MASTHEAD_HOT_REFRESH_SECONDS = 0
    hot_tasks._next_check = 0.0
    assert not hot_tasks.maybe_refresh()


def test_the_middleware_refreshes_before_answering(settings):
    settings.MASTHEAD_HOT_REFRESH_SECONDS = 60
    settings.MIDDLEWARE = ["masthead.discovery.hot_tasks.HotRefreshMiddleware", *settings.MIDDLEWARE]
    hot_tasks._next_check = 0.0
    item = published()
    ArticleStatDay.objects.create(article=item, day=counters.local_day(), views=3, readers=3)
    assert item.title in Client().get("/hot/").content.decode()
