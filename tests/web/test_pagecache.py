"""The anonymous full-page cache, through real requests to the real views: hits, 304s, purges, variants."""

import threading
import time

import pytest
import redis
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connections
from django.db.models.fields.files import FieldFile
from django.test import Client, override_settings
from django.test.signals import template_rendered

from masthead.articles import actions
from masthead.engagement import counters
from masthead.web import pagecache
from tests import factories

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("empty_counters")]


@pytest.fixture
def editor():
    user = get_user_model().objects.create_superuser("editor", "editor@example.org", "a-long-pass-phrase")
    editor = Client()
    editor.force_login(user)
    return editor


def _admin_form(editor: Client, url: str) -> dict:
    """The admin change form's current values, ready to post back (so a test changes only one field)."""
    form = editor.get(url).context["adminform"].form
    data = {}
    for name in form.fields:
        value = form[name].value()
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        elif value is not None and not isinstance(value, FieldFile):  # files are not re-posted
            data[name] = value
    return data


def _state(client: Client, path: str, **kwargs) -> tuple[str | None, str]:
    response = client.get(path, **kwargs)
    assert response.status_code == 200, path
    return response.get("X-Page-Cache"), response.content.decode()


def test_second_anonymous_read_is_a_cache_hit_without_any_query(client, django_assert_num_queries):
    item = factories.article(title="缓存的文章")
    first = client.get(item.get_absolute_url())
    assert first.status_code == 200 and first["X-Page-Cache"] == "miss"
    with django_assert_num_queries(0):
        second = client.get(item.get_absolute_url())
    assert second.status_code == 200 and second["X-Page-Cache"] == "hit"
    assert second.content == first.content
    assert "缓存的文章" in second.content.decode()
    assert second["Content-Type"].startswith("text/html")
    assert second["X-Frame-Options"] == "DENY"  # headers of inner middleware are kept with the page
    for path in ("/", "/c/tech/", item.account.get_absolute_url()):
        assert _state(client, path)[0] == "miss"
        with django_assert_num_queries(0):
            assert _state(client, path)[0] == "hit"


def test_etag_and_last_modified_answer_conditional_requests_with_304(client):
    item = factories.article()
    url = item.get_absolute_url()
    first = client.get(url)
    etag, last_modified = first["ETag"], first["Last-Modified"]
    assert etag.startswith('"') and last_modified.endswith("GMT")
    assert "Cookie" in first["Vary"] and "Accept-Language" in first["Vary"]

    not_modified = client.get(url, headers={"if-none-match": etag})
    assert not_modified.status_code == 304 and not_modified.content == b""
    assert not_modified["ETag"] == etag

    since = client.get(url, headers={"if-modified-since": last_modified})
    assert since.status_code == 304 and since.content == b""

    changed = client.get(url, headers={"if-none-match": '"an-older-version"'})
    assert changed.status_code == 200 and changed["ETag"] == etag and changed.content == first.content


def test_publishing_editing_and_removing_an_article_refresh_every_page_that_shows_it(
    client, django_capture_on_commit_callbacks
):
    writer = factories.account()
    item = factories.article(account_=writer, title="第一篇稿子")
    pages = ["/", "/c/tech/", writer.get_absolute_url(), item.get_absolute_url()]
    for path in pages:
        client.get(path)
        assert _state(client, path)[0] == "hit"

    with django_capture_on_commit_callbacks(execute=True):
        newer = factories.article(account_=writer, title="刚刚发布的新稿")
    for path in pages:  # the article page shows the channel blocks, so it lists the new one too
        cached, html = _state(client, path)
        assert cached == "miss" and "刚刚发布的新稿" in html, path

    with django_capture_on_commit_callbacks(execute=True):
        actions.update_article(item, title="改过的标题")
    for path in pages:
        cached, html = _state(client, path)
        assert cached == "miss" and "改过的标题" in html and "第一篇稿子" not in html, path

    with django_capture_on_commit_callbacks(execute=True):
        actions.remove(item, reason="违反社区规定")
    gone = client.get(item.get_absolute_url())
    assert gone.status_code == 410 and "违反社区规定" in gone.content.decode()
    assert client.get(item.get_absolute_url()).status_code == 410  # a 410 is never stored
    for path in pages[:3]:
        assert "改过的标题" not in _state(client, path)[1], path
    assert "刚刚发布的新稿" in _state(client, newer.get_absolute_url())[1]


def test_changing_the_author_in_the_admin_refreshes_their_article_and_creator_pages(
    client, editor, django_capture_on_commit_callbacks
):
    writer = factories.account(name="旧名字的号")
    item = factories.article(account_=writer)
    pages = [item.get_absolute_url(), writer.get_absolute_url(), "/"]
    for path in pages:
        client.get(path)
        assert "旧名字的号" in _state(client, path)[1]

    url = f"/admin/accounts/account/{writer.pk}/change/"
    data = {**_admin_form(editor, url), "name": "新名字的号", "slogan": "换了签名"}
    with django_capture_on_commit_callbacks(execute=True):
        assert editor.post(url, data).status_code == 302
    for path in pages:
        cached, html = _state(client, path)
        assert cached == "miss" and "新名字的号" in html and "旧名字的号" not in html, path
    assert "换了签名" in _state(client, item.get_absolute_url())[1]


def test_adding_or_renaming_a_channel_refreshes_navigation_and_channel_blocks(
    client, editor, django_capture_on_commit_callbacks
):
    item = factories.article(channel_=factories.channel("tech"))
    tech = factories.channel("tech")
    pages = ["/", "/c/tech/", item.get_absolute_url(), item.account.get_absolute_url()]
    for path in pages:
        client.get(path)
        assert _state(client, path)[0] == "hit"

    with django_capture_on_commit_callbacks(execute=True):
        added = editor.post(
            "/admin/channels/channel/add/", {"name": "健康", "slug": "health", "order": 130, "is_active": "on"}
        )
    assert added.status_code == 302
    for path in pages:
        cached, html = _state(client, path)
        assert cached == "miss" and 'href="/c/health/"' in html, path

    url = f"/admin/channels/channel/{tech.pk}/change/"
    with django_capture_on_commit_callbacks(execute=True):
        assert editor.post(url, {**_admin_form(editor, url), "name": "前沿科技"}).status_code == 302
    for path in pages:
        cached, html = _state(client, path)
        assert cached == "miss" and "前沿科技" in html, path


def test_signed_in_readers_are_never_served_or_given_a_cached_page(client, django_user_model):
    item = factories.article(title="给登录读者看的稿子")
    url = item.get_absolute_url()
    client.get(url)
    assert client.get(url)["X-Page-Cache"] == "hit"  # an anonymous copy exists

    member = Client()
    member.force_login(django_user_model.objects.create_user("reader", password="a-long-pass-phrase"))
    for _ in range(2):
        response = member.get(url)
        assert response.status_code == 200 and "X-Page-Cache" not in response
        assert "给登录读者看的稿子" in response.content.decode()

    # Nothing a signed-in reader saw was stored for others.
    fresh = factories.article(title="只被登录读者打开过")
    member.get(fresh.get_absolute_url())
    assert client.get(fresh.get_absolute_url())["X-Page-Cache"] == "miss"


def test_languages_care_edition_and_hosts_are_cached_separately(client):
    item = factories.article()
    url = item.get_absolute_url()
    zh = {"headers": {"accept-language": "zh-CN,zh;q=0.9"}}
    en = {"headers": {"accept-language": "en"}}
    assert _state(client, url, **zh)[0] == "miss"
    assert _state(client, url, **en)[0] == "miss"
    zh_cached, zh_html = _state(client, url, **zh)
    en_cached, en_html = _state(client, url, **en)
    assert zh_cached == en_cached == "hit"
    assert 'lang="zh-CN"' in en_html and "English</a>" not in en_html  # English page offers 中文
    assert "English</a>" in zh_html

    client.cookies["masthead_care"] = "1"
    assert _state(client, url, **zh)[0] == "miss"
    care_cached, care_html = _state(client, url, **zh)
    assert care_cached == "hit" and "退出关怀版" in care_html and "退出关怀版" not in zh_html
    client.cookies["masthead_care"] = "anything-else"  # not a separate variant: the plain page
    assert _state(client, url, **zh) == ("hit", zh_html)
    del client.cookies["masthead_care"]

    other_host = client.get(url, headers={"host": "localhost", "accept-language": "zh-CN"})
    assert other_host["X-Page-Cache"] == "miss"  # absolute links in it point at localhost
    assert f"http://localhost{url}" in other_host.content.decode()
    assert f"http://localhost{url}" not in zh_html


def test_query_strings_cannot_fill_the_cache_but_tracking_parameters_get_the_cached_page(client):
    item = factories.article()
    url = item.get_absolute_url()
    assert "X-Page-Cache" not in client.get(f"{url}?x=1")  # unknown parameter: rendered, never stored
    assert "X-Page-Cache" not in client.get(f"{url}?x=1")
    assert client.get(f"{url}?from=singlemessage&isappinstalled=0")["X-Page-Cache"] == "miss"  # not stored
    assert client.get(url)["X-Page-Cache"] == "miss"
    assert client.get(f"{url}?from=singlemessage&isappinstalled=0")["X-Page-Cache"] == "hit"
    assert client.get("/?page=1")["X-Page-Cache"] == "miss"
    assert client.get("/?page=1")["X-Page-Cache"] == "hit"


def test_a_page_rendered_while_another_server_purges_is_not_stored(client):
    """The purge lands between the view reading the article and the page being stored: storing it under
    the new tag version would keep serving the old article."""
    item = factories.article()
    url = item.get_absolute_url()

    def purge_elsewhere(sender, template, **kwargs):
        if template.name == "web/article.html":
            template_rendered.disconnect(purge_elsewhere)
            # Another app server commits an edit now; its own connection, so the purge is not deferred.
            worker = threading.Thread(target=lambda: (pagecache.purge(f"article:{item.pk}"), connections.close_all()))
            worker.start()
            worker.join()

    template_rendered.connect(purge_elsewhere)
    try:
        assert client.get(url)["X-Page-Cache"] == "miss"
    finally:
        template_rendered.disconnect(purge_elsewhere)
    assert client.get(url)["X-Page-Cache"] == "miss"  # the first answer was not kept
    assert client.get(url)["X-Page-Cache"] == "hit"


def test_a_purge_inside_a_transaction_waits_for_the_commit(client, django_capture_on_commit_callbacks):
    item = factories.article(title="事务中的标题")
    url = item.get_absolute_url()
    client.get(url)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        pagecache.purge(f"article:{item.pk}")
        # Not yet committed: readers keep the page that matches what the database shows them.
        assert client.get(url)["X-Page-Cache"] == "hit"
    assert len(callbacks) == 1
    assert client.get(url)["X-Page-Cache"] == "miss"


def test_entries_expire_after_the_configured_lifetime(client, settings):
    settings.MASTHEAD_PAGE_CACHE_SECONDS = 1
    item = factories.article()
    client.get(item.get_absolute_url())
    assert client.get(item.get_absolute_url())["X-Page-Cache"] == "hit"
    time.sleep(1.1)
    assert client.get(item.get_absolute_url())["X-Page-Cache"] == "miss"
    settings.MASTHEAD_PAGE_CACHE_SECONDS = 0
    assert "X-Page-Cache" not in client.get(item.get_absolute_url())


DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def test_pages_still_answer_when_the_redis_cache_is_down(client, settings, caplog, django_capture_on_commit_callbacks):
    item = factories.article(title="Redis 停了也能读")
    settings.MASTHEAD_COUNTERS = "redis"
    settings.REDIS_URL = DEAD_REDIS
    client.get(item.get_absolute_url())
    assert client.get(item.get_absolute_url())["X-Page-Cache"] == "hit"
    dead_cache = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": DEAD_REDIS}}
    with override_settings(CACHES=dead_cache):
        with pytest.raises(redis.ConnectionError):
            cache.get("anything")  # the failure path below is real: every cache call raises
        for path in ("/", "/c/tech/", item.account.get_absolute_url(), item.get_absolute_url()):
            response = client.get(path)
            assert response.status_code == 200, path
            assert response["X-Page-Cache"] == "miss" and response["ETag"], path
        assert "Redis 停了也能读" in client.get(item.get_absolute_url()).content.decode()
        etag = client.get(item.get_absolute_url())["ETag"]
        assert client.get(item.get_absolute_url(), headers={"if-none-match": etag}).status_code == 304
        assert client.get(f"/a/{item.pk}/share/weibo/").status_code == 302
        with django_capture_on_commit_callbacks(execute=True):
            actions.update_article(item, title="停机时改的标题")  # the purge fails quietly
        assert "停机时改的标题" in client.get(item.get_absolute_url()).content.decode()
    assert "page cache read failed" in caplog.text

    # The cache is back with the page stored before the outage: the purge that failed is done now.
    back = client.get(item.get_absolute_url())
    assert back["X-Page-Cache"] == "miss" and "停机时改的标题" in back.content.decode()

    assert counters.flush() == 9  # eight article reads and a share, kept in memory meanwhile
    item.refresh_from_db()
    assert (item.view_count, item.share_count) == (8, 1)
