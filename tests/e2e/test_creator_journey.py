"""The whole creator journey in Chromium, through the site's own pages only: sign up, apply to join,
get approved by an editor, write an article with an image, lose the network mid-edit, come back,
publish (a new creator's article waits for an editor), and find the article on the site."""

import re

import pytest
from django.contrib.auth import get_user_model

from masthead.accounts.models import Account, Application
from masthead.articles.models import Article
from tests import factories
from tests.e2e.conftest import logged_in_context as _logged_in_context
from tests.e2e.test_studio import _wait_saved

pytestmark = [pytest.mark.django_db(transaction=True)]


def _sign_up(page, username: str) -> None:
    page.goto("/signup/")
    page.get_by_label("用户名", exact=True).fill(username)
    page.get_by_label("电子邮箱", exact=True).fill(f"{username}@example.org")
    page.get_by_label("密码", exact=True).fill("a sturdy pass phrase 2026")
    page.get_by_label("确认密码", exact=True).fill("a sturdy pass phrase 2026")
    page.get_by_role("button", name="注册").last.click()
    page.wait_for_url(re.compile(r"/(me/)?$"))


def test_sign_up_apply_get_approved_write_offline_publish_and_be_found(browser, live_server, tmp_path):
    errors: list[str] = []
    creator_context = browser.new_context(base_url=live_server.url, locale="zh-CN")
    creator_context.set_default_timeout(10_000)
    page = creator_context.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))

    # A reader signs up and applies to join.
    _sign_up(page, "xiaolin")
    page.goto("/join/")
    page.get_by_role("link", name="立即申请").click()
    page.wait_for_url(re.compile(r"/join/apply/$"), wait_until="domcontentloaded")
    avatar = tmp_path / "me.png"
    avatar.write_bytes(factories.image_bytes(size=(400, 300), fmt="PNG"))
    page.get_by_label(re.compile(r"^号名称")).fill("小林看世界")
    page.get_by_label(re.compile(r"^账号标识")).fill("xiaolin-world")
    page.get_by_label(re.compile(r"^头像")).set_input_files(str(avatar))
    page.get_by_label(re.compile(r"^签名")).fill("用脚步丈量生活")
    page.get_by_label(re.compile(r"^领域")).select_option("travel")
    page.get_by_label(re.compile(r"^简介")).fill("写旅行路上的见闻和实用攻略。")
    page.get_by_role("button", name="提交申请").click()
    page.wait_for_url(re.compile(r"/join/status/$"), wait_until="domcontentloaded")
    assert "审核中" in page.content()

    # An editor approves it in the review queue.
    editor = get_user_model().objects.create_user("editor", "editor@example.org", "x", is_staff=True)
    editor_page = _logged_in_context(browser, live_server, editor).new_page()
    editor_page.goto("/review/applications/")
    editor_page.get_by_role("link", name=re.compile("小林看世界")).click()
    editor_page.get_by_role("button", name="通过，开通账号").click()
    application = Application.objects.get(user__username="xiaolin")
    assert application.status == "approved"
    account = Account.objects.get(handle="xiaolin-world")

    # The applicant sees the decision and opens the studio.
    page.goto("/join/status/")
    assert "已通过" in page.content()
    page.goto("/studio/")
    page.get_by_role("button", name="写文章").click()
    page.wait_for_url(re.compile(r"/studio/a/\d+/edit/$"), wait_until="domcontentloaded")
    edit_url = page.url
    page.get_by_label("标题", exact=True).fill("第一次坐慢火车")
    body = page.locator("#body-editor")
    body.focus()
    page.keyboard.type("慢火车一站一站地停，车窗外的田野和小镇慢慢地往后退，这样的旅行让人安心。")
    page.keyboard.press("Enter")
    page.get_by_role("toolbar").get_by_role("button", name="图片", exact=True).click()
    photo = tmp_path / "train.jpg"
    photo.write_bytes(factories.image_bytes(size=(900, 600)))
    dialog = page.locator("dialog.image-dialog")
    page.locator("#image-form input[type=file]").set_input_files(str(photo))
    dialog.get_by_label("替代文字", exact=True).fill("车窗外的田野")
    dialog.get_by_label("图片说明", exact=True).fill("从车窗望出去的田野")
    dialog.get_by_label("替代文字", exact=True).press("Enter")
    page.wait_for_selector("#body-editor figure[data-image] img[src]")
    _wait_saved(page)

    # The network drops mid-edit; what is typed stays in the browser and comes back. A second tab of
    # the same browser reads localStorage from the browser process, so it sees the draft only once the
    # editing tab's write has really been handed over (Chromium batches them, later under load).
    watcher = creator_context.new_page()
    watcher.goto("/healthz")
    creator_context.set_offline(True)
    body.focus()
    page.keyboard.press("Control+End")
    page.keyboard.press("Enter")
    page.keyboard.type("车到终点时天已经黑了，下次还想再坐一次。")
    page.wait_for_function("document.getElementById('save-status').textContent.includes('离线，已保存在本机')")
    draft_key = "masthead:draft:" + page.locator("form[data-article]").get_attribute("data-article")
    watcher.wait_for_function(
        "key => (localStorage.getItem(key) || '').includes('下次还想再坐一次')", arg=draft_key, timeout=60_000
    )
    page.close()
    creator_context.set_offline(False)
    page = watcher
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(edit_url)
    # The closed tab's last save (a keepalive request sent as it closed) may reach the server once the
    # network is back: then the server has the text and nothing needs restoring. Either way it is there.
    restore = page.get_by_role("alert").filter(has_text="恢复本机草稿？").get_by_role("button", name="恢复")
    body_text = page.locator("#body-editor")
    for _ in range(100):
        if restore.count():
            restore.click()
            _wait_saved(page)
            break
        if "下次还想再坐一次" in (body_text.text_content() or ""):
            break  # the server had it already
        page.wait_for_timeout(200)
    assert "下次还想再坐一次" in body_text.text_content()

    # Publish: a new creator's article goes to an editor first.
    page.get_by_role("button", name="发布", exact=True).click()
    page.wait_for_url(re.compile(r"/studio/$"), wait_until="domcontentloaded")
    article = Article.objects.get(account=account)
    assert article.status == "pending" and "下次还想再坐一次" in article.body_text
    editor_page.goto("/review/articles/")
    editor_page.get_by_role("link", name=re.compile("第一次坐慢火车")).click()
    editor_page.get_by_role("button", name="通过并发布").click()
    article.refresh_from_db()
    assert article.status == "published"

    # A reader finds it on the channel page and on the creator's page, and opens it.
    reader = browser.new_context(base_url=live_server.url, locale="zh-CN").new_page()
    reader.goto(article.channel.get_absolute_url())
    reader.get_by_role("link", name="第一次坐慢火车").first.click()
    assert reader.locator("h1").inner_text() == "第一次坐慢火车"
    assert "下次还想再坐一次" in reader.locator(".article-body").inner_text()
    assert reader.locator(".article-body figure img").get_attribute("alt") == "车窗外的田野"
    reader.goto(account.get_absolute_url())
    assert "第一次坐慢火车" in reader.content() and "用脚步丈量生活" in reader.content()
    assert errors == []
