"""Comments in a real browser (Chromium): post and reply without a reload, like, sort by newest, and the
article's author removes a comment, which leaves a placeholder with the reason."""

import os
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from masthead.engagement.models import Comment
from tests.e2e.conftest import logged_in_context as _logged_in_context
from tests.engagement.comment_helpers import creator_article, post, reader

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
pytestmark = [pytest.mark.django_db(transaction=True)]


def _comments_url(item) -> str:
    """The article page once it carries the comments block, else the full comments page (same markup)."""
    if "data-threads" in Client().get(item.get_absolute_url()).content.decode():
        return item.get_absolute_url()
    return f"/a/{item.pk}/comments/"


def _no_reload_marker(page) -> None:
    page.evaluate("window.__sameDocument = true")


def _same_document(page) -> bool:
    return page.evaluate("window.__sameDocument === true")


def test_comment_reply_like_sort_and_removal_without_reloads(browser, live_server):
    author, item = creator_article(title="浏览器里的跟帖")
    earlier = post(reader("老读者"), item, "两小时前的跟帖")
    Comment.objects.filter(pk=earlier.pk).update(created_at=timezone.now() - timedelta(hours=2))
    url = _comments_url(item)

    fan = reader("新读者")
    context = _logged_in_context(browser, live_server, fan)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    _no_reload_marker(page)

    # Post: the counter follows the typing, the comment appears at the top of the list.
    box = page.get_by_label("发表跟帖")
    box.fill("浏览器里发的第一条跟帖")
    assert page.locator("#comment-form [data-counter]").inner_text() == "11/1000"
    page.locator("#comment-form").get_by_role("button", name="发表").click()
    mine = page.locator(".thread", has_text="浏览器里发的第一条跟帖")
    mine.wait_for()
    assert box.input_value() == ""
    assert page.locator("[data-comment-count]").first.inner_text() == "2"

    # Reply to the earlier comment, in a form that opens under it.
    theirs = page.locator(".thread", has_text="两小时前的跟帖")
    theirs.get_by_role("link", name="回复").click()
    reply_box = page.locator("[data-reply-form] textarea")
    assert reply_box.evaluate("el => el === document.activeElement")
    reply_box.fill("这是一条回复")
    page.locator("[data-reply-form]").get_by_role("button", name="发表").click()
    theirs.locator(".replies", has_text="这是一条回复").wait_for()
    assert page.locator("[data-reply-form]").count() == 0
    assert Comment.objects.get(body="这是一条回复").thread_id == earlier.pk

    # Like the earlier comment; the button says it is pressed.
    like = theirs.locator(f"#c{earlier.pk} .comment-like")
    like.click()
    page.locator(f"#c{earlier.pk} .comment-like[aria-pressed=true]").wait_for()
    assert "赞 1" in page.locator(f"#c{earlier.pk} .comment-like").inner_text()

    # Newest first.
    page.get_by_role("link", name="最新").click()
    page.wait_for_function("document.querySelector('[data-sort-key=new]').getAttribute('aria-current') === 'true'")
    first = page.locator("[data-threads] > .thread").first
    assert "浏览器里发的第一条跟帖" in first.inner_text()
    assert _same_document(page) and not errors
    context.close()

    # The article's author removes the new comment: a placeholder with the reason takes its place.
    context = _logged_in_context(browser, live_server, author)
    page = context.new_page()
    page.goto(url)
    _no_reload_marker(page)
    target = Comment.objects.get(body="浏览器里发的第一条跟帖")
    comment = page.locator(f"#c{target.pk}")
    comment.locator("summary", has_text="移除").click()
    comment.get_by_label("移除原因").fill("与文章无关")
    comment.get_by_role("button", name="确认移除").click()
    page.locator(f"#c{target.pk}", has_text="该跟帖已被移除（原因：与文章无关）").wait_for()
    assert _same_document(page)
    assert Comment.objects.get(pk=target.pk).status == Comment.Status.REMOVED
    context.close()
