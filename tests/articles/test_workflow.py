"""The publishing workflow: transitions, reasons, publication time, counts, fields and tags."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from masthead.articles import actions
from masthead.articles.models import Article, Tag
from tests import factories

pytestmark = pytest.mark.django_db
Status = Article.Status


def _draft(**fields) -> Article:
    return factories.article(publish=False, **fields)


def _status(article: Article) -> str:
    return Article.objects.values_list("status", flat=True).get(pk=article.pk)


def _refused(func, *args, **kwargs) -> ValidationError:
    with pytest.raises(ValidationError) as exc:
        func(*args, **kwargs)
    return exc.value


def test_draft_goes_through_review_to_published():
    item = _draft()
    actions.submit_for_review(item)
    assert _status(item) == Status.PENDING
    actions.publish(item)
    assert _status(item) == Status.PUBLISHED and item.published_at is not None


def test_review_can_reject_with_a_reason_and_the_author_can_resubmit():
    item = _draft()
    actions.submit_for_review(item)
    assert _refused(actions.reject, item, reason="  ").messages == ["请填写不通过的原因。"]
    assert _status(item) == Status.PENDING
    actions.reject(item, reason=" 标题与内容不符 ")
    item.refresh_from_db()
    assert (item.status, item.removal_reason) == (Status.REJECTED, "标题与内容不符")

    error = _refused(actions.publish, item)  # a rejected article goes back through review
    assert error.messages == ["文章当前状态为“未通过”，不能改为“已发布”。"]
    actions.submit_for_review(item)
    item.refresh_from_db()
    assert (item.status, item.removal_reason) == (Status.PENDING, "")


@pytest.mark.parametrize(
    ("start", "action", "kwargs"),
    [
        ("draft", actions.reject, {"reason": "不合适"}),  # only articles under review can be rejected
        ("published", actions.publish, {}),
        ("published", actions.reject, {"reason": "不合适"}),
        ("removed", actions.submit_for_review, {}),
        ("removed", actions.remove, {"reason": "再下架一次"}),
        ("removed", actions.reject, {"reason": "不合适"}),
    ],
)
def test_forbidden_transitions_are_refused_and_change_nothing(start, action, kwargs):
    item = factories.article(publish=start != "draft")
    if start == "removed":
        actions.remove(item, reason="违规")
    before = Article.objects.values("status", "published_at", "removal_reason").get(pk=item.pk)
    error = _refused(action, item, **kwargs)
    assert error.messages[0].startswith("文章当前状态为“")
    assert Article.objects.values("status", "published_at", "removal_reason").get(pk=item.pk) == before


def test_removing_needs_a_reason_that_fits():
    item = factories.article()
    assert _refused(actions.remove, item, reason="").messages == ["下架必须填写原因。"]
    assert _refused(actions.remove, item, reason="长" * 301).messages == ["原因最多 300 个字。"]
    assert _status(item) == Status.PUBLISHED
    actions.remove(item, reason="经核实含有不实信息")
    item.refresh_from_db()
    assert (item.status, item.removal_reason) == (Status.REMOVED, "经核实含有不实信息")


def test_removed_article_cannot_be_edited():
    item = factories.article(title="原标题", body="<p>原正文</p>")
    actions.remove(item, reason="违规")
    assert _refused(actions.update_article, item, title="新标题", body="<p>新正文</p>").messages == [
        "已下架的文章不能编辑。"
    ]
    item.refresh_from_db()
    assert (item.title, item.body_html) == ("原标题", "<p>原正文</p>")


def test_a_page_opened_before_a_takedown_cannot_undo_it():
    item = factories.article(title="原标题")
    stale = Article.objects.get(pk=item.pk)  # the author's edit page, loaded while the article was live
    actions.remove(item, reason="违规")
    assert _refused(actions.update_article, stale, title="改过的标题").messages == ["已下架的文章不能编辑。"]
    item.refresh_from_db()
    assert (item.status, item.removal_reason, item.title) == (Status.REMOVED, "违规", "原标题")


def test_editing_does_not_write_back_counters_or_publication_time():
    item = factories.article()
    Article.objects.filter(pk=item.pk).update(view_count=500, share_count=7)  # flushed by the counters meanwhile
    actions.update_article(item, title="只改标题")
    item.refresh_from_db()
    assert (item.title, item.view_count, item.share_count, item.status) == ("只改标题", 500, 7, Status.PUBLISHED)


def test_published_at_is_kept_when_republished_after_removal():
    item = factories.article()
    first = item.published_at
    actions.remove(item, reason="待核实")
    actions.publish(item)  # restored by an editor
    item.refresh_from_db()
    assert item.status == Status.PUBLISHED and item.published_at == first and item.removal_reason == ""


def test_import_can_set_a_past_publication_time():
    at = timezone.now() - timedelta(days=3)
    item = actions.publish(_draft(), at=at)
    assert item.published_at == at


def test_article_count_follows_publish_remove_and_republish():
    writer = factories.account()

    def count() -> int:
        writer.refresh_from_db()
        return writer.article_count

    first, second = factories.article(account_=writer), factories.article(account_=writer)
    draft, pending = _draft(account_=writer), _draft(account_=writer)
    actions.submit_for_review(pending)
    assert count() == 2
    actions.remove(first, reason="违规")
    assert count() == 1
    actions.remove(draft, reason="违规")  # removing something never published changes nothing
    assert count() == 1
    actions.publish(first)
    assert count() == 2
    actions.publish(pending)
    assert count() == 3
    actions.remove(second, reason="违规")
    assert count() == 2


def test_tags_are_trimmed_deduplicated_and_shared():
    item = _draft(tags=["  科技 ", "科技", "人工  智能", "AI", "ai", "", "   ", "#话题#", "长" * 25])
    assert [t.name for t in item.tags.order_by("pk")] == ["科技", "人工 智能", "AI", "话题", "长" * 20]
    other = _draft(tags="科技，体育、 科技,足球")  # typed into one box
    assert sorted(t.name for t in other.tags.all()) == sorted(["科技", "体育", "足球"])
    assert Tag.objects.filter(name="科技").count() == 1


def test_at_most_ten_tags_and_updating_replaces_them():
    item = _draft(tags=[f"标签{n}" for n in range(15)])
    assert item.tags.count() == 10
    actions.update_article(item, tags=["新标签", " 新标签 "])
    assert [t.name for t in item.tags.all()] == ["新标签"]
    actions.update_article(item, title="不动标签")
    assert [t.name for t in item.tags.all()] == ["新标签"]


def test_title_is_one_trimmed_line_of_at_most_100_characters():
    item = _draft(title="  第一行\n  第二行\t结尾  ")
    assert item.title == "第一行 第二行 结尾"
    assert _refused(actions.update_article, item, title="长" * 101).message_dict == {"title": ["标题最多 100 个字。"]}
    actions.update_article(item, title="长" * 100)
    assert len(Article.objects.get(pk=item.pk).title) == 100


def test_summary_follows_the_body_until_the_author_writes_one():
    item = _draft(body="<p>第一版正文。</p>")
    assert item.summary == "第一版正文。"
    actions.update_article(item, body="<p>第二版正文。</p>")
    assert Article.objects.get(pk=item.pk).summary == "第二版正文。"
    actions.update_article(item, summary="作者自己写的摘要")
    actions.update_article(item, body="<p>第三版正文。</p>")
    assert Article.objects.get(pk=item.pk).summary == "作者自己写的摘要"
    actions.update_article(item, summary="")  # cleared: back to the body's opening
    assert Article.objects.get(pk=item.pk).summary == "第三版正文。"


def test_fields_that_would_not_fit_their_column_are_refused():
    item = _draft()
    assert _refused(actions.update_article, item, summary="长" * 301).message_dict == {
        "summary": ["摘要最多 300 个字。"]
    }
    assert _refused(actions.update_article, item, source="长" * 201).message_dict == {
        "source": ["信息来源最多 200 个字。"]
    }
    with pytest.raises(TypeError):
        actions.update_article(item, status=Status.PUBLISHED)  # the workflow is not a field


def test_channel_is_required():
    error = _refused(actions.create_article, account=factories.account(), title="无频道", body="<p>正文</p>")
    assert error.message_dict == {"channel": ["请选择频道。"]}


def test_cover_must_be_the_authors_own_picture():
    writer, other = factories.account(), factories.account()
    theirs = factories.image(account=other)
    error = _refused(actions.update_article, _draft(account_=writer), cover=theirs)
    assert error.message_dict == {"cover": ["只能使用自己上传的图片作封面。"]}
    mine = factories.image(account=writer)
    item = _draft(account_=writer, cover=mine)
    assert item.cover == mine
