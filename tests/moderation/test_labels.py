"""The labels readers must see on an article: 原创, 资料图 (and the other picture labels), 信息来源, 虚构,
AI生成, and the platform's disclaimer."""

import re

import pytest
from django.test import Client

from masthead.articles.models import ImageLabel
from tests import factories

pytestmark = pytest.mark.django_db

BODY = "<p>" + "这是一篇用于测试标注的文章。" * 10 + "</p>"


def page(article) -> str:
    response = Client().get(article.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


def header(html: str) -> str:
    return re.search(r'<header class="article-header">(.*?)</header>', html, re.S).group(1)


def test_an_unlabelled_article_carries_no_labels_but_the_disclaimer():
    html = page(factories.article(body=BODY))
    for label in ("原创", "虚构", "AI生成", "资料图", "信息来源："):
        assert label not in header(html) and label not in html.split('class="article-body"')[1].split("</div>")[0]
    assert "本平台仅提供信息存储服务" in html
    assert "only provides information storage services" in html


def test_original_fiction_and_ai_labels_are_shown_in_the_header():
    article = factories.article(body=BODY, is_original=True, is_fiction=True, is_ai_generated=True)
    top = header(page(article))
    assert '<span class="label original">原创</span>' in top
    assert '<span class="label fiction">虚构</span>' in top
    assert '<span class="label ai">AI生成</span>' in top
    assert "本文为虚构/演绎内容，请勿当作真实事件。" in top
    assert "本文含AI生成内容，请注意甄别。" in top


def test_the_source_statement_is_shown():
    html = page(factories.article(body=BODY, source="新华社 2025年3月1日电"))
    assert re.search(r"信息来源：</strong>\s*新华社 2025年3月1日电", html)


@pytest.mark.parametrize("label", [ImageLabel.FILE, ImageLabel.ILLUSTRATION, ImageLabel.AUTHOR, ImageLabel.AI])
def test_picture_labels_are_shown_under_the_cover_and_body_pictures(label):
    account = factories.account()
    cover = factories.image(account, caption="封面说明", label=label)
    figure = factories.image(account, caption="正文图片说明", label=label, is_ai_generated=label == ImageLabel.AI)
    body = BODY + f'<figure><img data-image="{figure.pk}"></figure>'
    html = page(factories.article(account_=account, body=body, cover=cover))
    text = str(ImageLabel(label).label)
    cover_caption = re.search(r'<figure class="figure cover">.*?</figure>', html, re.S).group(0)
    assert f"（{text}）" in cover_caption
    body_html = html.split('class="article-body"')[1]
    assert "正文图片说明" in body_html and text in body_html.split("</figure>")[0]
