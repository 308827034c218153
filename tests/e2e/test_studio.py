"""The writing page in a real browser (Chromium): keyboard-only writing, images, autosave, going
offline and coming back, paste cleaning, a second tab, publishing."""

import re

import pytest

from masthead.accounts.models import Badge
from masthead.articles.models import Article
from tests import factories
from tests.e2e.conftest import logged_in_context as _logged_in_context
from tests.studio.helpers import creator, draft

pytestmark = [pytest.mark.django_db(transaction=True)]


def _wait_saved(page):
    page.wait_for_function("document.getElementById('save-status').dataset.state === 'saved'")


def _tool(page, label):
    return page.get_by_role("toolbar").get_by_role("button", name=label, exact=True)


def test_write_insert_image_go_offline_come_back_and_publish(browser, live_server, tmp_path):
    user, account = creator(badge=Badge.QUALITY)
    context = _logged_in_context(browser, live_server, user)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    page.goto("/studio/")
    page.get_by_role("button", name="写文章").press("Enter")
    page.wait_for_url(re.compile(r"/studio/a/\d+/edit/$"))
    edit_url = page.url
    body = page.locator("#body-editor")
    assert page.locator("textarea[name=body]").is_hidden()

    # Title and body with the keyboard alone: Tab moves between the fields and the toolbar.
    page.get_by_label("标题", exact=True).focus()
    page.keyboard.type("键盘写成的文章")
    body.focus()
    page.keyboard.type("开头一段是普通的正文，介绍这篇文章要讲的事情。")
    page.keyboard.press("Enter")
    page.keyboard.press("Shift+Tab")  # from the text to the toolbar's last button
    assert page.evaluate("document.activeElement.textContent") == "图片"
    page.keyboard.press("Home")
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.textContent") == "标题"
    page.keyboard.press("Enter")
    page.keyboard.type("一个小标题")
    assert _tool(page, "标题").get_attribute("aria-pressed") == "true"
    page.keyboard.press("Enter")
    page.keyboard.type("这一段有")
    page.keyboard.press("Control+b")
    page.keyboard.type("加粗的字")
    assert _tool(page, "加粗").get_attribute("aria-pressed") == "true"
    page.keyboard.press("Control+b")
    page.keyboard.type("和")
    page.keyboard.press("Control+i")
    page.keyboard.type("斜体的字")
    page.keyboard.press("Control+i")
    page.keyboard.type("。")
    page.keyboard.press("Enter")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Home")
    for _ in range(6):
        page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.textContent") == "编号列表"
    page.keyboard.press("Enter")
    page.keyboard.type("第一条")
    page.keyboard.press("Enter")
    page.keyboard.type("第二条")
    html = body.inner_html()
    assert "<h2>一个小标题</h2>" in html
    assert re.search(r"<(b|strong)>加粗的字</(b|strong)>", html) and re.search(r"<(i|em)>斜体的字</(i|em)>", html)
    assert "<ol><li>第一条</li><li>第二条</li></ol>" in html

    # An image with its alt text, through the dialog, without the mouse.
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")  # out of the list
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("End")
    page.keyboard.press("Enter")
    dialog = page.locator("dialog.image-dialog")
    assert dialog.is_visible()
    photo = tmp_path / "river.jpg"
    photo.write_bytes(factories.image_bytes(size=(1000, 600)))
    page.locator("#image-form input[type=file]").set_input_files(str(photo))
    dialog.get_by_label("替代文字", exact=True).focus()
    page.keyboard.type("清晨的江边")
    dialog.get_by_label("图片说明", exact=True).focus()
    page.keyboard.type("作者拍摄的江边")
    page.keyboard.press("Enter")  # submits the dialog's form
    page.wait_for_selector("#body-editor figure[data-image] img[src]")
    assert not dialog.is_visible()
    page.keyboard.type("图片后面的一段文字。")

    # Autosave: the server has it all, a reload shows it.
    _wait_saved(page)
    article = Article.objects.get(account=account)
    assert article.title == "键盘写成的文章" and "图片后面的一段文字" in article.body_text
    assert article.images.count() == 1
    page.reload()
    assert "一个小标题" in body.inner_text() and body.locator("figure img").count() == 1
    assert page.get_by_label("标题", exact=True).input_value() == "键盘写成的文章"

    # The network goes away mid-edit; the text stays in this browser.
    context.set_offline(True)
    body.focus()
    page.keyboard.press("Control+End")
    page.keyboard.press("Enter")
    page.keyboard.type("断网以后继续写的一段。")
    page.wait_for_function("document.getElementById('save-status').textContent.includes('离线，已保存在本机')")
    # Chromium hands localStorage writes to the browser process in batches (seconds apart); a page closed
    # at once (as a test can, a person hardly) could drop the last one.
    page.wait_for_timeout(6000)
    # Emulated offline does not cover the keepalive save a closing page sends (the page is gone by
    # then), so that request could still reach the server: fail it as a real lost network would.
    page.evaluate("() => { window.fetch = () => Promise.reject(new TypeError('Failed to fetch')); }")
    page.close()  # the laptop lid closes while still offline
    assert "断网以后" not in Article.objects.get(pk=article.pk).body_text

    context.set_offline(False)
    page = context.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(edit_url)
    offer = page.get_by_role("alert").filter(has_text="恢复本机草稿？")
    offer.wait_for(state="visible")
    offer.get_by_role("button", name="恢复").press("Enter")
    assert "断网以后继续写的一段" in page.locator("#body-editor").inner_text()
    _wait_saved(page)
    assert "断网以后继续写的一段" in Article.objects.get(pk=article.pk).body_text

    # Publish, and a reader finds it.
    page.get_by_role("button", name="发布", exact=True).press("Enter")
    page.wait_for_url(re.compile(r"/studio/$"))
    assert "已发布" in page.content()
    article.refresh_from_db()
    assert article.status == "published"
    reader = browser.new_context(base_url=live_server.url).new_page()
    reader.goto(article.get_absolute_url())
    assert reader.locator("h1").inner_text() == "键盘写成的文章"
    text = reader.locator(".article-body").inner_text()
    assert "断网以后继续写的一段" in text and "加粗的字" in text
    figure = reader.locator(".article-body figure img")
    assert figure.get_attribute("alt") == "清晨的江边" and ".webp" in figure.get_attribute("srcset")
    assert "作者拍摄的江边" in reader.locator(".article-body figcaption").inner_text()
    assert errors == []
    context.close()


# What Word puts on the clipboard, cut down: styles, classes, Office tags, conditional comments, list bullets.
WORD_HTML = "".join(
    [
        '<html xmlns:o="urn:schemas-microsoft-com:office:office"><head><style>p.MsoNormal{margin:0}</style>',
        "<!--[if gte mso 9]><xml><o:OfficeDocumentSettings></o:OfficeDocumentSettings></xml><![endif]-->",
        "</head><body><div class=WordSection1>",
        '<h1 style="mso-outline-level:1"><span lang=ZH-CN style="font-family:SimSun">会议纪要</span></h1>',
        '<p class=MsoNormal style="margin:0"><span style="font-family:SimSun;color:red">今天讨论了</span>',
        '<b><span style="font-size:14pt">三件事</span></b><span>，详见</span>',
        '<a href="https://example.com/notes" style="color:blue">记录</a><span>。<o:p></o:p></span></p>',
        '<p class=MsoListParagraphCxSpFirst style="mso-list:l0 level1 lfo1"><![if !supportLists]>',
        '<span style="mso-list:Ignore">1.<span style="font:7.0pt">&nbsp;</span></span><![endif]>',
        "<span>预算</span></p>",
        '<p class=MsoListParagraphCxSpLast style="mso-list:l0 level1 lfo1"><![if !supportLists]>',
        '<span style="mso-list:Ignore">2.</span><![endif]><span>人员</span></p>',
        '<p class=MsoNormal><i>注：</i><a href="javascript:alert(1)">坏链接</a><img src="file:///C:/x.png">',
        "<script>alert(2)</script></p></div></body></html>",
    ]
)


def test_paste_from_word_keeps_structure_and_drops_the_rest(browser, live_server):
    user, account = creator()
    article = draft(account, body="<p>原有的正文。</p>")
    context = _logged_in_context(browser, live_server, user)
    page = context.new_page()
    page.goto(f"/studio/a/{article.pk}/edit/")
    page.locator("#body-editor").focus()
    page.keyboard.press("Control+End")
    page.evaluate(
        """html => {
            const data = new DataTransfer();
            data.setData('text/html', html);
            data.setData('text/plain', 'plain');
            document.getElementById('body-editor').dispatchEvent(
                new ClipboardEvent('paste', {clipboardData: data, bubbles: true, cancelable: true}));
        }""",
        WORD_HTML,
    )
    html = page.locator("#body-editor").inner_html()
    assert "<h2>会议纪要</h2>" in html
    assert re.search(r"今天讨论了<strong>三件事</strong>，详见<a href=\"https://example.com/notes\">记录</a>。", html)
    assert re.search(r"<ol><li>预算</li><li>人员</li></ol>", html)
    assert "<em>注：</em>坏链接" in html
    for junk in ("style=", "class=\"Mso", "<span", "font-family", "mso-", "javascript:", "<img", "script", "o:p",
                 "<!--", "1.&nbsp;"):  # fmt: skip
        assert junk not in html
    _wait_saved(page)
    saved = Article.objects.get(pk=article.pk).body_html
    assert "<h2>会议纪要</h2>" in saved and "<li>预算</li>" in saved
    context.close()


def test_a_second_tab_is_warned_and_can_keep_its_version(browser, live_server):
    user, account = creator()
    article = draft(account, body="<p>两个窗口共同的起点。</p>")
    context = _logged_in_context(browser, live_server, user)
    first, second = context.new_page(), context.new_page()
    for page in (first, second):
        page.goto(f"/studio/a/{article.pk}/edit/")
    first.locator("#body-editor").focus()
    first.keyboard.press("Control+End")
    first.keyboard.type("第一个窗口加的字。")
    _wait_saved(first)
    second.locator("#body-editor").focus()
    second.keyboard.press("Control+End")
    second.keyboard.type("第二个窗口加的字。")
    warning = second.get_by_role("alert").filter(has_text="此草稿已在其他窗口或设备上修改")
    warning.wait_for()
    assert "第二个窗口" not in Article.objects.get(pk=article.pk).body_text
    warning.get_by_role("button", name="保留我的版本").press("Enter")
    _wait_saved(second)
    body = Article.objects.get(pk=article.pk).body_text
    assert "第二个窗口加的字" in body and "第一个窗口" not in body
    context.close()
