"""Following and liking in Chromium: from the article page without a reload, the counts change, the
我的 page lists the follow and takes it back; the WeChat QR code counts a share with JavaScript off."""

import re

import pytest
from django.contrib.auth import get_user_model

from masthead.accounts.models import Follow
from masthead.engagement import counters
from masthead.engagement.models import ArticleLike, ArticleSharer
from tests import factories

pytestmark = [pytest.mark.django_db(transaction=True)]
PASSWORD = "a sturdy pass phrase 2026"


def _sign_in(page, username: str, next_url: str) -> None:
    page.goto(next_url)
    page.locator(".author-card").get_by_role("link", name="登录后关注").click()  # back here afterwards
    page.get_by_label("用户名", exact=True).fill(username)
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.locator("form.auth-form").get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(re.escape(next_url) + "$"))


def test_follow_and_like_without_reload_then_unfollow_on_my_page(browser, live_server):
    writer = factories.account(name="江边观察")
    item = factories.article(account_=writer, title="江水为什么会变色")
    reader = get_user_model().objects.create_user("duzhe", password=PASSWORD)
    context = browser.new_context(base_url=live_server.url, locale="zh-CN")
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    _sign_in(page, "duzhe", item.get_absolute_url())
    page.evaluate("window.notReloaded = true")  # gone if the page reloads
    card = page.locator(".author-card")
    followers = card.locator('[data-count="follow"] dd')
    assert followers.inner_text() == "0"

    card.get_by_role("button", name=re.compile("^关注")).click()
    button = card.get_by_role("button", name=re.compile("^已关注"))
    button.wait_for()
    assert followers.inner_text() == "1"
    assert button.get_attribute("aria-pressed") == "true"
    assert Follow.objects.filter(user=reader, account=writer).exists()

    like = page.locator('form[data-reaction="like"] button')
    like.click()
    page.wait_for_function("document.querySelector('form[data-reaction=like] button').ariaPressed === 'true'")
    assert like.locator(".reaction-count").inner_text() == "1" and "已赞" in like.inner_text()
    assert ArticleLike.objects.filter(user=reader, article=item).exists()
    like.click()  # and back
    page.wait_for_function("document.querySelector('form[data-reaction=like] button').ariaPressed === 'false'")
    assert like.locator(".reaction-count").inner_text() == "0"
    assert page.evaluate("window.notReloaded") is True

    # The 我的 page lists the follow; unfollowing there is a plain form.
    page.goto("/me/")
    follows = page.locator("#my-follows")
    follows.get_by_role("link", name="江边观察").wait_for()
    follows.get_by_role("button", name=re.compile("取消关注")).click()
    page.wait_for_url(re.compile(r"/me/$"))
    assert "还没有关注任何创作者。" in page.locator("#my-follows").inner_text()
    writer.refresh_from_db()
    assert writer.follower_count == 0

    page.goto(item.get_absolute_url())
    assert page.locator(".author-card").get_by_role("button", name=re.compile("^关注")).is_visible()
    assert page.locator('.author-card [data-count="follow"] dd').inner_text() == "0"
    assert errors == []


def test_copying_the_link_counts_one_share(browser, live_server):
    item = factories.article()
    context = browser.new_context(base_url=live_server.url, locale="zh-CN")
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(item.get_absolute_url())
    copy = page.get_by_role("button", name="复制链接")
    with page.expect_response(re.compile(r"/shared/link/$")):  # answered: the count is written
        copy.click()
    page.get_by_text("链接已复制").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == f"{live_server.url}{item.get_absolute_url()}"
    copy.click()  # again: still one share (the page sends it once, the server counts it once)
    page.wait_for_timeout(200)
    counters.flush()
    item.refresh_from_db()
    assert item.share_count == 1


@pytest.mark.parametrize("javascript", [False, True])
def test_the_wechat_qr_code_counts_a_share_only_once_shown(browser, live_server, javascript):
    item = factories.article()
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", java_script_enabled=javascript)
    context.set_default_timeout(10_000)
    page = context.new_page()
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url) if "/shared/" in r.url else None)
    page.goto(item.get_absolute_url())
    page.wait_for_load_state("networkidle")
    assert seen == [] and not ArticleSharer.objects.exists()  # loading the page is not sharing it

    with page.expect_response(re.compile(r"/shared/qr/$")):  # answered: the count is written
        page.get_by_text("微信扫一扫").click()  # opens the <details> (no script needed)
    assert ArticleSharer.objects.filter(article=item).exists()
    page.get_by_text("微信扫一扫").click()  # closed and opened again: nothing more is sent
    page.get_by_text("微信扫一扫").click()
    page.wait_for_timeout(300)
    if javascript:
        assert len(seen) == 1  # the script counts once, and the stylesheet's counter is gone
    counters.flush()
    item.refresh_from_db()
    assert item.share_count == 1
