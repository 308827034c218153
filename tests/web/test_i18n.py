"""English through Django i18n: reader pages, relative times, the admin, and the page cache per language.

The interface is Simplified Chinese by default (the msgids are Chinese); English comes from
src/masthead/locale/en. A reader chooses it with Accept-Language or the switch in the header
(/lang/en/, which sets the `masthead_lang` cookie).
"""

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone, translation

from masthead.articles import actions
from masthead.channels.models import Channel
from tests import factories

pytestmark = pytest.mark.django_db

EN = {"accept-language": "en-US,en;q=0.9"}
ZH = {"accept-language": "zh-CN,zh;q=0.9"}
# Han characters, CJK punctuation (、。「」) and full-width forms (：（）).
HAN = re.compile(r"[\u3400-\u9fff]+")
CJK_PUNCTUATION = re.compile(r"[\u3000-\u303f\uff00-\uffef]+")


def _html(client: Client, url: str, headers: dict | None = None, status: int = 200) -> str:
    response = client.get(url, headers=headers or {})
    assert response.status_code == status, url
    return response.content.decode()


def _text(html: str) -> str:
    """Visible text, whitespace collapsed (tags dropped, so assertions don't depend on markup)."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _crumbs(html: str) -> list[str]:
    nav = re.search(r'<nav class="breadcrumb".*?</nav>', html, re.S).group(0)
    return [_text(li).strip() for li in re.findall(r"<li.*?</li>", nav, re.S)]


def _body(html: str) -> str:
    return html.split('<div class="article-body"', 1)[1].split(">", 1)[1].split("</div>", 1)[0]


def _english_site():
    """An account and articles whose own content is English, so any Chinese left is interface text."""
    writer = factories.account(name="Star River", slogan="Plain words on science", ip_region="Beijing")
    cover = factories.image(account=writer, alt="A city at night", caption="Night city", label="file")
    item = factories.article(
        account_=writer,
        title="How to read a weather forecast",
        body="<p>Clouds, fronts and pressure, explained.</p>",
        cover=cover,
        is_original=True,
        source="Public data",
        tags=["weather"],
    )
    factories.article(account_=writer, title="Why the sky is blue", body="<p>Light.</p>", tags=["weather"])
    return writer, item


def _urls(item) -> dict[str, str]:
    return {
        "home": "/",
        "channel": item.channel.get_absolute_url(),
        "creator": item.account.get_absolute_url(),
        "article": item.get_absolute_url(),
    }


def test_reader_pages_speak_english_on_accept_language(client):
    _, item = _english_site()
    pages = {name: _html(client, url, EN) for name, url in _urls(item).items()}

    for name, html in pages.items():
        text = _text(html)
        assert '<html lang="en"' in html, name
        assert "Apply to join" in text and "care edition" in text and "Accessibility" in text, name
        assert "Skip to content" in text, name
        assert "申请入驻" not in text and "热点推荐" not in text, name
        assert 'lang="zh-CN">中文</a>' in html, name  # the switch back offers Chinese

    home = _text(pages["home"])
    assert "Top story" in home and "Top stories by channel" in home and "Latest articles" in home
    assert "Trending" in home and "Become a creator" in home
    assert "News and opinion from independent creators" in pages["home"]  # meta description

    assert _crumbs(pages["channel"]) == ["Home", item.channel.name]
    assert "Trending in this channel" in _text(pages["channel"])

    creator = _text(pages["creator"])
    assert _crumbs(pages["creator"]) == ["Home", "Star River"]
    assert "Past articles" in creator and "Followers" in creator and "IP location" in creator

    article = _text(pages["article"])
    assert _crumbs(pages["article"]) == ["Home", "Star River", item.channel.name, "Article"]
    assert "Related" in article and "Why the sky is blue" in article
    assert "Original" in article and "File photo" in article and "Source" in article
    assert "Views 0" in article and "Share on Weibo" in article and "Scan with WeChat" in article
    assert "Reading options" in article
    # The platform disclaimer stays bilingual whatever the interface language.
    assert "本平台仅提供信息存储服务" in article and "only provides information storage services" in article


def test_article_labels_and_notices_in_english(client):
    writer = factories.account(name="Fable Desk")
    item = factories.article(
        account_=writer, title="A story", body="<p>Once.</p>", is_fiction=True, is_ai_generated=True, tags=[]
    )
    text = _text(_html(client, item.get_absolute_url(), EN))
    assert "Fiction" in text and "AI-generated" in text
    assert "This article contains AI-generated content." in text
    assert "This article is fiction or a dramatization." in text
    zh = _text(_html(client, item.get_absolute_url(), ZH))
    assert "虚构" in zh and "本文含AI生成内容，请注意甄别。" in zh


def test_removed_article_notice_in_english_and_chinese(client):
    item = factories.article(title="To be removed", body="<p>Gone text</p>")
    actions.remove(item, reason="false claims")
    en = _html(client, item.get_absolute_url(), EN, status=410)
    assert '<html lang="en"' in en
    assert "This article has been removed" in en and "Reason" in en and "false claims" in en
    assert "Back to the home page" in en and "Gone text" not in en
    zh = _html(client, item.get_absolute_url(), ZH, status=410)
    assert "该文章已被下架" in zh and "返回首页" in zh and "This article has been removed" not in zh


def test_english_pages_show_no_chinese_interface_text(client, settings):
    """Nothing visible stays Chinese in English except the content: channel names and descriptions
    (data from the channels migration), the site name, the bilingual disclaimer, the 中文 switch."""
    settings.SITE_NAME = "Masthead"  # the default "Masthead 号" is data too
    writer, item = _english_site()
    removed = factories.article(account_=writer, title="Removed one", body="<p>x</p>")
    actions.remove(removed, reason="duplicate")
    data = [text for c in Channel.objects.all() for text in (c.name, c.description) if text]
    urls = [*_urls(item).values(), removed.get_absolute_url(), "/join/", "/accessibility/"]
    for url in urls:
        html = _html(client, url, EN, status=410 if url == removed.get_absolute_url() else 200)
        html = re.sub(r'<p lang="zh-CN">.*?</p>', "", html, flags=re.S)
        html = html.replace('lang="zh-CN">中文</a>', "")
        for text in sorted(data, key=len, reverse=True):
            html = html.replace(text, "")
        assert HAN.findall(html) == [], url


def test_english_pages_use_english_punctuation(client):
    writer, item = _english_site()
    removed = factories.article(account_=writer, title="Removed one", body="<p>x</p>")
    actions.remove(removed, reason="duplicate")
    for url, status in [(item.get_absolute_url(), 200), (removed.get_absolute_url(), 410), ("/join/", 200)]:
        html = re.sub(r'<p lang="zh-CN">.*?</p>', "", _html(client, url, EN, status=status), flags=re.S)
        assert CJK_PUNCTUATION.findall(_text(html)) == [], url  # the Chinese half of the disclaimer aside


def test_figure_label_in_the_body_does_not_depend_on_the_editor_language(client):
    writer = factories.account()
    picture = factories.image(account=writer, caption="城市夜景", label="illustration")
    with translation.override("en"):  # an editor working in the English admin
        item = factories.article(account_=writer, body=f'<p>正文</p><img data-image="{picture.pk}">')
    assert "（示意图）" in _body(_html(client, item.get_absolute_url(), ZH))


def test_figure_label_in_the_body_follows_the_reader_language(client):
    writer = factories.account()
    picture = factories.image(account=writer, caption="Night city", label="illustration")
    item = factories.article(account_=writer, body=f'<p>Text</p><img data-image="{picture.pk}">')
    assert "Illustration" in _body(_html(client, item.get_absolute_url(), EN))


def test_language_cookie_from_the_switch_gives_english_then_chinese_again():
    reader = Client()
    switched = reader.get("/lang/en/?next=/")
    assert switched.status_code == 302 and switched["Location"] == "/"
    assert switched.cookies["masthead_lang"].value == "en"
    item = factories.article(title="Cookie reader test")
    for name, url in _urls(item).items():
        html = _html(reader, url)
        assert '<html lang="en"' in html and "Apply to join" in html, name
        if name != "home":
            assert _crumbs(html)[0] == "Home", name
    assert "Related" in _html(reader, item.get_absolute_url())

    # The cookie wins over the browser's Accept-Language, and switching back restores Chinese.
    assert "Apply to join" in _html(reader, "/", ZH)
    reader.get("/lang/zh-hans/?next=/")
    html = _html(reader, "/")
    assert '<html lang="zh-CN"' in html and "申请入驻" in html and "Apply to join" not in html


def test_chinese_by_default_and_on_request(client):
    _, item = _english_site()
    for headers in ({}, ZH, {"accept-language": "zh-TW"}, {"accept-language": "fr"}):
        for name, url in _urls(item).items():
            html = _html(client, url, headers)
            text = _text(html)
            assert '<html lang="zh-CN"' in html, (headers, name)
            assert "申请入驻" in text and "关怀版" in text and "Apply to join" not in text, (headers, name)
            assert 'lang="en">English</a>' in html
    article = _html(client, item.get_absolute_url())
    assert _crumbs(article)[0] == "首页" and _crumbs(article)[-1] == "正文"
    assert "相关推荐" in article and "热点推荐" in article and "（资料图）" in article


def _published(title: str, ago: timedelta):
    item = factories.article(title=title, publish=False)
    actions.publish(item, at=timezone.now() - ago)
    return item


def test_relative_times_follow_the_language(client):
    ages = {
        "just now": (timedelta(seconds=5), "刚刚"),
        "1 minute ago": (timedelta(seconds=90), "1分钟前"),
        "5 minutes ago": (timedelta(minutes=5, seconds=30), "5分钟前"),
        "1 hour ago": (timedelta(hours=1, minutes=10), "1小时前"),
        "3 hours ago": (timedelta(hours=3, minutes=10), "3小时前"),
        "2 days ago": (timedelta(days=2, hours=1), "2天前"),
    }
    for english, (age, _) in ages.items():
        _published(f"Item {english}", age)
    old = _published("Old item", timedelta(days=30))
    old_date = timezone.localtime(old.published_at).strftime("%Y-%m-%d")

    def times(headers: dict) -> dict[str, str]:
        html = _html(client, "/", headers)
        found = re.findall(r'<h3><a href="[^"]+">([^<]+)</a></h3>.*?<time [^>]*>([^<]*)</time>', html, re.S)
        return dict(found)

    en = times(EN)
    for english in ages:
        assert en[f"Item {english}"] == english
    assert en["Old item"] == old_date
    zh = times({})
    for english, (_, chinese) in ages.items():
        assert zh[f"Item {english}"] == chinese
    assert zh["Old item"] == old_date


@pytest.fixture
def editor(client):
    user = get_user_model().objects.create_superuser("editor", "editor@example.org", "a-long-pass-phrase")
    client.force_login(user)
    return client


def test_admin_in_english_when_asked_and_chinese_by_default(editor):
    factories.article(title="Admin visible")
    en = _text(_html(editor, "/admin/", EN))
    assert "Log out" in en and "Recent actions" in en
    for label in ("Channel", "Creator account", "Articles", "Image"):
        assert label in en
    assert "注销" not in en and "创作者账号" not in en
    changelist = _text(_html(editor, "/admin/articles/article/", EN))
    assert "Publish selected articles" in changelist and "Published" in changelist

    zh = _text(_html(editor, "/admin/"))
    assert "注销" in zh and "创作者账号" in zh and "Log out" not in zh
    assert "发布所选文章" in _html(editor, "/admin/articles/article/")


def test_page_cache_keeps_each_language_apart(client):
    item = factories.article(title="Cached in two languages")
    for url in _urls(item).values():
        answers = []
        for headers in (ZH, EN, ZH, EN, {}):
            response = client.get(url, headers=headers)
            assert response.status_code == 200
            answers.append((response.content.decode(), response.get("X-Page-Cache")))
        (zh1, miss_zh), (en1, miss_en), (zh2, hit_zh), (en2, hit_en), (default, hit_default) = answers
        assert miss_zh != "hit" and miss_en != "hit", url  # each language renders once…
        assert hit_zh == hit_en == hit_default == "hit", url  # …and is then served from the cache
        assert '<html lang="zh-CN"' in zh1 and "申请入驻" in zh1, url
        assert '<html lang="en"' in en1 and "Apply to join" in en1, url
        assert zh2 == zh1 == default and en2 == en1, url


def test_page_cache_honours_the_language_cookie(client):
    item = factories.article(title="Cookie and cache")
    url = item.get_absolute_url()
    assert "申请入驻" in _html(client, url)  # fills the cache with the Chinese page
    english = Client()
    english.get("/lang/en/?next=/")
    response = english.get(url)
    assert response.get("X-Page-Cache") != "hit" and "Apply to join" in response.content.decode()
    again = english.get(url)
    assert again.get("X-Page-Cache") == "hit" and "Apply to join" in again.content.decode()
    assert "Accept-Language" in again["Vary"] and "Cookie" in again["Vary"]
    assert "申请入驻" in _html(client, url)
