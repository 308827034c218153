"""Article bodies: plain text, image references expanded into figures, idempotent re-rendering."""

import re

import pytest
from django.utils import translation

from masthead.articles import actions
from masthead.articles.body import plain_text, render_body
from tests import factories

pytestmark = pytest.mark.django_db


def _figures(html: str) -> list[str]:
    return re.findall(r"<figure\b.*?</figure>", html, re.S)


def _new_article(writer, body: str):
    return actions.create_article(account=writer, channel=factories.channel(), title="图片文章", body=body)


def test_plain_text_has_one_line_per_block_and_decoded_entities():
    html = (
        "<h2>小标题</h2><p>第一段&amp;符号&nbsp;空格 &lt;不是标签&gt; &quot;引号&quot;</p>"
        "<p>第二段<br>换行</p><ul><li>一</li><li>二</li></ul>"
        "<table><tr><td>甲</td><td>乙</td></tr></table><blockquote><p>引用</p></blockquote>"
    )
    assert plain_text(html) == '小标题\n第一段&符号 空格 <不是标签> "引号"\n第二段\n换行\n一\n二\n甲 乙\n引用'


def test_body_text_and_summary_are_readable_and_leave_pictures_out():
    writer = factories.account()
    pic = factories.image(account=writer, caption="夜色中的港口", credit="某摄影师", label="file")
    item = _new_article(writer, f'<figure><img data-image="{pic.pk}"></figure><p>正文 &amp; 内容</p><p>第二段</p>')
    assert item.body_text == "正文 & 内容\n第二段"
    assert item.summary == "正文 & 内容 第二段"


def test_image_reference_becomes_a_canonical_figure():
    writer = factories.account()
    pic = factories.image(
        account=writer, data=factories.image_bytes((1600, 900)), alt="港口的夜景", caption="夜色中的港口",
        credit="某摄影师", label="file",
    )  # fmt: skip
    item = _new_article(writer, f'<p>前文</p><img data-image="{pic.pk}" alt="作者写的" width="1"><p>后文</p>')

    [figure] = _figures(item.body_html)
    assert figure.startswith(f'<figure class="figure" data-image="{pic.pk}">')
    img = re.search(r"<img [^>]+>", figure).group(0)
    assert 'alt="港口的夜景"' in img and 'width="1600" height="900"' in img
    srcset = re.search(r'srcset="([^"]+)"', img).group(1)
    assert re.findall(r"\.webp (\d+)w", srcset) == ["320", "640", "960", "1280"]
    caption = re.search(r"<figcaption>(.*?)</figcaption>", figure).group(1)
    assert re.sub(r"<[^>]+>", "", caption) == "夜色中的港口 （资料图） 某摄影师"
    assert list(item.images.values_list("pk", flat=True)) == [pic.pk]


def test_reference_inside_a_paragraph_does_not_leave_the_figure_inside_it():
    writer = factories.account()
    pic = factories.image(account=writer)
    html = _new_article(writer, f'<p>前<img data-image="{pic.pk}">后</p><p><img data-image="{pic.pk}"></p>').body_html
    assert re.sub(r"<figure\b.*?</figure>", "[图]", html, flags=re.S) == "<p>前</p>[图]<p>后</p>[图]"


def test_users_own_figure_caption_is_replaced_by_the_images_caption():
    writer = factories.account()
    pic = factories.image(account=writer, caption="图片库里的说明")
    body = f'<figure><img data-image="{pic.pk}"><figcaption>作者手写的说明<script>x()</script></figcaption></figure>'
    html = _new_article(writer, body).body_html
    assert "图片库里的说明" in html and "作者手写的说明" not in html


def test_figure_without_an_image_stays_as_written():
    html = render_body("<figure><blockquote><p>一句话</p></blockquote><figcaption>—某人</figcaption></figure>").html
    assert html == "<figure><blockquote><p>一句话</p></blockquote><figcaption>—某人</figcaption></figure>"


def test_image_of_another_account_cannot_be_embedded():
    writer, other = factories.account(), factories.account()
    theirs = factories.image(account=other, caption="别人的图")
    platform = factories.image(account=None, caption="平台图库的图")  # uploaded by editors: anyone may use it
    body = f'<p>正文</p><img data-image="{theirs.pk}"><figure data-image="{theirs.pk}"></figure>'
    item = _new_article(writer, body + f'<img data-image="{platform.pk}">')
    assert "别人的图" not in item.body_html and f'data-image="{theirs.pk}"' not in item.body_html
    assert len(_figures(item.body_html)) == 1 and "平台图库的图" in item.body_html
    assert list(item.images.values_list("pk", flat=True)) == [platform.pk]


def test_missing_and_absurd_image_ids_are_dropped_without_error():
    body = '<p>正文</p><img data-image="424242"><img data-image="99999999999999999999999999"><img data-image="-1">'
    rendered = render_body(body, account_id=None)
    assert rendered.html == "<p>正文</p>" and rendered.image_ids == []


def test_image_text_is_escaped_inside_the_figure():
    writer = factories.account()
    pic = factories.image(account=writer, alt='"><script>a()</script>', caption="<img src=x onerror=b()>")
    html = _new_article(writer, f'<img data-image="{pic.pk}">').body_html
    assert "<script>" not in html and "<img src=x" not in html
    assert "&lt;img src=x onerror=b()&gt;" in html and 'alt="&quot;&gt;&lt;script&gt;a()&lt;/script&gt;"' in html


def test_rendering_a_rendered_body_again_changes_nothing():
    writer = factories.account()
    first, second = factories.image(account=writer, label="file"), factories.image(account=writer, caption="第二张")
    body = f'<p>开头</p><figure><img data-image="{first.pk}"></figure><p>中间<img data-image="{second.pk}"></p>'
    item = _new_article(writer, body)
    rendered = item.body_html

    for _ in range(3):  # the editor opens the stored body and saves it again, unchanged
        actions.update_article(item, body=item.body_html)
        item.refresh_from_db()
    assert item.body_html == rendered
    assert len(_figures(item.body_html)) == 2 and item.body_html.count("（资料图）") == 1
    assert sorted(item.images.values_list("pk", flat=True)) == sorted([first.pk, second.pk])


def test_editing_around_a_figure_keeps_it_once():
    writer = factories.account()
    pic = factories.image(account=writer)
    item = _new_article(writer, f'<p>旧的开头</p><img data-image="{pic.pk}">')
    actions.update_article(item, body=item.body_html.replace("旧的开头", "新的开头") + "<p>补充</p>")
    item.refresh_from_db()
    assert item.body_html.startswith("<p>新的开头</p><figure") and item.body_html.endswith("<p>补充</p>")
    assert len(_figures(item.body_html)) == 1


def test_figures_are_stored_in_the_site_language_whoever_saves():
    writer = factories.account()
    pic = factories.image(account=writer, label="file")
    with translation.override("en"):
        html = _new_article(writer, f'<img data-image="{pic.pk}">').body_html
    assert "（资料图）" in html


@pytest.mark.parametrize("count", [1, 3, 12])
def test_render_body_reads_all_images_in_one_query(count, django_assert_num_queries):
    writer = factories.account()
    pics = [factories.image(account=writer, data=factories.image_bytes((400, 300))) for _ in range(count)]
    body = "".join(f'<p>第{n}段</p><img data-image="{p.pk}">' for n, p in enumerate(pics))
    body += f'<figure><img data-image="{pics[0].pk}"></figure>'  # the same picture twice costs nothing more
    with django_assert_num_queries(1):
        rendered = render_body(body, account_id=writer.pk)
    assert len(_figures(rendered.html)) == count + 1 and rendered.image_ids == [p.pk for p in pics]


def test_render_body_without_images_needs_no_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        render_body("<p>纯文字</p>")


def test_new_caption_reaches_the_articles_that_show_the_picture():
    writer = factories.account()
    pic = factories.image(account=writer, caption="旧说明")
    shown, taken_down = (
        _new_article(writer, f'<img data-image="{pic.pk}">'),
        _new_article(writer, f'<img data-image="{pic.pk}">'),
    )
    actions.publish(taken_down)
    actions.remove(taken_down, reason="违规")
    pic.caption, pic.label = "新说明", "file"
    pic.save()
    assert actions.refresh_figures(pic) == 1
    shown.refresh_from_db()
    taken_down.refresh_from_db()
    assert "新说明" in shown.body_html and "（资料图）" in shown.body_html and "旧说明" not in shown.body_html
    assert "旧说明" in taken_down.body_html  # kept as it was when taken down


def test_pictures_from_elsewhere_are_not_kept():
    body = (
        '<p>文<img src="https://tracker.example/pixel.gif" alt="x">字</p>'
        '<figure><img src="/x.jpg"><figcaption>说明</figcaption></figure>'
    )
    assert render_body(body).html == "<p>文字</p><figure><figcaption>说明</figcaption></figure>"


def test_own_photo_shows_when_and_where_it_was_taken():
    from datetime import date

    from masthead.articles.body import render_body

    writer = factories.account()
    photo = factories.image(account=writer, caption="清晨的江边", label="author")
    photo.taken_on, photo.taken_place = date(2026, 10, 1), "江边公园"
    photo.save()
    html = render_body(f'<img data-image="{photo.pk}">', account_id=writer.pk).html
    assert "摄于 江边公园 2026-10-01" in html and "（作者供图）" in html
