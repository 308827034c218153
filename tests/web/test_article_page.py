import re

import pytest
from django.urls import reverse

from masthead.articles import actions
from tests import factories

pytestmark = pytest.mark.django_db


def test_article_page_shows_everything_a_reader_expects(client):
    writer = factories.account(name="星河观察", slogan="把技术讲清楚", verified=True, ip_region="广东")
    cover = factories.image(account=writer, caption="城市夜景", label="file")
    item = factories.article(
        account_=writer,
        title="如何看懂天气预报",
        cover=cover,
        is_original=True,
        source="作者根据公开资料整理",
        tags=["天气", "科普"],
    )
    factories.article(account_=writer, title="另一篇科普文章", tags=["科普"])

    response = client.get(item.get_absolute_url())
    html = response.content.decode()

    assert response.status_code == 200
    assert "<h1" in html and "如何看懂天气预报" in html
    crumbs = re.search(r'<nav class="breadcrumb".*?</nav>', html, re.S).group(0)
    assert [re.sub(r"<[^>]+>", "", li).strip() for li in re.findall(r"<li.*?</li>", crumbs, re.S)] == [
        "首页", "星河观察", "科技", "正文",
    ]  # fmt: skip
    assert "原创" in html and "作者根据公开资料整理" in html
    assert "（资料图）" in html and "城市夜景" in html
    assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", html)
    assert "IP属地：广东" in html
    assert "相关推荐" in html and "另一篇科普文章" in html
    assert "热点推荐" in html
    assert "往期回顾" in html and "把技术讲清楚" in html
    assert "本平台仅提供信息存储服务" in html and "only provides information storage services" in html
    assert "申请入驻" in html and "关怀版" in html and "无障碍浏览" in html
    assert "service.weibo.com" not in html  # share links go through our counter first
    assert reverse("web:share", args=[item.pk, "weibo"]) in html
    assert "<svg" in html  # WeChat QR code drawn on the server
    for slug in ("top", "military", "sports", "travel"):
        assert f'id="block-{slug}"' in html
    assert 'srcset="' in html and ".webp" in html
    assert '"@type": "NewsArticle"' in html


def test_removed_article_answers_410_with_reason_not_content(client):
    item = factories.article(title="将被下架的文章", body="<p>不该再看到的正文内容</p>")
    actions.remove(item, reason="经核实含有不实信息")
    response = client.get(item.get_absolute_url())
    html = response.content.decode()
    assert response.status_code == 410
    assert "经核实含有不实信息" in html
    assert "不该再看到的正文内容" not in html


def test_unpublished_article_is_not_found(client):
    draft = factories.article(publish=False)
    assert client.get(draft.get_absolute_url()).status_code == 404


def test_scheduled_article_is_not_readable_before_its_time(client):
    from datetime import timedelta

    from django.utils import timezone

    item = factories.article(publish=False, title="定时发布的文章")
    actions.schedule(item, at=timezone.now() + timedelta(hours=2))
    assert client.get(item.get_absolute_url()).status_code == 404
