"""举报: filing (who may, what, how often, double submits), the editors' queue grouped by target,
decisions with and without take-down, the notices, the audit log, and the pages each role sees."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.template import Context, Template
from django.test import Client
from django.test.utils import CaptureQueriesContext

from masthead.accounts.models import Badge, Notification
from masthead.articles import workflow
from masthead.articles.models import Article
from masthead.engagement.models import Comment
from masthead.moderation import reports
from masthead.moderation.models import AuditEntry, Report
from tests import factories
from tests.accounts.test_join import editor, logged_in, user
from tests.studio.helpers import creator

pytestmark = pytest.mark.django_db

Status = Report.Status
Category = Report.Category

try:
    from masthead.engagement import comments as comment_actions
except ImportError:  # written by another feature; the comment tests wait for it
    comment_actions = None
needs_comments = pytest.mark.skipif(comment_actions is None, reason="engagement.comments is not there yet")


def comment(article: Article, writer=None, body: str = "这是一条跟帖，说得不对。") -> Comment:
    return Comment.objects.create(article=article, user=writer or user(f"w{Comment.objects.count()}"), body=body)


def report_url(kind: str, pk: int) -> str:
    return f"/report/?{kind}={pk}"


# --- filing: who and what ----------------------------------------------------------------------------------


def test_anonymous_readers_are_sent_to_log_in_and_come_back_to_the_form():
    article = factories.article()
    response = Client().get(report_url("article", article.pk))
    assert response.status_code == 302
    assert response.url == f"/login/?next=/report/%3Farticle%3D{article.pk}"
    response = Client().post(report_url("article", article.pk), {"category": Category.SPAM})
    assert response.status_code == 302 and not Report.objects.exists()
    with pytest.raises(PermissionDenied):
        reports.file_report(None, article, Category.SPAM)


def test_a_reader_reports_an_article_and_sees_a_confirmation():
    article = factories.article(title="一篇可疑的文章")
    reader = user()
    client = logged_in(reader)
    page = client.get(report_url("article", article.pk)).content.decode()
    assert "一篇可疑的文章" in page
    for label in ("虚假信息", "侵权", "人身攻击", "色情低俗", "违法犯罪", "垃圾广告", "其他"):
        assert label in page
    response = client.post(
        report_url("article", article.pk), {"category": Category.FALSE_INFO, "details": "数据是编的"}
    )
    report = Report.objects.get()
    assert response.status_code == 302 and response.url == f"/report/{report.pk}/"
    assert (report.reporter, report.article, report.category, report.details) == (
        reader,
        article,
        Category.FALSE_INFO,
        "数据是编的",
    )
    assert report.status == Status.OPEN
    page = client.get(response.url).content.decode()
    assert "举报已提交" in page and "虚假信息" in page and "一篇可疑的文章" in page
    # Only the reporter sees the confirmation.
    assert logged_in(user("other")).get(response.url).status_code == 404


def test_category_is_required_and_must_be_known():
    article = factories.article()
    client = logged_in(user())
    response = client.post(report_url("article", article.pk), {"details": "没选类别"})
    assert response.status_code == 400 and "请选择举报类别。" in response.content.decode()
    assert client.post(report_url("article", article.pk), {"category": "nonsense"}).status_code == 400
    with pytest.raises(ValidationError):
        reports.file_report(user("r2"), article, "nonsense")
    assert not Report.objects.exists()


def test_a_comment_and_an_account_can_be_reported():
    article = factories.article()
    note = comment(article)
    account = factories.account()
    client = logged_in(user())
    assert client.post(report_url("comment", note.pk), {"category": Category.HARASSMENT}).status_code == 302
    assert client.post(report_url("account", account.pk), {"category": Category.SPAM}).status_code == 302
    assert Report.objects.filter(comment=note).exists() and Report.objects.filter(account=account).exists()


def test_nobody_reports_themselves_or_their_own_content():
    person, account = creator()
    article = factories.article(account_=account)
    note = comment(factories.article(), writer=person)
    client = logged_in(person)
    for kind, target in (("article", article), ("comment", note), ("account", account)):
        response = client.get(report_url(kind, target.pk))
        assert response.status_code == 403 and "不能举报自己或自己发布的内容。" in response.content.decode()
        assert client.post(report_url(kind, target.pk), {"category": Category.OTHER}).status_code == 403
        with pytest.raises(PermissionDenied):
            reports.file_report(person, target, Category.OTHER)
    assert not Report.objects.exists()


def test_what_readers_cannot_see_cannot_be_reported():
    draft = factories.article(publish=False)
    removed = factories.article()
    workflow.remove(removed, by=editor(), reason="违规")
    client = logged_in(user())
    for query in (f"article={draft.pk}", f"article={removed.pk}", "article=999999", "article=x", "page=1", ""):
        assert client.get(f"/report/?{query}").status_code == 404, query
    with pytest.raises(ValidationError):
        reports.file_report(user("r2"), draft, Category.SPAM)


def test_a_double_submit_makes_one_report_and_a_second_thought_updates_it():
    article = factories.article()
    client = logged_in(user())
    first = client.post(report_url("article", article.pk), {"category": Category.SPAM})
    second = client.post(report_url("article", article.pk), {"category": Category.SPAM})
    assert first.url == second.url
    client.post(report_url("article", article.pk), {"category": Category.INFRINGEMENT, "details": "抄袭了我的文章"})
    report = Report.objects.get()
    assert (report.category, report.details) == (Category.INFRINGEMENT, "抄袭了我的文章")


def test_reports_are_rate_limited_per_user(settings):
    settings.MASTHEAD_RATE_LIMITS = {reports.RATE_SCOPE: (3, 3600)}
    articles = [factories.article() for _ in range(4)]
    reader = user()
    client = logged_in(reader)
    for article in articles[:3]:
        assert client.post(report_url("article", article.pk), {"category": Category.SPAM}).status_code == 302
    # Sending the same report again is not a new report and is not counted.
    assert client.post(report_url("article", articles[0].pk), {"category": Category.SPAM}).status_code == 302
    response = client.post(report_url("article", articles[3].pk), {"category": Category.SPAM})
    assert response.status_code == 429 and "举报太频繁了" in response.content.decode()
    assert Report.objects.count() == 3
    # Another reader is not held back.
    assert (
        logged_in(user("r2")).post(report_url("article", articles[3].pk), {"category": Category.SPAM}).status_code
        == 302
    )


def test_the_default_rate_limit_is_ten_an_hour():
    articles = [factories.article() for _ in range(11)]
    reader = user()
    for article in articles[:10]:
        reports.file_report(reader, article, Category.SPAM)
    with pytest.raises(ValidationError) as caught:
        reports.file_report(reader, articles[10], Category.SPAM)
    assert caught.value.code == "rate_limited"


def test_the_form_answers_json_when_asked():
    article = factories.article()
    client = logged_in(user())
    response = client.post(
        report_url("article", article.pk), {"category": Category.SPAM}, headers={"accept": "application/json"}
    )
    assert response.status_code == 200 and response.json()["id"] == Report.objects.get().pk
    response = client.post(report_url("article", article.pk), {}, headers={"accept": "application/json"})
    assert response.status_code == 400 and "category" in response.json()["errors"]


def test_the_article_footer_links_to_the_form():
    article = factories.article()
    page = Client().get(article.get_absolute_url()).content.decode()
    assert f'href="/report/?article={article.pk}"' in page


def test_the_account_report_link_partial():
    account = factories.account()
    html = Template('{% include "moderation/partials/report_account_link.html" %}').render(
        Context({"account": account})
    )
    assert f'href="/report/?account={account.pk}"' in html and "举报" in html


# --- the editors' pages: who may see them ------------------------------------------------------------------


def _review_pages(article: Article) -> list[str]:
    return ["/review/reports/", f"/review/reports/article/{article.pk}/", "/review/appeals/"]


def test_only_editors_see_the_queues_and_decide():
    article = factories.article()
    reports.file_report(user("reporter"), article, Category.SPAM)
    for url in _review_pages(article):
        response = Client().get(url)
        assert response.status_code == 302 and response.url.startswith("/login/?next="), url
    person, _account = creator()
    for who in (user("reader"), person):
        client = logged_in(who)
        for url in _review_pages(article):
            assert client.get(url).status_code == 403, (who, url)
        data = {"outcome": Status.UPHELD, "take_down": "on", "decision": "我说了算"}
        assert client.post(f"/review/reports/article/{article.pk}/", data).status_code == 403
        with pytest.raises(PermissionDenied):
            reports.decide(article, by=who, outcome=Status.UPHELD, decision="我说了算", take_down=True)
    article.refresh_from_db()
    assert article.status == Article.Status.PUBLISHED and Report.objects.get().status == Status.OPEN
    for who in (editor(), user("staff", is_staff=True), user("admin", is_superuser=True)):
        client = logged_in(who)
        for url in _review_pages(article):
            assert client.get(url).status_code == 200, (who, url)


def test_unknown_targets_on_the_review_page_are_not_found():
    client = logged_in(editor())
    assert client.get("/review/reports/article/999/").status_code == 404
    assert client.get("/review/reports/user/1/").status_code == 404


def test_an_editor_does_not_decide_reports_on_their_own_content():
    boss = editor()
    account = factories.account(owner=boss)
    article = factories.article(account_=account)
    reports.file_report(user(), article, Category.SPAM)
    response = logged_in(boss).get(f"/review/reports/article/{article.pk}/")
    assert "这是你自己的内容，请交给其他编辑处理。" in response.content.decode()
    with pytest.raises(PermissionDenied):
        reports.decide(article, by=boss, outcome=Status.DISMISSED, decision="没问题")


# --- the queue -----------------------------------------------------------------------------------------------


def test_queue_groups_open_reports_by_target_oldest_first_with_counts_and_categories():
    older, newer = factories.article(title="先被举报的"), factories.article(title="后被举报的")
    account = factories.account(name="被举报的号")
    reports.file_report(user("a"), older, Category.FALSE_INFO)
    reports.file_report(user("b"), newer, Category.SPAM)
    reports.file_report(user("c"), older, Category.FALSE_INFO)
    reports.file_report(user("d"), older, Category.ILLEGAL)
    reports.file_report(user("e"), account, Category.HARASSMENT)
    page = logged_in(editor()).get("/review/reports/").content.decode()
    assert page.index("先被举报的") < page.index("后被举报的") < page.index("被举报的号")
    assert "3 个对象有待处理的举报" in page
    row = page[page.index("先被举报的") : page.index("后被举报的")]
    assert "<td>3</td>" in row and "虚假信息 ×2" in row and "违法犯罪" in row
    assert f"/review/reports/article/{older.pk}/" in page and f"/review/reports/account/{account.pk}/" in page


def test_queue_query_count_does_not_grow_with_the_targets():
    client = logged_in(editor())

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/review/reports/").status_code == 200
        return len(captured)

    for target in (factories.article(), comment(factories.article()), factories.account()):
        reports.file_report(user(f"first{target.pk}{type(target).__name__}"), target, Category.SPAM)
    queries()  # warm the cached navigation
    few = queries()
    for n in range(12):
        target = factories.article() if n % 3 else comment(factories.article())
        reports.file_report(user(f"r{n}"), target, Category.SPAM)
        reports.file_report(user(f"s{n}"), target, Category.OTHER)
    assert queries() == few <= 13
    assert client.get("/review/reports/").content.decode().count('class="button" href="/review/reports/') == 15


def test_the_target_page_shows_the_content_all_reports_and_the_history():
    article = factories.article(title="有争议的文章")
    reports.file_report(user("a"), article, Category.FALSE_INFO, "标题党")
    reports.file_report(user("b"), article, Category.SPAM, "广告")
    page = logged_in(editor()).get(f"/review/reports/article/{article.pk}/").content.decode()
    assert "有争议的文章" in page and "标题党" in page and "广告" in page
    assert "处理 2 条待处理的举报" in page and 'name="decision"' in page and 'name="take_down"' in page


# --- decisions ---------------------------------------------------------------------------------------------


def test_upholding_with_take_down_removes_the_article_and_tells_everyone():
    author, account = creator()
    article = factories.article(account_=account, title="假新闻")
    first, second, elsewhere = user("first"), user("second"), user("elsewhere")
    reports.file_report(first, article, Category.FALSE_INFO)
    reports.file_report(second, article, Category.SPAM)
    other = reports.file_report(elsewhere, factories.article(), Category.SPAM)
    boss = editor()
    data = {"outcome": Status.UPHELD, "take_down": "on", "decision": "  内容不实，\n已核实 "}
    response = logged_in(boss).post(f"/review/reports/article/{article.pk}/", data)
    assert response.status_code == 302 and response.url == "/review/reports/"

    article.refresh_from_db()
    assert article.status == Article.Status.REMOVED and article.removal_reason == "内容不实， 已核实"
    decided = Report.objects.filter(article=article)
    assert {r.status for r in decided} == {Status.UPHELD}
    assert {(r.decision, r.decided_by) for r in decided} == {("内容不实， 已核实", boss)}
    assert all(r.decided_at for r in decided)
    other.refresh_from_db()
    assert other.status == Status.OPEN

    entry = AuditEntry.objects.get(action="report.uphold")
    assert (entry.actor, entry.target_type, entry.target_id, entry.reason) == (
        boss,
        "articles.article",
        str(article.pk),
        "内容不实， 已核实",
    )
    assert entry.before["status"] == "published" and entry.after["status"] == "removed"
    assert sorted(entry.before["reports"]) == sorted(r.pk for r in decided)
    assert entry.before["report_status"] == "open" and entry.after["report_status"] == "upheld"
    assert AuditEntry.objects.filter(action="article.remove", target_id=str(article.pk)).exists()

    for reporter in (first, second):
        note = Notification.objects.get(user=reporter)
        assert "举报属实" in note.text and "内容不实" in note.text and "假新闻" in note.text
        assert note.link == "/me/#my-reports"
    told = Notification.objects.get(user=author)
    assert "已被下架" in told.text and told.link == f"/appeal/article/{article.pk}/"
    assert not Notification.objects.filter(user=elsewhere).exists()

    # Readers get the notice with the reason, HTTP 410.
    response = Client().get(article.get_absolute_url())
    assert response.status_code == 410 and "内容不实" in response.content.decode()


def test_dismissing_leaves_the_content_and_says_so():
    article = factories.article(title="没问题的文章")
    reporter = user()
    reports.file_report(reporter, article, Category.FALSE_INFO)
    decided = reports.decide(article, by=editor(), outcome=Status.DISMISSED, decision="经核实内容属实")
    assert [r.status for r in decided] == [Status.DISMISSED]
    article.refresh_from_db()
    assert article.status == Article.Status.PUBLISHED
    assert "未发现违规" in Notification.objects.get(user=reporter).text
    assert AuditEntry.objects.get().action == "report.dismiss"


def test_upholding_without_take_down_keeps_the_content():
    article = factories.article()
    report = reports.file_report(user(), article, Category.OTHER)
    reports.decide(report, by=editor(), outcome=Status.UPHELD, decision="提醒作者注意措辞")
    article.refresh_from_db()
    report.refresh_from_db()
    assert article.status == Article.Status.PUBLISHED and report.status == Status.UPHELD


def test_a_decision_needs_a_reason_and_a_sensible_outcome():
    article = factories.article()
    reports.file_report(user(), article, Category.SPAM)
    client = logged_in(editor())
    url = f"/review/reports/article/{article.pk}/"
    response = client.post(url, {"outcome": Status.UPHELD, "take_down": "on", "decision": "   "})
    assert response.status_code == 400
    response = client.post(url, {"outcome": Status.DISMISSED, "take_down": "on", "decision": "不违规"})
    assert response.status_code == 400 and "只有举报属实时才能下架。" in response.content.decode()
    with pytest.raises(ValidationError):
        reports.decide(article, by=editor("e2"), outcome="maybe", decision="?")
    with pytest.raises(ValidationError):
        reports.decide(article, by=editor("e3"), outcome=Status.UPHELD, decision="长" * 301)
    article.refresh_from_db()
    assert article.status == Article.Status.PUBLISHED and Report.objects.get().status == Status.OPEN
    assert not AuditEntry.objects.exists()


def test_deciding_twice_is_harmless():
    article = factories.article()
    reports.file_report(user(), article, Category.SPAM)
    client = logged_in(editor())
    data = {"outcome": Status.UPHELD, "take_down": "on", "decision": "广告"}
    url = f"/review/reports/article/{article.pk}/"
    assert client.post(url, data).status_code == 302
    response = client.post(url, data)
    assert response.status_code == 400 and "已经没有待处理的举报" in response.content.decode()
    assert AuditEntry.objects.filter(action="report.uphold").count() == 1
    assert Notification.objects.filter(kind="report").count() == 1


def test_reports_after_a_decision_start_a_new_round():
    article = factories.article()
    reader = user()
    reports.file_report(reader, article, Category.SPAM)
    reports.decide(article, by=editor(), outcome=Status.DISMISSED, decision="不是广告")
    again = reports.file_report(reader, article, Category.SPAM, "又发了一次广告")
    assert again.status == Status.OPEN and Report.objects.count() == 2


def test_upholding_an_account_report_with_restriction_sends_its_posts_to_review():
    owner, account = creator(badge=Badge.QUALITY)
    reports.file_report(user(), account, Category.SPAM)
    reports.decide(account, by=editor(), outcome=Status.UPHELD, decision="批量发广告", take_down=True)
    account.refresh_from_db()
    assert account.badge == Badge.NEWCOMER
    assert AuditEntry.objects.filter(action="account.badge", target_id=str(account.pk)).exists()
    entry = AuditEntry.objects.get(action="report.uphold")
    assert (entry.before["badge"], entry.after["badge"]) == (Badge.QUALITY, Badge.NEWCOMER)
    draft = factories.article(publish=False, account_=account)
    workflow.submit(draft, by=owner)
    assert draft.status == Article.Status.PENDING  # no longer published at once


@needs_comments
def test_upholding_a_comment_report_with_take_down_removes_the_comment():
    writer = user("writer")
    note = comment(factories.article(), writer=writer)
    reporter = user("reporter")
    reports.file_report(reporter, note, Category.HARASSMENT)
    reports.decide(note, by=editor(), outcome=Status.UPHELD, decision="人身攻击", take_down=True)
    note.refresh_from_db()
    assert note.status == Comment.Status.REMOVED and note.removal_reason == "人身攻击"
    assert AuditEntry.objects.filter(action="comment.remove").exists()
    assert AuditEntry.objects.filter(action="report.uphold", target_type="engagement.comment").exists()
    assert "举报属实" in Notification.objects.get(user=reporter).text
    assert Notification.objects.filter(user=writer).exists()  # engagement.comments tells the writer


def test_an_editor_sees_the_decision_on_the_target_page_afterwards():
    article = factories.article()
    reports.file_report(user(), article, Category.SPAM, "广告链接")
    boss = editor()
    reports.decide(article, by=boss, outcome=Status.UPHELD, decision="确为广告", take_down=True)
    page = logged_in(boss).get(f"/review/reports/article/{article.pk}/").content.decode()
    assert "这里的举报都已处理。" in page and "确为广告" in page and "report.uphold" in page


# --- what the reporter sees ----------------------------------------------------------------------------------


def test_my_reports_lists_targets_categories_statuses_and_outcomes(django_assert_max_num_queries):
    reader = user()
    article = factories.article(title="被我举报的文章")
    note = comment(factories.article(title="另一篇"), body="这条跟帖很过分")
    account = factories.account(name="广告号")
    reports.file_report(reader, article, Category.FALSE_INFO)
    reports.file_report(reader, note, Category.HARASSMENT)
    reports.file_report(reader, account, Category.SPAM)
    reports.decide(article, by=editor(), outcome=Status.UPHELD, decision="已下架处理", take_down=True)
    template = Template('{% include "moderation/partials/my_reports.html" %}')
    with django_assert_max_num_queries(2):
        html = template.render(Context({"user": reader}))
    assert "我的举报" in html and "我的申诉" in html
    for text in (
        "被我举报的文章",
        "这条跟帖很过分",
        "广告号",
        "虚假信息",
        "人身攻击",
        "垃圾广告",
        "举报属实",
        "已下架处理",
        "待处理",
    ):
        assert text in html, text
    assert "你还没有举报过内容。" in Template('{% include "moderation/partials/my_reports.html" %}').render(
        Context({"user": user("nobody")})
    )


# --- the hub ---------------------------------------------------------------------------------------------------


def test_hub_counts_reports_appeals_and_held_comments_and_links_the_other_queues():
    article = factories.article()
    reports.file_report(user("a"), article, Category.SPAM)
    reports.file_report(user("b"), article, Category.OTHER)
    reports.file_report(user("c"), factories.account(), Category.SPAM)
    held = comment(factories.article())
    Comment.objects.filter(pk=held.pk).update(status=Comment.Status.HELD)
    page = logged_in(editor()).get("/review/").content.decode()
    assert "2 个对象待处理" in page and "0 份待处理" in page and "1 条待审核" in page
    for path in ("/review/reports/", "/review/appeals/", "/review/comments/", "/review/hot/", "/review/marks/"):
        assert f'href="{path}"' in page, path
