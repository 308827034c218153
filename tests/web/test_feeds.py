"""RSS/Atom feeds, sitemap.xml, the news sitemap and robots.txt, parsed as feed readers and crawlers do."""

import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from masthead.accounts.models import Account
from masthead.articles import actions
from masthead.channels.models import Channel
from tests import factories

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
DC = "{http://purl.org/dc/elements/1.1/}"
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
NEWS = "{http://www.google.com/schemas/sitemap-news/0.9}"


def _publish(title: str, hours_ago: float, **fields):
    item = factories.article(publish=False, title=title, **fields)
    actions.publish(item, at=timezone.now() - timedelta(hours=hours_ago))
    item.refresh_from_db()
    return item


@pytest.fixture
def news():
    """Two writers in two channels, with a draft and a removed article among the published ones."""
    writer = factories.account(name="星河观察", slogan="")  # no slogan: the feed still needs a description
    other = factories.account(name="江南笔记", slogan="慢慢写")
    tech, sports = factories.channel("tech"), factories.channel("sports")
    items = {
        "old": _publish("旧闻：三天前的科技新闻", 72, account_=writer, channel_=tech),
        "mid": _publish("天气预报：明天有雨", 5, account_=writer, channel_=tech, summary="<b>粗体</b> & 更多"),
        "new": _publish("最新：国产芯片发布", 1, account_=writer, channel_=tech),
        "sports": _publish("体育：主队夺冠", 2, account_=other, channel_=sports),
    }
    items["draft"] = factories.article(publish=False, title="草稿不该出现", account_=writer, channel_=tech)
    items["removed"] = _publish("已下架的文章", 0.5, account_=writer, channel_=tech)
    actions.remove(items["removed"], reason="不实信息")
    return {"writer": writer, "other": other, "items": items}


def _xml(client, url: str, content_type: str) -> tuple[ET.Element, bytes]:
    response = client.get(url)
    assert response.status_code == 200, url
    assert response["Content-Type"].startswith(content_type), response["Content-Type"]
    return ET.fromstring(response.content), response.content


def _rss_items(root: ET.Element) -> list[dict]:
    assert root.tag == "rss" and root.get("version") == "2.0"
    return [
        {
            "title": i.findtext("title"),
            "link": i.findtext("link"),
            "description": i.findtext("description"),
            "author": i.findtext(f"{DC}creator"),
            "date": parsedate_to_datetime(i.findtext("pubDate")),
        }
        for i in root.find("channel").findall("item")
    ]


def _atom_entries(root: ET.Element) -> list[dict]:
    assert root.tag == f"{ATOM}feed"
    return [
        {
            "title": e.findtext(f"{ATOM}title"),
            "link": e.find(f"{ATOM}link[@rel='alternate']").get("href"),
            "description": e.findtext(f"{ATOM}summary"),
            "author": e.findtext(f"{ATOM}author/{ATOM}name"),
            "date": datetime.fromisoformat(e.findtext(f"{ATOM}published")),
            "updated": datetime.fromisoformat(e.findtext(f"{ATOM}updated")),
        }
        for e in root.findall(f"{ATOM}entry")
    ]


FEEDS = {
    # name: (url for the fixture, the articles it must list newest first)
    "site": (lambda n: "/feed/", ["new", "sports", "mid", "old"]),
    "channel": (lambda n: "/c/tech/", ["new", "mid", "old"]),
    "creator": (lambda n: f"/u/{n['writer'].handle}/", ["new", "mid", "old"]),
}


@pytest.mark.parametrize("kind", FEEDS)
def test_rss_lists_published_articles_newest_first_with_absolute_links(client, news, kind):
    prefix, expected = FEEDS[kind]
    root, raw = _xml(client, prefix(news) + "rss/", "application/rss+xml")
    channel = root.find("channel")
    items = _rss_items(root)

    assert [i["title"] for i in items] == [news["items"][k].title for k in expected]
    assert [i["link"] for i in items] == [f"http://testserver{news['items'][k].get_absolute_url()}" for k in expected]
    assert [i["date"] for i in items] == [news["items"][k].published_at.replace(microsecond=0) for k in expected]
    assert all(i["author"] in ("星河观察", "江南笔记") for i in items)
    assert channel.findtext("description").strip()  # required by RSS 2.0, also for a creator without a slogan
    assert channel.findtext("language") == "zh-cn"
    assert channel.findtext("link").startswith("http://testserver/")
    self_link = channel.find(f"{ATOM}link[@rel='self']").get("href")
    assert self_link == f"http://testserver{prefix(news)}rss/"
    assert "草稿不该出现".encode() not in raw and "已下架的文章".encode() not in raw
    assert news["items"][expected[0]].title.encode() in raw  # Chinese as UTF-8, not as character references


@pytest.mark.parametrize("kind", FEEDS)
def test_atom_lists_published_articles_newest_first_with_absolute_links(client, news, kind):
    prefix, expected = FEEDS[kind]
    root, raw = _xml(client, prefix(news) + "atom/", "application/atom+xml")
    entries = _atom_entries(root)

    assert [e["title"] for e in entries] == [news["items"][k].title for k in expected]
    assert [e["link"] for e in entries] == [f"http://testserver{news['items'][k].get_absolute_url()}" for k in expected]
    assert [e["date"] for e in entries] == [news["items"][k].published_at for k in expected]
    assert all(e["date"].utcoffset() is not None and e["updated"] >= e["date"] for e in entries)
    assert all(e["author"] in ("星河观察", "江南笔记") for e in entries)
    assert root.findtext(f"{ATOM}subtitle").strip()
    assert root.findtext(f"{ATOM}title").strip()
    assert root.find(f"{ATOM}link[@rel='self']").get("href") == f"http://testserver{prefix(news)}atom/"
    assert "草稿不该出现".encode() not in raw and "已下架的文章".encode() not in raw


def test_feed_descriptions_name_what_the_feed_is(client, news):
    creator_rss = ET.fromstring(client.get(f"/u/{news['writer'].handle}/rss/").content)
    creator_atom = ET.fromstring(client.get(f"/u/{news['writer'].handle}/atom/").content)
    channel_rss = ET.fromstring(client.get("/c/tech/rss/").content)
    other_rss = ET.fromstring(client.get(f"/u/{news['other'].handle}/rss/").content)

    assert "星河观察" in creator_rss.findtext("channel/description")
    assert creator_atom.findtext(f"{ATOM}subtitle") == creator_rss.findtext("channel/description")
    assert creator_atom.findtext(f"{ATOM}author/{ATOM}name") == "星河观察"
    assert "科技" in channel_rss.findtext("channel/description")
    assert "慢慢写" in other_rss.findtext("channel/description")


def test_plain_text_summary_is_not_turned_into_html_by_readers(client, news):
    # Feed readers render <description> as HTML, so a summary's "<b>" must arrive as text.
    items = {i["title"]: i for i in _rss_items(ET.fromstring(client.get("/feed/rss/").content))}
    assert items["天气预报：明天有雨"]["description"] == "&lt;b&gt;粗体&lt;/b&gt; &amp; 更多"


@pytest.mark.parametrize("suffix", ["rss/", "atom/"])
def test_unknown_or_inactive_channel_and_unknown_creator_feeds_are_not_found(client, suffix):
    Channel.objects.filter(slug="travel").update(is_active=False)
    assert client.get(f"/c/no-such-channel/{suffix}").status_code == 404
    assert client.get(f"/c/travel/{suffix}").status_code == 404
    assert client.get(f"/u/nobody-here/{suffix}").status_code == 404


def test_feeds_use_the_public_site_url(client, settings, news):
    settings.SITE_URL = "https://news.example.com"
    rss = ET.fromstring(client.get("/feed/rss/").content)
    atom = ET.fromstring(client.get("/c/tech/atom/").content)

    assert rss.findtext("channel/link") == "https://news.example.com/"
    assert rss.find(f"channel/{ATOM}link").get("href") == "https://news.example.com/feed/rss/"
    assert all(i["link"].startswith("https://news.example.com/a/") for i in _rss_items(rss))
    assert atom.find(f"{ATOM}link[@rel='self']").get("href") == "https://news.example.com/c/tech/atom/"
    assert all(e["link"].startswith("https://news.example.com/a/") for e in _atom_entries(atom))


def test_feed_query_count_does_not_grow_with_articles(client, news, django_assert_max_num_queries):
    for n in range(10):
        factories.article(account_=news["writer"], title=f"更多文章{n}")
    for url in ("/feed/rss/", "/c/tech/atom/", f"/u/{news['writer'].handle}/rss/"):
        with django_assert_max_num_queries(2):
            assert client.get(url).status_code == 200


# --- sitemaps ---------------------------------------------------------------------------------


def _sitemap(client, url: str = "/sitemap.xml") -> dict[str, str]:
    root, _ = _xml(client, url, "application/xml")
    assert root.tag == f"{SM}urlset"
    return {u.findtext(f"{SM}loc"): u.findtext(f"{SM}lastmod") for u in root.findall(f"{SM}url")}


def test_sitemap_lists_published_articles_channels_and_creators_with_lastmod(client, news):
    quiet = factories.account(name="只有草稿的号")
    factories.article(publish=False, account_=quiet)
    Channel.objects.filter(slug="travel").update(is_active=False)

    urls = _sitemap(client)

    published = [news["items"][k] for k in ("old", "mid", "new", "sports")]
    for item in published:
        assert f"http://testserver{item.get_absolute_url()}" in urls
    for key in ("draft", "removed"):
        assert f"http://testserver{news['items'][key].get_absolute_url()}" not in urls
    assert "http://testserver/c/tech/" in urls and "http://testserver/c/sports/" in urls
    assert "http://testserver/c/travel/" not in urls
    assert f"http://testserver{news['writer'].get_absolute_url()}" in urls
    assert f"http://testserver{quiet.get_absolute_url()}" not in urls  # nothing published, nothing to index
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", lastmod or "") for lastmod in urls.values()), urls
    old = news["items"]["old"]
    assert urls[f"http://testserver{old.get_absolute_url()}"] == timezone.localtime(old.updated_at).date().isoformat()


def test_channel_and_creator_lastmod_follow_publishing(client):
    long_ago = timezone.now() - timedelta(days=30)
    writer = factories.account()
    Channel.objects.filter(slug="sports").update(updated_at=long_ago)
    item = factories.article(account_=writer, channel_=factories.channel("sports"))
    Account.objects.filter(pk=writer.pk).update(updated_at=long_ago)  # a publish does not touch the row

    urls = _sitemap(client)

    # The factory publishes a little in the past, which late in the evening may be yesterday.
    published = timezone.localdate(item.published_at).isoformat()
    assert urls["http://testserver/c/sports/"] == published
    assert urls[f"http://testserver{writer.get_absolute_url()}"] == published
    assert urls["http://testserver/c/travel/"]  # no articles yet: the channel's own time


def test_sitemap_uses_the_public_site_url(client, settings, news):
    settings.SITE_URL = "https://news.example.com"
    assert all(urlsplit(loc).netloc == "news.example.com" and loc.startswith("https://") for loc in _sitemap(client))
    assert all(loc.startswith("https://news.example.com/a/") for loc in _sitemap(client, "/sitemap-news.xml"))


def test_sitemap_query_count_does_not_grow(client, news, django_assert_max_num_queries):
    for _ in range(10):
        factories.article(account_=factories.account(), channel_=factories.channel("travel"))
    with django_assert_max_num_queries(6):
        assert client.get("/sitemap.xml").status_code == 200


def test_news_sitemap_lists_only_the_last_two_days(client, news):
    hostile = _publish('A & B <对比> "引号"', 47)
    root, _ = _xml(client, "/sitemap-news.xml", "application/xml")
    entries = {u.findtext(f"{SM}loc"): u.find(f"{NEWS}news") for u in root.findall(f"{SM}url")}

    expected = [news["items"][k] for k in ("new", "sports", "mid")] + [hostile]
    assert list(entries) == [f"http://testserver{a.get_absolute_url()}" for a in expected]  # newest first
    for item in expected:
        entry = entries[f"http://testserver{item.get_absolute_url()}"]
        assert entry.findtext(f"{NEWS}publication/{NEWS}name") == "Masthead 号"
        assert entry.findtext(f"{NEWS}publication/{NEWS}language") == "zh-cn"
        assert entry.findtext(f"{NEWS}title") == item.title
        published = datetime.fromisoformat(entry.findtext(f"{NEWS}publication_date"))
        assert published.utcoffset() is not None and published == item.published_at
    # three days old, draft, removed: not news
    for key in ("old", "draft", "removed"):
        assert f"http://testserver{news['items'][key].get_absolute_url()}" not in entries


def test_news_sitemap_is_valid_when_there_is_no_news(client):
    root, _ = _xml(client, "/sitemap-news.xml", "application/xml")
    assert root.tag == f"{SM}urlset" and list(root) == []


# --- robots.txt -------------------------------------------------------------------------------


def _disallowed(rules: list[str], path: str) -> bool:
    """Google's reading of a Disallow rule: a path prefix in which * matches any characters."""
    return any(re.match(".*".join(map(re.escape, rule.split("*"))), path) for rule in rules)


def test_robots_txt_points_at_both_sitemaps_and_keeps_crawlers_off_redirects(client, settings):
    item = factories.article()
    response = client.get("/robots.txt")
    lines = response.content.decode().splitlines()
    rules = [line.split(":", 1)[1].strip() for line in lines if line.startswith("Disallow:")]

    assert response["Content-Type"].startswith("text/plain")
    assert lines[0] == "User-agent: *"
    assert "Sitemap: http://testserver/sitemap.xml" in lines
    assert "Sitemap: http://testserver/sitemap-news.xml" in lines
    assert client.get("/sitemap.xml").status_code == client.get("/sitemap-news.xml").status_code == 200
    assert _disallowed(rules, reverse("web:share", args=[item.pk, "weibo"]))
    assert _disallowed(rules, "/admin/")
    assert _disallowed(rules, reverse("web:care", args=["on"]) + "?next=/")
    for allowed in (item.get_absolute_url(), "/", "/c/tech/", "/feed/rss/", "/sitemap.xml"):
        assert not _disallowed(rules, allowed), allowed

    settings.SITE_URL = "https://news.example.com"
    assert "Sitemap: https://news.example.com/sitemap-news.xml" in client.get("/robots.txt").content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "/feed/rss/",
        "/c/tech/atom/",
        "creator",
        "/sitemap-news.xml",
        "/sitemap.xml",
    ],
)
def test_cached_feeds_show_a_new_article_and_drop_a_removed_one(client, news, url, django_capture_on_commit_callbacks):
    url = f"/u/{news['writer'].handle}/rss/" if url == "creator" else url
    first = client.get(url)
    again = client.get(url)
    assert again["X-Page-Cache"] == "hit" and again.content == first.content
    assert again["Content-Type"] == first["Content-Type"]

    with django_capture_on_commit_callbacks(execute=True):
        fresh = _publish("刚刚发布：缓存应当更新", 0, account_=news["writer"], channel_=factories.channel("tech"))
    assert fresh.get_absolute_url().encode() in client.get(url).content

    with django_capture_on_commit_callbacks(execute=True):
        actions.remove(fresh, reason="不实信息")
    assert fresh.get_absolute_url().encode() not in client.get(url).content
