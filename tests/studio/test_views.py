"""The studio pages: who may see them, writing and saving, publishing, history, preview."""

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from masthead.accounts.models import Badge
from masthead.articles import actions, workflow
from masthead.articles.models import Article
from masthead.engagement import counters
from tests import factories
from tests.studio.helpers import creator, draft, form_data, reader

pytestmark = pytest.mark.django_db
LONG = "<p>" + "这是一段足够长的正文，用来满足发布的最低字数。" * 2 + "</p>"


def _edit(article):
    return reverse("studio:edit", args=[article.pk])


# Permissions ------------------------------------------------------------------------------------


def _urls(article):
    return [
        reverse("studio:home"),
        _edit(article),
        reverse("studio:history", args=[article.pk]),
        reverse("studio:preview", args=[article.pk]),
    ]


def test_anonymous_visitors_are_sent_to_log_in(client):
    _, account = creator()
    article = draft(account)
    for url in _urls(article):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login")) and "next=" in response["Location"]
    assert client.post(reverse("studio:new")).status_code == 302
    assert not Article.objects.exclude(pk=article.pk).exists()


def test_readers_without_a_creator_account_are_refused(client):
    _, account = creator()
    article = draft(account)
    client.force_login(reader())
    for url in _urls(article):
        assert client.get(url).status_code == 403
    assert client.post(reverse("studio:new")).status_code == 403


def test_another_creators_article_is_not_found(client):
    _, account = creator()
    article = draft(account, title="别人的草稿")
    intruder, _ = creator()
    client.force_login(intruder)
    for url in _urls(article)[1:]:
        assert client.get(url).status_code == 404
    assert client.post(_edit(article), form_data(article, title="篡改")).status_code == 404
    rev_url = reverse("studio:autosave", args=[article.pk])
    assert client.post(rev_url, {"version": 1}, content_type="application/json").status_code == 404
    article.refresh_from_db()
    assert article.title == "别人的草稿"
    assert "别人的草稿" not in client.get(reverse("studio:home")).content.decode()


# Home -------------------------------------------------------------------------------------------


def test_home_lists_own_articles_by_status_with_reasons(client, django_assert_max_num_queries):
    user, account = creator()
    draft(account, title="我的草稿")
    rejected = draft(account, title="被退回的文章", body=LONG)
    actions.submit_for_review(rejected)
    actions.reject(rejected, reason="标题与内容不符")
    removed = factories.article(account_=account, title="被下架的文章")
    actions.remove(removed, reason="含有不实信息")
    factories.article(title="别人的文章")
    client.force_login(user)
    with django_assert_max_num_queries(8):  # session, user, account, counts, page count, page, groups, channels
        html = client.get(reverse("studio:home")).content.decode()
    assert "我的草稿" in html and "别人的文章" not in html
    assert "未通过原因：标题与内容不符" in html
    assert "下架原因：含有不实信息" in html
    assert "写文章" in html and "/studio/stats/" in html and account.get_absolute_url() in html
    for label in ("草稿", "待审核", "定时发布", "已发布", "未通过", "已下架"):
        assert label in html
    only_rejected = client.get(reverse("studio:home"), {"status": "rejected"}).content.decode()
    assert "被退回的文章" in only_rejected and "我的草稿" not in only_rejected


def test_new_creates_a_draft_and_opens_the_writing_page(client):
    user, account = creator()
    client.force_login(user)
    assert client.get(reverse("studio:new")).status_code == 405
    response = client.post(reverse("studio:new"))
    article = Article.objects.get(account=account)
    assert response.status_code == 302 and response["Location"] == _edit(article)
    assert article.status == "draft"
    assert article.channel.slug not in workflow.SOURCE_REQUIRED_CHANNELS


# Writing page -----------------------------------------------------------------------------------


def test_writing_page_works_without_javascript(client, django_assert_max_num_queries):
    user, account = creator()
    article = draft(account, body="<p>原来的<strong>正文</strong></p>")
    client.force_login(user)
    with django_assert_max_num_queries(9):
        html = client.get(_edit(article)).content.decode()
    assert re.search(r'<textarea name="body"[^>]*>\s*&lt;p&gt;原来的&lt;strong&gt;正文', html)
    assert 'name="csrfmiddlewaretoken"' in html and 'type="module"' in html
    for label in ("标题", "摘要", "频道", "标签", "信息来源", "原创", "虚构/演绎", "AI生成", "新闻资讯", "封面"):
        assert label in html
    assert 'type="datetime-local"' in html and "发布" in html and "提交审核" in html and "定时发布" in html

    response = client.post(
        _edit(article), form_data(article, title="新标题", body="<p>新写的正文</p>", tags="天气，城市")
    )
    assert response.status_code == 302 and response["Location"] == _edit(article)
    article.refresh_from_db()
    assert (article.title, article.body_html, article.version) == ("新标题", "<p>新写的正文</p>", 2)
    assert sorted(t.name for t in article.tags.all()) == ["城市", "天气"]
    assert "已保存" in client.get(_edit(article)).content.decode()


def test_hostile_html_in_the_body_is_sanitized(client):
    user, account = creator()
    article = draft(account)
    client.force_login(user)
    hostile = (
        '<p>正常<img src=x onerror="alert(1)"><a href="javascript:alert(2)">链接</a></p>'
        '<script>steal()</script><iframe src="//evil"></iframe><p style="color:red" class="MsoNormal">'
        '<a href="https://example.com" onclick="x()">好链接</a></p><svg onload="alert(3)"></svg>'
    )
    client.post(_edit(article), form_data(article, body=hostile))
    article.refresh_from_db()
    body = article.body_html
    for bad in ("script", "onerror", "javascript:", "iframe", "onclick", "style=", "class=", "svg", "steal"):
        assert bad not in body
    assert '<a href="https://example.com" rel="noopener noreferrer nofollow ugc">好链接</a>' in body
    page = client.get(reverse("studio:preview", args=[article.pk])).content.decode()
    assert "steal()" not in page and "onerror" not in page


def test_a_second_window_is_warned_instead_of_overwriting(client):
    user, account = creator()
    article = draft(account, body="<p>最初</p>")
    client.force_login(user)
    first = form_data(article, body="<p>第一个窗口</p>")
    second = form_data(article, body="<p>第二个窗口</p>")
    client.post(_edit(article), first)
    response = client.post(_edit(article), second)
    html = response.content.decode()
    assert response.status_code == 409
    assert "此草稿已在其他窗口或设备上修改" in html and "保留我的版本" in html and "载入最新版本" in html
    assert "第二个窗口" in html  # what was typed is still on the page
    article.refresh_from_db()
    assert article.body_html == "<p>第一个窗口</p>"
    client.post(_edit(article), {**second, "action": "keep"})
    article.refresh_from_db()
    assert article.body_html == "<p>第二个窗口</p>" and article.version == 3


def test_double_submitted_form_saves_once(client):
    user, account = creator()
    article = draft(account)
    client.force_login(user)
    data = form_data(article, body="<p>点了两次保存</p>")
    assert client.post(_edit(article), data).status_code == 302
    assert client.post(_edit(article), data).status_code == 302
    article.refresh_from_db()
    assert article.version == 2 and article.revisions.count() == 1


# Publishing -------------------------------------------------------------------------------------


def test_trusted_creator_publishes_at_once(client):
    user, account = creator(badge=Badge.QUALITY)
    article = draft(account)
    client.force_login(user)
    response = client.post(_edit(article), form_data(article, title="马上发布", body=LONG, action="publish"))
    assert response.status_code == 302
    article.refresh_from_db()
    assert article.status == "published" and article.needs_review
    assert "已发布" in client.get(reverse("studio:home")).content.decode()
    client.logout()
    assert client.get(article.get_absolute_url()).status_code == 200
    assert article.revisions.order_by("-id").first().kind == "publish"


def test_new_creator_goes_to_review(client):
    user, account = creator()
    article = draft(account)
    client.force_login(user)
    client.post(_edit(article), form_data(article, body=LONG, action="publish"))
    article.refresh_from_db()
    assert article.status == "pending"
    assert "已提交审核" in client.get(reverse("studio:home")).content.decode()
    client.logout()
    assert client.get(article.get_absolute_url()).status_code == 404


def test_publishing_problems_are_shown_next_to_the_fields_and_the_text_is_kept(client):
    user, account = creator(badge=Badge.QUALITY)
    article = draft(account)
    client.force_login(user)
    data = form_data(article, channel=factories.channel("military").pk, body="<p>太短的正文</p>", action="publish")
    response = client.post(_edit(article), data)
    html = response.content.decode()
    assert response.status_code == 400
    assert re.search(r"field-source has-error.*必须注明信息来源", html, re.S)
    assert re.search(r"field-body has-error.*正文太短", html, re.S)
    article.refresh_from_db()
    assert article.status == "draft" and article.body_html == "<p>太短的正文</p>"  # saved, not published
    assert f'name="version" value="{article.version}"' in html


def test_schedule_for_later(client):
    user, account = creator(badge=Badge.QUALITY)
    article = draft(account)
    client.force_login(user)
    past = timezone.localtime() - timedelta(hours=1)
    response = client.post(
        _edit(article), form_data(article, body=LONG, action="schedule", scheduled_at=past.strftime("%Y-%m-%dT%H:%M"))
    )
    assert response.status_code == 400 and "必须晚于现在" in response.content.decode()
    later = timezone.localtime() + timedelta(days=1)
    client.post(
        _edit(article), form_data(article, body=LONG, action="schedule", scheduled_at=later.strftime("%Y-%m-%dT%H:%M"))
    )
    article.refresh_from_db()
    assert article.status == "scheduled"
    assert timezone.localtime(article.scheduled_at).strftime("%Y-%m-%d %H:%M") == later.strftime("%Y-%m-%d %H:%M")


def test_trusted_creator_can_still_ask_for_review(client):
    user, account = creator(badge=Badge.QUALITY)
    article = draft(account)
    client.force_login(user)
    client.post(_edit(article), form_data(article, body=LONG, action="review"))
    article.refresh_from_db()
    assert article.status == "pending"


def test_rejected_article_shows_the_reason_and_can_be_resubmitted(client):
    user, account = creator()
    editor = reader()
    editor.is_staff = True
    editor.save()
    article = draft(account, body=LONG)
    workflow.submit(article, by=user)
    workflow.reject(article, by=editor, reason="请补充数据来源")
    client.force_login(user)
    html = client.get(_edit(article)).content.decode()
    assert "未通过审核" in html and "请补充数据来源" in html
    client.post(_edit(article), form_data(article, body=LONG + "<p>补充：数据来自统计年鉴。</p>", action="publish"))
    article.refresh_from_db()
    assert article.status == "pending" and "统计年鉴" in article.body_text


def test_editing_a_published_article_reaches_readers_only_on_update(client):
    user, account = creator(badge=Badge.QUALITY)
    article = factories.article(account_=account, title="已发布", body=LONG)
    client.force_login(user)
    client.post(_edit(article), form_data(article, body=LONG + "<p>新增一段修订说明。</p>"))
    reader_page = client.get(article.get_absolute_url()).content.decode()
    assert "新增一段修订说明" not in reader_page
    edit_page = client.get(_edit(article)).content.decode()
    assert "新增一段修订说明" in edit_page and "有尚未更新的修改" in edit_page
    assert "新增一段修订说明" in client.get(reverse("studio:preview", args=[article.pk])).content.decode()
    client.post(_edit(article), form_data(article, body=LONG + "<p>新增一段修订说明。</p>", action="update"))
    assert "新增一段修订说明" in client.get(article.get_absolute_url()).content.decode()
    article.refresh_from_db()
    assert article.needs_review


def test_removed_article_is_read_only(client):
    user, account = creator()
    article = factories.article(account_=account, body=LONG)
    actions.remove(article, reason="违规内容")
    client.force_login(user)
    html = client.get(_edit(article)).content.decode()
    assert "已被下架" in html and "违规内容" in html and 'id="article-form"' not in html
    assert client.post(_edit(article), form_data(article, body="<p>改</p>")).status_code == 404


# History ----------------------------------------------------------------------------------------


def test_history_diff_and_restore(client, django_assert_max_num_queries):
    user, account = creator()
    article = draft(account, body="<p>第一段</p>")
    client.force_login(user)
    client.post(_edit(article), form_data(article, title="旧标题", body="<p>第一段</p><p>要删除的段落</p>"))
    client.post(_edit(article), form_data(article, title="新标题", body="<p>第一段改了</p>"))
    with django_assert_max_num_queries(6):
        html = client.get(reverse("studio:history", args=[article.pk])).content.decode()
    assert html.count("手动保存") >= 2 and user.username in html
    old = article.revisions.order_by("id").first()
    with django_assert_max_num_queries(6):
        html = client.get(reverse("studio:revision", args=[article.pk, old.pk])).content.decode()
    assert "<del>要删除的段落</del>" in html and "第一段<ins>改了</ins>" in html
    assert "<del>旧</del><ins>新</ins>标题" in html
    response = client.post(reverse("studio:restore", args=[article.pk, old.pk]))
    assert response.status_code == 302
    article.refresh_from_db()
    assert article.title == "旧标题" and "要删除的段落" in article.body_html
    assert article.revisions.order_by("-id").first().kind == "restore"
    assert client.get(reverse("studio:restore", args=[article.pk, old.pk])).status_code == 405


# Preview ----------------------------------------------------------------------------------------


def _article_markup(html: str) -> str:
    return re.search(r'<article class="article".*?</article>', html, re.S).group(0)


def test_preview_is_the_reader_page_marked_preview_and_not_cached(client):
    user, account = creator(badge=Badge.QUALITY)
    cover = factories.image(account=account, caption="封面说明", label="author")
    figure = factories.image(account=account, alt="正文图片", caption="图注")
    article = draft(
        account, title="预览测试", body=LONG + f'<figure><img data-image="{figure.pk}"></figure>', cover=cover,
        is_original=True, source="作者实地采访", tags=["预览"],
    )  # fmt: skip
    actions.publish(article)
    client.force_login(user)
    counters.flush()  # counts other tests left in this process's buffer
    Article.objects.filter(pk=article.pk).update(view_count=0)
    with CaptureQueriesContext(connection) as preview_queries:
        response = client.get(reverse("studio:preview", args=[article.pk]))
    html = response.content.decode()
    assert "预览" in html and "noindex" in html
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
    counters.flush()
    article.refresh_from_db()
    assert article.view_count == 0
    client.logout()
    cache.clear()  # both pages measured with cold caches
    with CaptureQueriesContext(connection) as public_queries:
        public = client.get(article.get_absolute_url()).content.decode()
    assert _article_markup(html) == _article_markup(public)
    # The reader page's own queries (its budget is asserted with the page), plus the signed-in ones
    # (session, user, account, the user menu's groups) and the working copy (newest revision).
    assert len(preview_queries) <= len(public_queries) + 6


def test_preview_of_a_draft(client):
    user, account = creator()
    article = draft(account, title="还没发布的草稿", body=LONG)
    client.force_login(user)
    response = client.get(reverse("studio:preview", args=[article.pk]))
    assert response.status_code == 200 and "还没发布的草稿" in response.content.decode()
    assert response.get("X-Page-Cache") is None
