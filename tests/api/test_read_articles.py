"""Reading articles through the API: lists with filters and cursors, the article itself, caching."""

import base64
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone
from django.utils.http import http_date

from masthead.accounts.roles import EDITORS_GROUP
from masthead.articles import actions
from masthead.articles.models import Article
from masthead.channels.models import Channel
from masthead.engagement import counters
from masthead.engagement.models import ReadingHistory
from masthead.moderation import marks
from tests import factories
from tests.api.conftest import bearer, is_problem, make_user, token_for

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("empty_counters")]

API = "/api/v1"


@pytest.fixture
def no_page_cache(settings):
    settings.MASTHEAD_PAGE_CACHE_SECONDS = 0  # measure the view itself, not the page cache


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


def walk(client, url: str, limit: int, **filters) -> list[int]:
    """Every id the list gives, following next_cursor to the end."""
    seen, cursor = [], None
    for _ in range(100):
        params = {**filters, "limit": limit, **({"cursor": cursor} if cursor else {})}
        response = client.get(url, params)
        seen += ids(response)
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return seen
    raise AssertionError("the cursor never ended")


def expected_order(qs) -> list[int]:
    return list(qs.filter(status="published").order_by("-published_at", "-id").values_list("pk", flat=True))


def editor():
    person = make_user("editor")
    person.groups.add(Group.objects.get_or_create(name=EDITORS_GROUP)[0])
    return person


# --- the list ------------------------------------------------------------------------------------


def test_list_shows_published_articles_newest_first_and_nothing_else(client):
    newer = factories.article(title="较新的一篇")
    older = factories.article(title="较早的一篇")  # the factory publishes each article a minute before the last
    factories.article(publish=False, title="还是草稿")
    removed = factories.article(title="被下架的")
    actions.remove(removed, reason="违规")

    response = client.get(f"{API}/articles")
    assert ids(response) == [newer.pk, older.pk]
    first = response.json()["items"][0]
    assert first["title"] == "较新的一篇" and first["url"] == f"http://testserver/a/{newer.pk}/"
    assert first["channel"]["slug"] == "tech" and first["account"]["handle"] == newer.account.handle
    assert first["published_at"].endswith("+08:00")
    assert response.json()["next_cursor"] is None


def test_filters_by_channel_account_tag_and_time(client):
    writer = factories.account()
    sports = factories.channel("sports")
    now = timezone.now()
    a = factories.article(account_=writer, tags=("世界杯", "足球"), channel_=sports)
    b = factories.article(account_=writer, tags=("足球",))
    c = factories.article(tags=("世界杯",), channel_=sports)
    for item, hours in ((a, 1), (b, 5), (c, 10)):
        Article.objects.filter(pk=item.pk).update(published_at=now - timedelta(hours=hours))

    assert ids(client.get(f"{API}/articles", {"channel": "sports"})) == [a.pk, c.pk]
    assert ids(client.get(f"{API}/articles", {"account": writer.handle})) == [a.pk, b.pk]
    assert ids(client.get(f"{API}/articles", {"tag": "世界杯"})) == [a.pk, c.pk]
    assert ids(client.get(f"{API}/articles", {"tag": "足球", "channel": "sports"})) == [a.pk]
    assert ids(client.get(f"{API}/articles", {"tag": "没人用的标签"})) == []
    # since is inclusive, until exclusive; a time without offset is Beijing time
    since = (now - timedelta(hours=5)).isoformat()  # microseconds and offset kept
    assert ids(client.get(f"{API}/articles", {"since": since})) == [a.pk, b.pk]
    assert ids(client.get(f"{API}/articles", {"until": since})) == [c.pk]
    local = timezone.localtime(now - timedelta(hours=6)).replace(tzinfo=None).isoformat(timespec="seconds")
    assert ids(client.get(f"{API}/articles", {"since": local, "account": writer.handle})) == [a.pk, b.pk]
    tomorrow = (timezone.localdate(now) + timedelta(days=1)).isoformat()  # a date alone: its midnight
    assert ids(client.get(f"{API}/articles", {"until": tomorrow})) == [a.pk, b.pk, c.pk]
    assert ids(client.get(f"{API}/articles", {"since": tomorrow})) == []


def test_unknown_channel_or_account_is_a_404_problem_so_typos_show(client):
    factories.article()
    Channel.objects.filter(slug="military").update(is_active=False)
    for params, code in (
        ({"channel": "no-such-channel"}, "channel_not_found"),
        ({"channel": "military"}, "channel_not_found"),  # inactive: as on the site
        ({"account": "nobody-here"}, "account_not_found"),
        ({"channel": "te\x01ch"}, "channel_not_found"),  # not a slug at all: just as unknown
        ({"account": "一个 账号"}, "account_not_found"),
    ):
        assert is_problem(client.get(f"{API}/articles", params), 404, code), params
    assert ids(client.get(f"{API}/articles", {"tag": "足\x1b球"})) == []


def test_cursor_walks_every_article_once_even_with_equal_publication_times(client):
    items = [factories.article() for _ in range(9)]
    same = timezone.now() - timedelta(hours=2)
    Article.objects.filter(pk__in=[i.pk for i in items[2:8]]).update(published_at=same)
    expected = expected_order(Article.objects.all())
    for limit in (1, 2, 4, 50):
        assert walk(client, f"{API}/articles", limit) == expected, limit


def test_cursor_is_stable_when_new_articles_are_published_while_paging(client):
    items = [factories.article() for _ in range(5)]
    first = client.get(f"{API}/articles", {"limit": 2})
    assert ids(first) == [i.pk for i in items[:2]]
    latest = factories.article(title="翻页时刚发布的")
    Article.objects.filter(pk=latest.pk).update(published_at=timezone.now())  # before the first page
    rest = client.get(f"{API}/articles", {"limit": 10, "cursor": first.json()["next_cursor"]})
    assert ids(rest) == [i.pk for i in items[2:]]


def test_cursor_walk_with_a_filter_stays_inside_the_filter(client):
    writer = factories.account()
    mine = [factories.article(account_=writer) for _ in range(5)]
    factories.article()
    Article.objects.filter(pk__in=[m.pk for m in mine[1:4]]).update(published_at=timezone.now())
    assert walk(client, f"{API}/articles", 2, account=writer.handle) == expected_order(writer.articles.all())


@pytest.mark.parametrize(
    "cursor",
    [
        "zz",
        "游标",
        base64.urlsafe_b64encode(b"abc").decode(),
        base64.urlsafe_b64encode(b"1700000000000000.0").decode(),  # id 0
        base64.urlsafe_b64encode(b"1700000000000000.99999999999999999999").decode(),  # id beyond 64 bits
        base64.urlsafe_b64encode(b"-99999999999999999.5").decode(),  # a moment before year 1
        base64.urlsafe_b64encode(b" 17.5").decode(),
    ],
)
def test_an_invalid_cursor_is_a_400_naming_the_cursor(client, cursor):
    factories.article()
    response = client.get(f"{API}/articles", {"cursor": cursor})
    assert is_problem(response, 400, "invalid")
    assert [e["field"] for e in response.json()["errors"]] == ["cursor"]
    assert "cursor" in response.json()["detail"]


@pytest.mark.parametrize(
    "params,field",
    [
        ({"limit": 0}, "limit"),
        ({"limit": 51}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"since": "yesterday"}, "since"),
        ({"since": "0.5"}, "since"),  # not a Unix time: ISO 8601 only
        ({"since": "2025-13-01"}, "since"),
        ({"until": "2025-02-30T08:00:00+08:00"}, "until"),
        ({"since": "0001-01-01T00:00:00"}, "since"),  # year 0 in UTC: no database holds it
        ({"until": "9999-12-31T23:59:59-10:00"}, "until"),
        ({"channel": "x" * 41}, "channel"),
        ({"cursor": "x" * 65}, "cursor"),
    ],
)
def test_bad_parameters_are_400_problems_that_name_the_parameter(client, params, field):
    response = client.get(f"{API}/articles", params)
    assert is_problem(response, 400, "invalid"), response.content
    assert field in {e["field"] for e in response.json()["errors"]}


def test_nul_characters_are_refused_before_any_database_sees_them(client):
    for params in ({"channel": "te\x00ch"}, {"account": "a\x00"}, {"tag": "足\x00球"}, {"cursor": "\x00"}):
        response = client.get(f"{API}/articles", params)
        assert response.status_code == 400 and response["Content-Type"].startswith("application/problem+json")


def test_the_list_costs_the_same_queries_for_3_or_30_articles(client, no_page_cache, django_assert_num_queries):
    writers = [factories.account() for _ in range(3)]
    channels = [factories.channel(slug) for slug in ("tech", "sports", "finance")]
    cover = factories.image(caption="封面")

    def add(n: int) -> None:
        for i in range(n):
            factories.article(account_=writers[i % 3], channel_=channels[i % 3], cover=cover, tags=("标签",))

    add(3)
    client.get(f"{API}/articles", {"channel": "tech"})  # warm the navigation's channel list (cached)
    for total in (3, 30):
        if total == 30:
            add(27)
        for params in ({}, {"channel": "tech"}, {"account": writers[0].handle}, {"tag": "标签", "limit": 50}):
            # one query for the page; an account filter looks the account up first
            with django_assert_num_queries(2 if "account" in params else 1):
                response = client.get(f"{API}/articles", params)
            assert len(ids(response)) == (min(total, 20) if not params else len(response.json()["items"]))
        assert len(ids(client.get(f"{API}/articles", {"limit": 50}))) == total


# --- one article ---------------------------------------------------------------------------------


def test_the_article_has_everything_the_page_shows(client):
    writer = factories.account(slogan="只写真事", ip_region="浙江", badge=2, verified=True)
    cover = factories.image(account=writer, caption="封面说明", credit="新华社", label="file")
    first = factories.image(account=writer, caption="第一张", credit="作者摄", label="author")
    second = factories.image(account=writer, caption="第二张", label="ai")
    body = (
        f'<p>开头</p><img data-image="{second.pk}"><p>中间</p><figure><img data-image="{first.pk}"></figure>'
        '<p>结尾 <a href="/a/1/">站内链接</a></p>'
    )
    item = factories.article(
        account_=writer,
        body=body,
        cover=cover,
        tags=("科技", "芯片"),
        source="工信部公告",
        is_original=True,
        is_ai_generated=True,
        ip_region="上海",
        summary="一段摘要",
    )
    response = client.get(f"{API}/articles/{item.pk}")
    assert response.status_code == 200
    data = response.json()
    assert data["title"] == item.title and data["summary"] == "一段摘要"
    assert data["body_text"].splitlines()[0] == "开头" and "结尾 站内链接" in data["body_text"]
    assert sorted(data["tags"]) == ["科技", "芯片"]
    assert data["ip_region"] == "上海"
    assert data["published_at"].endswith("+08:00") and data["updated_at"].endswith("+08:00")
    labels = data["labels"]
    assert labels["original"] and labels["ai_generated"] and not labels["fiction"]
    assert labels["source"] == "工信部公告" and labels["mark"] == "" and labels["debunked_by_url"] is None
    account = data["account"]
    assert account["handle"] == writer.handle and account["slogan"] == "只写真事"
    assert account["badge"] == 2 and account["badge_label"] == "优质" and account["verified"] is True
    assert account["ip_region"] == "浙江" and account["article_count"] == 1 and account["follower_count"] == 0
    assert account["url"] == f"http://testserver/u/{writer.handle}/"
    assert data["cover"]["caption"] == "封面说明" and data["cover"]["credit"] == "新华社"
    assert data["cover"]["label"] == "file" and data["cover"]["label_text"] == "资料图"
    # the body's pictures, in the order the body shows them, with renditions
    assert [i["id"] for i in data["images"]] == [second.pk, first.pk]
    assert [i["caption"] for i in data["images"]] == ["第二张", "第一张"]
    assert data["images"][0]["is_ai_generated"] and data["images"][0]["label_text"] == "AI生成"
    assert data["images"][1]["credit"] == "作者摄"
    for image in [data["cover"], *data["images"]]:
        assert image["url"].startswith("http://testserver/") and image["width"] > 0
        assert image["renditions"] and all(r["url"].startswith("http://testserver/") for r in image["renditions"])
    # the site's URLs inside the body are absolute, for apps that are not on the site
    assert 'src="http://testserver/media/' in data["body_html"]
    assert 'href="http://testserver/a/1/"' in data["body_html"] and 'src="/' not in data["body_html"]
    assert data["body_html"].index("第二张") < data["body_html"].index("第一张")
    assert data["counts"] == {"views": 0, "likes": 0, "comments": 0, "shares": 0}


def test_hostile_body_html_comes_back_inert(client):
    item = factories.article(
        body='<p onclick="steal()">正文<script>alert(1)</script></p><img src="https://evil.example/x.png" '
        'onerror="alert(2)"><a href="javascript:alert(3)">点我</a><iframe src="https://evil.example/"></iframe>'
        '<p style="position:fixed">样式</p><svg onload="alert(4)"></svg>'
    )
    body = client.get(f"{API}/articles/{item.pk}").json()["body_html"]
    for bad in ("<script", "onclick", "onerror", "javascript:", "<iframe", "evil.example", "style=", "<svg", "onload"):
        assert bad not in body, bad
    assert "正文" in body and "点我" in body and "样式" in body


def test_rumour_mark_with_note_and_debunking_article(client, django_capture_on_commit_callbacks):
    rumour = factories.article(title="某地出现怪兽")
    truth = factories.article(title="辟谣：某地并无怪兽")
    marks.set_mark(rumour, by=editor(), mark="rumour", note="经核实为谣言。", debunked_by=truth, reason="核实")
    labels = client.get(f"{API}/articles/{rumour.pk}").json()["labels"]
    assert labels["mark"] == "rumour" and labels["mark_text"] == "谣言" and labels["mark_note"] == "经核实为谣言。"
    assert labels["debunked_by"] == truth.pk and labels["debunked_by_title"] == "辟谣：某地并无怪兽"
    assert labels["debunked_by_url"] == f"http://testserver/a/{truth.pk}/"

    with django_capture_on_commit_callbacks(execute=True):
        actions.remove(truth, reason="重复")  # as on the page, a link to a removed article disappears
    labels = client.get(f"{API}/articles/{rumour.pk}").json()["labels"]
    assert labels["mark"] == "rumour" and labels["debunked_by"] is None and labels["debunked_by_url"] is None


def test_unknown_ip_region_reads_as_the_page_shows_it(client):
    item = factories.article(account_=factories.account(ip_region=""))
    data = client.get(f"{API}/articles/{item.pk}").json()
    assert data["ip_region"] == "未知" and data["account"]["ip_region"] == "未知"
    english = client.get(f"{API}/articles/{item.pk}", HTTP_ACCEPT_LANGUAGE="en").json()
    assert english["ip_region"] == "Unknown"
    # an article from before regions were kept shows its account's
    older = factories.article(account_=factories.account(ip_region="广东"))
    assert client.get(f"{API}/articles/{older.pk}").json()["ip_region"] == "广东"


def test_a_removed_article_is_a_410_with_the_reason(client):
    item = factories.article()
    actions.remove(item, reason="含有不实信息")
    response = client.get(f"{API}/articles/{item.pk}")
    assert is_problem(response, 410, "removed")
    assert response.json()["reason"] == "含有不实信息"
    assert response["Cache-Control"] == "no-store"
    english = client.get(f"{API}/articles/{item.pk}", HTTP_ACCEPT_LANGUAGE="en")
    assert is_problem(english, 410, "removed") and english.json()["detail"] == "This article has been removed"


def test_articles_that_are_not_public_are_404(client):
    draft = factories.article(publish=False)
    pending = factories.article(publish=False)
    actions.submit_for_review(pending)
    scheduled = factories.article(publish=False)
    actions.schedule(scheduled, at=timezone.now() + timedelta(days=1))
    rejected = factories.article(publish=False)
    actions.submit_for_review(rejected)
    actions.reject(rejected, reason="不通过的秘密理由")
    for item in (draft, pending, scheduled, rejected):
        response = client.get(f"{API}/articles/{item.pk}")
        assert is_problem(response, 404, "not_found"), item.status
        assert "秘密理由" not in response.content.decode()
    assert is_problem(client.get(f"{API}/articles/{2**63 - 1}"), 404, "not_found")
    for bad in ("99999999999999999999", "0", "-3", "abc"):
        response = client.get(f"{API}/articles/{bad}")
        assert response.status_code in (400, 404) and response["Content-Type"].startswith("application/problem+json")
    assert is_problem(client.get(f"{API}/articles/99999999999999999999"), 400, "invalid")


def test_the_article_costs_a_fixed_number_of_queries(client, no_page_cache, django_assert_num_queries):
    writer = factories.account()
    small = factories.article(account_=writer, tags=("一",))
    pictures = [factories.image(account=writer, caption=f"图{n}") for n in range(6)]
    body = "".join(f'<p>段落{n}</p><img data-image="{p.pk}">' for n, p in enumerate(pictures))
    big = factories.article(account_=writer, body=body, cover=pictures[0], tags=[f"标签{n}" for n in range(10)])
    marks.set_mark(big, by=editor(), mark="disputed", note="说法不一", debunked_by=small, reason="核实")
    for item in (small, big):
        with django_assert_num_queries(3):  # the article with its neighbours, its tags, its images
            response = client.get(f"{API}/articles/{item.pk}")
        assert response.status_code == 200
    assert len(response.json()["images"]) == 6 and len(response.json()["tags"]) == 10


# --- caching and counting --------------------------------------------------------------------------


def test_etag_and_if_modified_since_give_304(client):
    item = factories.article()
    url = f"{API}/articles/{item.pk}"
    first = client.get(url)
    etag, modified = first["ETag"], first["Last-Modified"]
    assert first["Cache-Control"] == "max-age=0, must-revalidate"
    assert "Accept-Language" in first["Vary"]
    again = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b""
    assert client.get(url, HTTP_IF_MODIFIED_SINCE=modified).status_code == 304
    other = client.get(url, HTTP_IF_NONE_MATCH='"an-older-answer"')
    assert other.status_code == 200 and other.content == first.content
    listing = client.get(f"{API}/articles")
    assert client.get(f"{API}/articles", HTTP_IF_NONE_MATCH=listing["ETag"]).status_code == 304


def test_last_modified_follows_the_article_for_callers_the_page_cache_does_not_serve(client):
    item = factories.article()
    raw = token_for(make_user())
    url = f"{API}/articles/{item.pk}"
    first = client.get(url, **bearer(raw))
    assert first.status_code == 200 and first["Cache-Control"] == "private, no-cache"
    item.refresh_from_db()
    changed = max(item.updated_at, item.account.updated_at, item.channel.updated_at)
    assert first["Last-Modified"] == http_date(changed.timestamp())
    assert client.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"], **bearer(raw)).status_code == 304
    assert client.get(url, HTTP_IF_NONE_MATCH=first["ETag"], **bearer(raw)).status_code == 304

    actions.update_article(item, title="编辑后的标题")
    later = http_date(Article.objects.get(pk=item.pk).updated_at.timestamp() + 2)
    Article.objects.filter(pk=item.pk).update(updated_at=timezone.now() + timedelta(seconds=5))
    edited = client.get(url, HTTP_IF_MODIFIED_SINCE=later, **bearer(raw))
    assert edited.status_code == 200 and edited.json()["title"] == "编辑后的标题"


def test_publishing_and_editing_are_seen_at_once_by_anonymous_clients(client, django_capture_on_commit_callbacks):
    writer = factories.account()
    item = factories.article(account_=writer, title="第一版标题")
    urls = [f"{API}/articles/{item.pk}", f"{API}/articles", f"{API}/accounts/{writer.handle}/articles"]
    for url in urls:
        client.get(url)
        assert client.get(url)["X-Page-Cache"] == "hit", url

    with django_capture_on_commit_callbacks(execute=True):
        actions.update_article(item, title="第二版标题")
    for url in urls:
        response = client.get(url)
        assert response["X-Page-Cache"] == "miss" and "第二版标题" in response.content.decode(), url
        assert "第一版标题" not in response.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        newer = factories.article(publish=False, account_=writer, title="新发布的文章")
        actions.publish(newer)
    for url in urls[1:]:
        assert ids(client.get(url))[0] == newer.pk, url

    with django_capture_on_commit_callbacks(execute=True):
        actions.remove(item, reason="违规")
    assert is_problem(client.get(urls[0]), 410, "removed")
    assert item.pk not in ids(client.get(urls[1]))


def test_reading_counts_a_view_like_the_page_and_records_a_signed_in_readers_history(client):
    item = factories.article()
    url = f"{API}/articles/{item.pk}"
    assert client.get(url)["X-Page-Cache"] == "miss"
    assert client.get(url)["X-Page-Cache"] == "hit"  # a cached answer is still a read
    reader = make_user()
    assert client.get(url, **bearer(token_for(reader, "read"))).status_code == 200
    client.get(f"{API}/articles")  # lists count nothing
    counters.flush()
    item.refresh_from_db()
    assert item.view_count == 3
    assert ReadingHistory.objects.filter(user=reader, article=item).exists()
    assert get_user_model().objects.count() == 1 and ReadingHistory.objects.count() == 1
