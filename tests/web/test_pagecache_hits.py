"""How a page-cache hit is served: what each process may remember, and what it must still ask the
shared cache on every request (see docs/caching.md, "What a hit costs")."""

import pytest
from django.core.cache import cache

from masthead.articles.models import Article
from masthead.web import pagecache
from tests import factories
from tests.web.pagecache_helpers import purge_in_another_process

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("empty_counters")]
API = "/api/v1"
# Headers that may differ between two answers of the same stored page.
PER_REQUEST = {"x-page-cache", "server-timing"}


def _headers(response) -> dict[str, str]:
    return {name.lower(): value for name, value in response.items() if name.lower() not in PER_REQUEST}


def test_a_purge_by_another_process_is_seen_by_the_very_next_hit(client):
    item = factories.article(title="另一台服务器改之前")
    url = item.get_absolute_url()
    client.get(url)
    for _ in range(2):  # this process now remembers the page's bytes and its tag versions
        assert client.get(url)["X-Page-Cache"] == "hit"
    Article.objects.filter(pk=item.pk).update(title="另一台服务器改过的标题")  # no purge from here
    assert "另一台服务器改之前" in client.get(url).content.decode()  # cached, as it should be until a purge

    purge_in_another_process(f"article:{item.pk}")
    fresh = client.get(url)
    assert fresh["X-Page-Cache"] == "miss" and "另一台服务器改过的标题" in fresh.content.decode()
    assert client.get(url)["X-Page-Cache"] == "hit"


def test_a_purge_refreshes_only_the_pages_that_show_the_purged_tag(client, django_assert_num_queries):
    first, second = factories.article(title="第一篇"), factories.article(title="第二篇")
    for item in (first, second):
        client.get(item.get_absolute_url())
    purge_in_another_process(f"article:{first.pk}")
    assert client.get(first.get_absolute_url())["X-Page-Cache"] == "miss"
    with django_assert_num_queries(0):
        assert client.get(second.get_absolute_url())["X-Page-Cache"] == "hit"


@pytest.mark.parametrize("kind", ["page", "api"])
def test_a_hit_answers_with_the_headers_of_the_miss_that_stored_it(client, kind):
    item = factories.article()
    url = item.get_absolute_url() if kind == "page" else f"{API}/articles/{item.pk}"
    miss = client.get(url, headers={"accept-language": "en"})
    hit = client.get(url, headers={"accept-language": "en"})
    assert (miss["X-Page-Cache"], hit["X-Page-Cache"]) == ("miss", "hit")
    assert _headers(hit) == _headers(miss) and hit.content == miss.content
    assert hit["Content-Language"] == "en"
    vary = {part.strip() for part in hit["Vary"].split(",")}
    assert {"Cookie", "Accept-Language"} <= vary
    if kind == "api":  # the API's own Vary is kept: a token holder's answer may differ
        assert "Authorization" in vary


def test_the_language_cookie_wins_over_accept_language_as_for_an_uncached_page(client):
    item = factories.article()
    url = item.get_absolute_url()
    english, chinese = '<html lang="en"', '<html lang="zh-CN"'
    client.cookies["masthead_lang"] = "en"
    assert english in client.get(url, headers={"accept-language": "zh-CN"}).content.decode()
    hit = client.get(url, headers={"accept-language": "zh-CN"})
    assert hit["X-Page-Cache"] == "hit" and english in hit.content.decode()

    client.cookies["masthead_lang"] = "zh-hans"
    response = client.get(url, headers={"accept-language": "en"})
    assert response["X-Page-Cache"] == "miss" and chinese in response.content.decode()
    del client.cookies["masthead_lang"]
    by_header = client.get(url, headers={"accept-language": "en"})  # the same variant as the cookie's
    assert by_header["X-Page-Cache"] == "hit" and english in by_header.content.decode()


def test_a_page_whose_bytes_were_evicted_is_rendered_again(client):
    item = factories.article(title="字节被挤出缓存")
    url = item.get_absolute_url()
    client.get(url)
    etag = client.get(url)["ETag"]  # a hit: this process remembers the page
    cache.delete(pagecache.BODY_KEY.format(etag.strip('"')))
    pagecache._bodies.clear()  # as in a process that has not served the page yet
    # Pages can change without a purge (relative times): the new rendering must be the one served next.
    Article.objects.filter(pk=item.pk).update(title="重新渲染的标题")
    again = client.get(url)
    assert again["X-Page-Cache"] == "miss" and "重新渲染的标题" in again.content.decode()
    hit = client.get(url)
    assert hit["X-Page-Cache"] == "hit" and hit.content == again.content


def test_remembered_bytes_stay_within_their_budget(client, monkeypatch):
    items = [factories.article(title=f"第{n}篇留在内存里的稿子") for n in range(3)]
    pages = {item.get_absolute_url(): client.get(item.get_absolute_url()).content for item in items}
    monkeypatch.setattr(pagecache, "BODY_MEMO_BYTES", max(len(body) for body in pages.values()) * 3 // 2)
    pagecache._bodies.clear()
    monkeypatch.setattr(pagecache, "_bodies_size", 0)
    for _ in range(2):
        for url, body in pages.items():
            response = client.get(url)
            assert response["X-Page-Cache"] == "hit" and response.content == body  # from the shared cache
    assert len(pagecache._bodies) == 1 and pagecache._bodies_size <= pagecache.BODY_MEMO_BYTES
