"""Creators' statistics: who may see them, that the numbers, charts and exports are right, the
read-completion beacon, and fixed query counts."""

import csv
import io
import itertools
import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from masthead.accounts import actions as account_actions
from masthead.accounts.models import Follow
from masthead.articles.models import Article
from masthead.engagement import counters
from masthead.engagement.models import ArticleStatDay
from tests import factories

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("empty_counters")]

_seq = itertools.count(1)
BEACON = "/studio/stats/beacon/"
SAME_ORIGIN = {"HTTP_ORIGIN": "http://testserver", "HTTP_SEC_FETCH_SITE": "same-origin"}
FORM = "application/x-www-form-urlencoded"
# Budgets with a cold cache: the site navigation (a cached fragment shared by every page) costs one
# query the first time.
DASHBOARD_QUERIES = 11
ARTICLE_QUERIES = 8
EXPORT_QUERIES = 5


def _user(prefix: str = "user"):
    n = next(_seq)
    return get_user_model().objects.create_user(f"{prefix}{n}", f"{prefix}{n}@example.com", "correct horse 9")


def _creator():
    user = _user("creator")
    return user, factories.account(owner=user)


def _logged_in(client, user):
    client.force_login(user)
    return client


def _days(n: int = 30) -> list:
    today = timezone.localdate()
    return [today - timedelta(days=k) for k in range(n - 1, -1, -1)]


def _stat(article, day, **values) -> ArticleStatDay:
    return ArticleStatDay.objects.create(article=article, day=day, **values)


def _svg(html: str, chart: str) -> str:
    match = re.search(rf'<svg[^>]*data-chart="{chart}".*?</svg>', html, re.S)
    assert match, f"no {chart} chart"
    return match.group(0)


def _bars(svg: str) -> dict[str, int]:
    return {day: int(v) for day, v in re.findall(r'<rect class="bar"[^>]*data-day="([\d-]+)" data-value="(\d+)"', svg)}


def _csv(response) -> list[list[str]]:
    body = response.content
    assert body.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads the Chinese right
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


# --- who may see what ---------------------------------------------------------------------------


def test_anonymous_readers_are_sent_to_log_in_and_plain_readers_are_refused(client):
    _, account = _creator()
    item = factories.article(account_=account)
    for url in ("/studio/stats/", f"/studio/stats/a/{item.pk}/", "/studio/stats/export.csv"):
        response = client.get(url)
        assert response.status_code == 302 and "login" in response["Location"]
    _logged_in(client, _user("reader"))
    for url in ("/studio/stats/", f"/studio/stats/a/{item.pk}/", f"/studio/stats/a/{item.pk}/export.csv"):
        assert client.get(url).status_code == 403


def test_a_creator_sees_only_their_own_articles(client):
    me, mine = _creator()
    _, theirs = _creator()
    my_article = factories.article(account_=mine, title="我的文章")
    their_article = factories.article(account_=theirs, title="别人的文章")
    _logged_in(client, me)
    page = client.get("/studio/stats/").content.decode()
    assert "我的文章" in page and "别人的文章" not in page
    assert client.get(f"/studio/stats/a/{my_article.pk}/").status_code == 200
    assert client.get(f"/studio/stats/a/{their_article.pk}/").status_code == 404
    assert client.get(f"/studio/stats/a/{their_article.pk}/export.csv").status_code == 404
    assert "别人的文章" not in client.get("/studio/stats/export.csv").content.decode("utf-8-sig")


def test_the_dashboard_is_not_cached_and_only_reads(client):
    me, _ = _creator()
    _logged_in(client, me)
    response = client.get("/studio/stats/")
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    assert client.post("/studio/stats/").status_code == 405


# --- numbers ------------------------------------------------------------------------------------


def test_dashboard_totals_table_and_average_completion(client):
    me, account = _creator()
    first = factories.article(account_=account, title="第一篇")
    second = factories.article(account_=account, title="第二篇")
    factories.article(account_=account, publish=False, title="还在写的草稿")
    Article.objects.filter(pk=first.pk).update(view_count=120, share_count=4, like_count=7, comment_count=3)
    Article.objects.filter(pk=second.pk).update(view_count=30, like_count=1)
    today, yesterday = _days(2)[1], _days(2)[0]
    # Completion reports 100, 50, 30 (sum 180 over 3) and 100, 80 the next day: 310 / 5 = 62 %.
    _stat(first, yesterday, views=70, readers=40, depth_sum=180, depth_count=3)
    _stat(first, today, views=50, readers=25, depth_sum=180, depth_count=2)
    _stat(second, today, views=30, readers=20)
    _logged_in(client, me)
    page = client.get("/studio/stats/").content.decode()

    totals = dict(re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", page))
    assert totals["文章"] == "2"  # the draft has no numbers
    assert totals["阅读"] == "150"
    assert totals["独立读者"] == "85"
    assert totals["平均阅读完成度"] == "72%"  # (180 + 180) / 5
    assert (totals["点赞"], totals["分享"], totals["跟帖"]) == ("8", "4", "3")

    rows = {
        m[0]: m[1:]
        for m in re.findall(
            r'<tr data-article="(\d+)">.*?<td class="text">.*?</td><td>(\d+)</td><td>(\d+)</td>\s*<td>(.*?)</td>'
            r"<td>(\d+)</td><td>(\d+)</td><td>(\d+)</td>",
            page,
            re.S,
        )
    }
    assert rows[str(first.pk)] == ("120", "65", "72%", "7", "4", "3")
    assert rows[str(second.pk)] == ("30", "20", "—", "1", "0", "0")  # nobody reported: no average, not 0 %
    assert "还在写的草稿" not in page


def test_completion_average_from_beacons_on_a_hand_made_set(client):
    me, account = _creator()
    item = factories.article(account_=account)
    # Five readers: 100, 100, 50, 30 and 0 per cent → 280 / 5 = 56 %.
    for n, depth in enumerate((100, 100, 50, 30, 0)):
        response = client.post(
            BEACON, f"a={item.pk}&d={depth}", content_type=FORM, REMOTE_ADDR=f"203.0.113.{n}", **SAME_ORIGIN
        )
        assert response.status_code == 204
    counters.flush()
    _logged_in(client, me)
    page = client.get(f"/studio/stats/a/{item.pk}/").content.decode()
    assert "<dt>平均阅读完成度</dt><dd>56%</dd>" in page


def test_new_followers_per_day(client):
    me, account = _creator()
    days = _days()
    fans = [_user("fan") for _ in range(4)]
    for fan in fans:
        account_actions.follow(fan, account)
    # Two followed 3 days ago, one 40 days ago (outside the window), one today.
    three_days_ago = timezone.now() - timedelta(days=3)
    Follow.objects.filter(user__in=fans[:2]).update(created_at=three_days_ago)
    Follow.objects.filter(user=fans[2]).update(created_at=timezone.now() - timedelta(days=40))
    _logged_in(client, me)
    page = client.get("/studio/stats/").content.decode()
    assert "<dt>近30天新增粉丝</dt><dd>3</dd>" in page
    bars = _bars(_svg(page, "followers"))
    assert bars[timezone.localtime(three_days_ago).date().isoformat()] == 2
    assert bars[days[-1].isoformat()] == 1
    assert sum(bars.values()) == 3


def test_the_charts_have_thirty_days_and_their_numbers_match_the_data(client):
    me, account = _creator()
    one, two = factories.article(account_=account), factories.article(account_=account)
    days = _days()
    for n, day in enumerate(days):
        _stat(one, day, views=10 * n, readers=n)
        if n % 3 == 0:
            _stat(two, day, views=5, readers=2)
    _stat(one, days[0] - timedelta(days=1), views=999, readers=999)  # 31 days ago: not in the chart
    _logged_in(client, me)
    page = client.get("/studio/stats/").content.decode()

    views = _svg(page, "views")
    assert "<title" in views and "<desc" in views and 'role="img"' in views and "aria-labelledby" in views
    bars = _bars(views)
    assert list(bars) == [d.isoformat() for d in days]  # 30 bars, oldest first, ending today
    assert bars == {d.isoformat(): 10 * n + (5 if n % 3 == 0 else 0) for n, d in enumerate(days)}
    readers = _bars(_svg(page, "readers"))
    assert readers == {d.isoformat(): n + (2 if n % 3 == 0 else 0) for n, d in enumerate(days)}
    assert f"{days[5].isoformat()}：{bars[days[5].isoformat()]}</title>" in views  # each bar says its number

    # The same numbers as a table, for screen readers and anyone who prefers one.
    table = re.search(r'<table class="stats-table" id="daily-table">.*?</table>', page, re.S).group(0)
    table_rows = re.findall(r'<th scope="row">([\d-]+)</th><td>(\d+)</td><td>(\d+)</td>', table)
    assert len(table_rows) == 30
    assert {d: (int(v), int(r)) for d, v, r in table_rows} == {d: (bars[d], readers[d]) for d in bars}

    article_page = client.get(f"/studio/stats/a/{one.pk}/").content.decode()
    assert _bars(_svg(article_page, "views")) == {d.isoformat(): 10 * n for n, d in enumerate(days)}
    assert 'data-chart="followers"' not in article_page


# --- CSV ----------------------------------------------------------------------------------------


def test_account_csv_has_a_header_a_bom_and_defuses_formulas(client):
    me, account = _creator()
    evil = factories.article(account_=account, title='=HYPERLINK("http://evil.example","点我")')
    plain = factories.article(account_=account, title="财经观察：油价")
    at_sign = factories.article(account_=account, title="@SUM(1+1)")
    Article.objects.filter(pk=plain.pk).update(view_count=42, like_count=2, share_count=1, comment_count=5)
    _stat(plain, _days(1)[0], readers=17, depth_sum=150, depth_count=2)
    _logged_in(client, me)
    response = client.get("/studio/stats/export.csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="masthead-stats-')
    rows = _csv(response)
    assert rows[0] == [
        "文章ID", "标题", "状态", "发布时间", "阅读", "独立读者（按日去重）", "平均阅读完成度", "点赞", "分享", "跟帖",
    ]  # fmt: skip
    by_id = {row[0]: row for row in rows[1:]}
    assert len(by_id) == 3
    assert by_id[str(evil.pk)][1] == '\'=HYPERLINK("http://evil.example","点我")'
    assert by_id[str(at_sign.pk)][1] == "'@SUM(1+1)"
    plain.refresh_from_db()
    expected_time = timezone.localtime(plain.published_at).strftime("%Y-%m-%d %H:%M:%S")
    assert by_id[str(plain.pk)] == [
        str(plain.pk),
        "财经观察：油价",
        "已发布",
        expected_time,
        "42",
        "17",
        "75%",
        "2",
        "1",
        "5",
    ]


def test_article_csv_has_thirty_days(client):
    me, account = _creator()
    item = factories.article(account_=account)
    days = _days()
    _stat(item, days[-1], views=9, readers=4, shares=1, depth_sum=90, depth_count=1)
    _logged_in(client, me)
    rows = _csv(client.get(f"/studio/stats/a/{item.pk}/export.csv"))
    assert rows[0] == ["日期", "阅读", "独立读者", "平均阅读完成度", "阅读完成度上报数", "分享"]
    assert [r[0] for r in rows[1:]] == [d.isoformat() for d in days]
    assert rows[-1] == [days[-1].isoformat(), "9", "4", "90%", "1", "1"]
    assert rows[1] == [days[0].isoformat(), "0", "0", "", "0", "0"]


# --- the beacon ---------------------------------------------------------------------------------


def _writes(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]


def test_beacons_are_counted_through_the_buffer_without_a_write_each(client):
    item = factories.article()
    with CaptureQueriesContext(connection) as during:
        for n in range(5):
            response = client.post(
                BEACON, f"a={item.pk}&d=70", content_type=FORM, REMOTE_ADDR=f"198.51.100.{n}", **SAME_ORIGIN
            )
            assert response.status_code == 204
    assert _writes(during.captured_queries) == []  # nothing written per beacon
    assert counters.flush() == 5
    row = ArticleStatDay.objects.get(article=item, day=counters.local_day())
    assert (row.depth_sum, row.depth_count, row.views) == (350, 5, 0)


def test_a_beacon_from_sendbeacon_with_only_sec_fetch_site_or_only_origin_is_accepted(client):
    item = factories.article()
    body = f"a={item.pk}&d=100"
    assert client.post(BEACON, body, content_type=FORM, HTTP_SEC_FETCH_SITE="same-origin").status_code == 204
    assert (
        client.post(BEACON, body, content_type="text/plain;charset=UTF-8", HTTP_ORIGIN="http://testserver").status_code
        == 204
    )


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_ORIGIN": "https://evil.example", "HTTP_SEC_FETCH_SITE": "cross-site"},
        {"HTTP_ORIGIN": "https://evil.example"},
        {"HTTP_SEC_FETCH_SITE": "same-site"},
        {"HTTP_ORIGIN": "null"},
        {},  # no browser says where it comes from: not a page of ours
    ],
)
def test_cross_origin_beacons_are_refused(client, headers):
    item = factories.article()
    assert client.post(BEACON, f"a={item.pk}&d=50", content_type=FORM, **headers).status_code == 403
    assert counters.flush() == 0


def test_oversized_beacons_are_refused(client):
    item = factories.article()
    body = f"a={item.pk}&d=50&pad=" + "x" * 200
    assert client.post(BEACON, body, content_type=FORM, **SAME_ORIGIN).status_code == 413
    assert counters.flush() == 0


@pytest.mark.parametrize(
    "body",
    ["", "a=1", "d=50", "a=abc&d=50", "a=1&d=55", "a=1&d=110", "a=1&d=-10", "a=0&d=50", "a=1&d=50&x=1",
     "a=1&a=2&d=50", "a=1&d=5%00", "\xff\xfe", "<script>"],
)  # fmt: skip
def test_junk_beacons_are_refused(client, body):
    assert client.post(BEACON, body.encode("latin-1"), content_type=FORM, **SAME_ORIGIN).status_code == 400
    assert counters.flush() == 0


def test_beacons_only_accept_post_and_small_form_bodies(client):
    assert client.get(BEACON).status_code == 405
    assert client.post(BEACON, '{"a": 1, "d": 50}', content_type="application/json", **SAME_ORIGIN).status_code == 415


def test_beacons_are_rate_limited_per_reader(client):
    item = factories.article()
    codes = [
        client.post(BEACON, f"a={item.pk}&d=10", content_type=FORM, REMOTE_ADDR="192.0.2.1", **SAME_ORIGIN).status_code
        for _ in range(31)
    ]
    assert codes == [204] * 30 + [429]
    other = client.post(BEACON, f"a={item.pk}&d=10", content_type=FORM, REMOTE_ADDR="192.0.2.2", **SAME_ORIGIN)
    assert other.status_code == 204  # another reader is not held back
    assert counters.flush() == 31


def test_beacons_for_articles_that_do_not_exist_are_dropped_by_the_flush(client):
    assert client.post(BEACON, "a=999999&d=50", content_type=FORM, **SAME_ORIGIN).status_code == 204
    assert counters.flush() == 0
    assert not ArticleStatDay.objects.exists()


# --- query counts -------------------------------------------------------------------------------


def _queries(client, url: str) -> int:
    client.get(url)  # warm the shared fragments, so only this page's own queries are compared
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries.captured_queries)


def test_query_counts_do_not_grow_with_articles_or_days(client):
    me, account = _creator()
    first = factories.article(account_=account)
    _stat(first, _days(1)[0], views=1, readers=1)
    _logged_in(client, me)
    small = {
        url: _queries(client, url)
        for url in ("/studio/stats/", f"/studio/stats/a/{first.pk}/", "/studio/stats/export.csv",
                    f"/studio/stats/a/{first.pk}/export.csv")
    }  # fmt: skip

    more = [factories.article(account_=account) for _ in range(12)]
    ArticleStatDay.objects.bulk_create(
        [
            ArticleStatDay(article=a, day=d, views=3, readers=2, depth_sum=50, depth_count=1)
            for a in [first, *more]
            for d in _days()
            if (a, d) != (first, _days(1)[0])
        ]
    )
    for fan in [_user("fan") for _ in range(5)]:
        account_actions.follow(fan, account)
    large = {url: _queries(client, url) for url in small}
    assert large == small
    assert small["/studio/stats/"] <= DASHBOARD_QUERIES
    assert small[f"/studio/stats/a/{first.pk}/"] <= ARTICLE_QUERIES
    assert small["/studio/stats/export.csv"] <= EXPORT_QUERIES
    assert small[f"/studio/stats/a/{first.pk}/export.csv"] <= EXPORT_QUERIES


def test_query_budgets_on_a_cold_cache(client, django_assert_max_num_queries):
    me, account = _creator()
    items = [factories.article(account_=account) for _ in range(3)]
    _logged_in(client, me)
    with django_assert_max_num_queries(DASHBOARD_QUERIES):
        assert client.get("/studio/stats/").status_code == 200
    cache.clear()
    with django_assert_max_num_queries(ARTICLE_QUERIES):
        assert client.get(f"/studio/stats/a/{items[0].pk}/").status_code == 200
