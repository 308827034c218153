"""申诉: the author of a removed article or comment appeals once; an editor grants (restored) or denies;
the appellant is told; who may do what; double submits; what the author sees on the removed page and
in the studio."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from masthead.accounts.models import Notification
from masthead.articles import workflow
from masthead.articles.models import Article
from masthead.engagement.models import Comment
from masthead.moderation import appeals, reports
from masthead.moderation.models import Appeal, AuditEntry, Report
from tests import factories
from tests.accounts.test_join import editor, logged_in, user
from tests.moderation.test_reports import comment, needs_comments
from tests.studio.helpers import creator

pytestmark = pytest.mark.django_db


def removed_article(reason: str = "内容不实"):
    """(author, article) with the article taken down by an editor."""
    author, account = creator()
    article = factories.article(account_=account, title="被下架的文章")
    workflow.remove(article, by=editor(f"remover{article.pk}"), reason=reason)
    article.refresh_from_db()
    return author, article


def url(article: Article) -> str:
    return f"/appeal/article/{article.pk}/"


# --- filing ----------------------------------------------------------------------------------------------------


def test_the_author_sees_the_reason_and_appeals_once():
    author, article = removed_article("标题与内容不符")
    client = logged_in(author)
    page = client.get(url(article)).content.decode()
    assert "标题与内容不符" in page and 'name="text"' in page
    response = client.post(url(article), {"text": "标题是准确的，请复核。"})
    assert response.status_code == 302 and response.url == url(article)
    appeal = Appeal.objects.get()
    assert (appeal.appellant, appeal.article, appeal.takedown_reason, appeal.status) == (
        author,
        article,
        "标题与内容不符",
        Appeal.Status.PENDING,
    )
    page = client.get(url(article)).content.decode()
    assert "申诉已提交" in page and "待处理" in page and 'name="text"' not in page


def test_a_double_submit_returns_the_first_and_a_second_appeal_is_refused():
    author, article = removed_article()
    client = logged_in(author)
    client.post(url(article), {"text": "请复核。"})
    assert client.post(url(article), {"text": "请复核。"}).status_code == 302
    response = client.post(url(article), {"text": "我再换个说法申诉一次。"})
    assert response.status_code == 409 and "每条被下架的内容只能申诉一次" in response.content.decode()
    assert Appeal.objects.get().text == "请复核。"
    assert appeals.appeal(author, article, "请复核。") == Appeal.objects.get()
    with pytest.raises(ValidationError) as caught:
        appeals.appeal(author, article, "第三次")
    assert caught.value.code == "already_appealed"


def test_only_the_author_may_appeal():
    _author, article = removed_article()
    response = Client().get(url(article))
    assert response.status_code == 302 and response.url.startswith("/login/?next=")
    other, _account = creator()
    for who in (user("reader"), other, editor("boss")):
        client = logged_in(who)
        assert client.get(url(article)).status_code == 403
        assert client.post(url(article), {"text": "帮忙申诉"}).status_code == 403
        with pytest.raises(PermissionDenied):
            appeals.appeal(who, article, "帮忙申诉")
    assert not Appeal.objects.exists()
    assert logged_in(user("x")).get("/appeal/article/999999/").status_code == 404


def test_content_that_is_not_removed_cannot_be_appealed():
    author, account = creator()
    article = factories.article(account_=account)
    response = logged_in(author).get(url(article))
    assert "这条内容没有被下架，无需申诉。" in response.content.decode()
    assert logged_in(author).post(url(article), {"text": "先申诉着"}).status_code == 400
    with pytest.raises(ValidationError):
        appeals.appeal(author, article, "先申诉着")
    assert not Appeal.objects.exists()


def test_the_appeal_needs_a_reason():
    author, article = removed_article()
    assert logged_in(author).post(url(article), {"text": "  "}).status_code == 400
    with pytest.raises(ValidationError):
        appeals.appeal(author, article, "长" * 1001)
    assert not Appeal.objects.exists()


# --- deciding ----------------------------------------------------------------------------------------------------


def test_granting_restores_the_article_and_tells_the_author():
    author, article = removed_article("疑似抄袭")
    appeal = appeals.appeal(author, article, "这是我的原创，有底稿为证。")
    boss = editor()
    response = logged_in(boss).post(f"/review/appeals/{appeal.pk}/", {"grant": "1", "decision": "核实为原创，予以恢复"})
    assert response.status_code == 302 and response.url == "/review/appeals/"
    article.refresh_from_db()
    appeal.refresh_from_db()
    assert article.status == Article.Status.PUBLISHED and article.removal_reason == ""
    assert (appeal.status, appeal.decision, appeal.decided_by) == (Appeal.Status.GRANTED, "核实为原创，予以恢复", boss)
    entry = AuditEntry.objects.get(action="appeal.grant")
    assert (entry.actor, entry.target_type, entry.target_id) == (boss, "articles.article", str(article.pk))
    assert entry.before == {"appeal": appeal.pk, "appeal_status": "pending", "status": "removed"}
    assert entry.after == {"appeal": appeal.pk, "appeal_status": "granted", "status": "published"}
    note = Notification.objects.get(user=author, kind="appeal")
    assert "申诉已通过" in note.text and "核实为原创" in note.text and note.link == url(article)
    assert Client().get(article.get_absolute_url()).status_code == 200


def test_denying_keeps_the_takedown_and_tells_the_author():
    author, article = removed_article()
    appeal = appeals.appeal(author, article, "请复核")
    appeals.decide_appeal(appeal, by=editor(), grant=False, decision="经复核，维持下架")
    article.refresh_from_db()
    assert article.status == Article.Status.REMOVED
    assert Appeal.objects.get().status == Appeal.Status.DENIED
    assert "维持原决定" in Notification.objects.get(user=author, kind="appeal").text
    assert AuditEntry.objects.filter(action="appeal.deny").count() == 1
    page = logged_in(author).get(url(article)).content.decode()
    assert "维持原决定" in page and "经复核，维持下架" in page and 'name="text"' not in page


def test_an_appeal_is_decided_once_and_needs_a_reason():
    author, article = removed_article()
    appeal = appeals.appeal(author, article, "请复核")
    client = logged_in(editor())
    assert client.post(f"/review/appeals/{appeal.pk}/", {"grant": "1", "decision": ""}).status_code == 400
    assert Appeal.objects.get().status == Appeal.Status.PENDING
    assert client.post(f"/review/appeals/{appeal.pk}/", {"grant": "0", "decision": "维持"}).status_code == 302
    response = client.post(f"/review/appeals/{appeal.pk}/", {"grant": "1", "decision": "改判"})
    assert response.status_code == 400 and "这份申诉已经处理过了。" in response.content.decode()
    article.refresh_from_db()
    assert article.status == Article.Status.REMOVED
    assert AuditEntry.objects.filter(action__startswith="appeal.").count() == 1


def test_only_editors_decide_and_never_their_own_appeal():
    author, article = removed_article()
    appeal = appeals.appeal(author, article, "请复核")
    for who in (author, user("reader")):
        assert logged_in(who).get(f"/review/appeals/{appeal.pk}/").status_code == 403
        assert (
            logged_in(who).post(f"/review/appeals/{appeal.pk}/", {"grant": "1", "decision": "自己批"}).status_code
            == 403
        )
        with pytest.raises(PermissionDenied):
            appeals.decide_appeal(appeal, by=who, grant=True, decision="自己批")
    response = Client().get(f"/review/appeals/{appeal.pk}/")
    assert response.status_code == 302 and response.url.startswith("/login/")
    # An editor who is also a creator does not judge their own appeal.
    boss = editor("boss")
    account = factories.account(owner=boss)
    own = factories.article(account_=account)
    workflow.remove(own, by=editor("other"), reason="违规")
    mine = appeals.appeal(boss, own, "我申诉")
    with pytest.raises(PermissionDenied):
        appeals.decide_appeal(mine, by=boss, grant=True, decision="准了")
    assert Appeal.objects.get(pk=mine.pk).status == Appeal.Status.PENDING


def test_once_means_once_even_after_a_new_takedown():
    author, article = removed_article()
    appeal = appeals.appeal(author, article, "请复核")
    appeals.decide_appeal(appeal, by=editor(), grant=True, decision="恢复")
    article.refresh_from_db()
    workflow.remove(article, by=editor("e2"), reason="再次违规")
    with pytest.raises(ValidationError):
        appeals.appeal(author, article, "再申诉一次")


# --- the queue ------------------------------------------------------------------------------------------------


def test_the_queue_lists_pending_appeals_oldest_first_and_decided_ones_by_status():
    first_author, first = removed_article("原因一")
    second_author, second = removed_article("原因二")
    a1 = appeals.appeal(first_author, first, "第一份申诉")
    appeals.appeal(second_author, second, "第二份申诉")
    client = logged_in(editor())
    page = client.get("/review/appeals/").content.decode()
    assert "共 2 份待处理" in page and page.index("原因一") < page.index("原因二")
    appeals.decide_appeal(a1, by=editor("e2"), grant=False, decision="维持")
    assert "原因一" not in client.get("/review/appeals/").content.decode()
    assert "原因一" in client.get("/review/appeals/?status=denied").content.decode()
    detail = client.get(f"/review/appeals/{a1.pk}/").content.decode()
    assert "第一份申诉" in detail and "appeal.deny" in detail and 'name="decision"' not in detail


def test_an_appeal_after_a_report_shows_the_reports_to_the_editor():
    author, account = creator()
    article = factories.article(account_=account)
    reports.file_report(user("reporter"), article, Report.Category.FALSE_INFO, "数据造假")
    reports.decide(article, by=editor(), outcome=Report.Status.UPHELD, decision="数据不实", take_down=True)
    appeal = appeals.appeal(author, article, "数据有出处")
    page = logged_in(editor("e2")).get(f"/review/appeals/{appeal.pk}/").content.decode()
    assert "数据造假" in page and "数据不实" in page and "数据有出处" in page and "report.uphold" in page


# --- what the author sees elsewhere ---------------------------------------------------------------------------


def test_the_removed_page_offers_the_author_an_appeal_and_then_its_status():
    author, article = removed_article("违反社区规范")
    response = logged_in(author).get(article.get_absolute_url())
    page = response.content.decode()
    assert response.status_code == 410 and "违反社区规范" in page and f'href="{url(article)}"' in page
    for reader in (Client(), logged_in(user("reader"))):
        page = reader.get(article.get_absolute_url()).content.decode()
        assert "违反社区规范" in page and url(article) not in page
    appeals.appeal(author, article, "请复核")
    page = logged_in(author).get(article.get_absolute_url()).content.decode()
    assert "你已申诉，状态：待处理" in page


def test_the_studio_shows_the_reason_and_the_appeal_link_or_status():
    author, article = removed_article("图片侵权")
    client = logged_in(author)
    page = client.get("/studio/?status=removed").content.decode()
    assert "图片侵权" in page and f'href="{url(article)}"' in page
    appeals.appeal(author, article, "图片有授权")
    assert "申诉状态：待处理" in client.get("/studio/?status=removed").content.decode()


def test_my_appeals_on_the_my_page_partial():
    from django.template import Context, Template

    author, article = removed_article()
    appeals.appeal(author, article, "请复核")
    html = Template('{% include "moderation/partials/my_reports.html" %}').render(Context({"user": author}))
    assert "我的申诉" in html and "被下架的文章" in html and "待处理" in html and url(article) in html


# --- comments -------------------------------------------------------------------------------------------------


@needs_comments
def test_a_removed_comment_is_appealed_and_restored():
    from masthead.engagement.comments import remove_comment

    writer = user("writer")
    note = comment(factories.article(), writer=writer, body="我说的是事实")
    remove_comment(note, by=editor("remover"), reason="不实信息")
    note.refresh_from_db()
    comment_url = f"/appeal/comment/{note.pk}/"
    assert logged_in(user("someone")).get(comment_url).status_code == 403
    page = logged_in(writer).get(comment_url).content.decode()
    assert "不实信息" in page and 'name="text"' in page
    assert logged_in(writer).post(comment_url, {"text": "有来源"}).status_code == 302
    appeal = Appeal.objects.get(comment=note)
    assert appeal.takedown_reason == "不实信息"
    appeals.decide_appeal(appeal, by=editor(), grant=True, decision="来源可靠，恢复")
    note.refresh_from_db()
    assert note.status == Comment.Status.VISIBLE
    assert AuditEntry.objects.filter(action="comment.restore").exists()
    assert AuditEntry.objects.filter(action="appeal.grant", target_type="engagement.comment").exists()
    assert "申诉已通过" in Notification.objects.filter(user=writer, kind="appeal").get().text


def test_the_studio_appeal_lookup_is_one_query_or_none_when_the_view_joins_appeals(django_assert_num_queries):
    from masthead.moderation.templatetags.moderation_tags import appeals_by_article

    author, article = removed_article()
    _other_author, other = removed_article()
    appeal = appeals.appeal(author, article, "请复核")
    listed = list(Article.objects.filter(pk__in=[article.pk, other.pk]))
    with django_assert_num_queries(1):
        assert appeals_by_article(listed) == {article.pk: appeal}
    joined = list(Article.objects.select_related("appeal").filter(pk__in=[article.pk, other.pk]))
    with django_assert_num_queries(0):
        assert appeals_by_article(joined) == {article.pk: appeal}
