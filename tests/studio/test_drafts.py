"""articles.drafts: versioned saves, conflicts, collapsed autosaves, restore and diff."""

from datetime import datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from masthead.accounts.models import Badge
from masthead.articles import actions, drafts
from masthead.articles.models import Article, Revision
from tests.studio.helpers import creator, draft

pytestmark = pytest.mark.django_db
BODY = "<p>" + "第一段写的是今天的天气情况。" * 3 + "</p>"


@pytest.fixture
def clock(monkeypatch):
    """A settable 'now' (also used by auto_now fields), to put saves in the same or another minute."""
    now = {"t": timezone.make_aware(datetime(2025, 3, 1, 10, 0, 5))}
    monkeypatch.setattr(timezone, "now", lambda: now["t"])
    return now


def test_save_bumps_version_writes_revision_and_sanitizes():
    user, account = creator()
    article = draft(account, body=BODY)
    drafts.save_draft(
        article, user, 1, kind=Revision.Kind.SAVE, body='<p onclick="x()">新的<script>alert(1)</script>正文</p>'
    )
    article.refresh_from_db()
    assert article.version == 2
    assert article.body_html == "<p>新的正文</p>"
    rev = article.revisions.get()
    assert (rev.version, rev.kind, rev.author, rev.body_html) == (2, "save", user, "<p>新的正文</p>")


def test_stale_version_is_refused_with_the_current_one():
    user, account = creator()
    article = draft(account, body=BODY)
    drafts.save_draft(article, user, 1, body="<p>第一个窗口写的</p>")
    stale = Article.objects.get(pk=article.pk)
    with pytest.raises(drafts.DraftConflict) as caught:
        drafts.save_draft(stale, user, 1, body="<p>第二个窗口写的</p>")
    assert caught.value.current_version == 2
    assert Article.objects.get(pk=article.pk).body_html == "<p>第一个窗口写的</p>"
    # Keeping mine is an explicit choice and then becomes the newest version.
    drafts.save_draft(stale, user, 1, force=True, body="<p>第二个窗口写的</p>")
    article.refresh_from_db()
    assert (article.version, article.body_html) == (3, "<p>第二个窗口写的</p>")


def test_a_repeated_save_is_neither_a_conflict_nor_a_new_revision():
    user, account = creator()
    article = draft(account, body=BODY)
    drafts.save_draft(article, user, 1, kind=Revision.Kind.SAVE, title="标题一", body="<p>同样的内容</p>")
    again = Article.objects.get(pk=article.pk)
    drafts.save_draft(again, user, 1, kind=Revision.Kind.SAVE, title="标题一", body="<p>同样的内容</p>")
    assert again.version == 2
    assert article.revisions.count() == 1


def test_autosaves_in_one_minute_collapse_into_one_row(clock):
    user, account = creator()
    article = draft(account, body=BODY)
    for i, seconds in enumerate((5, 20, 50)):
        clock["t"] = clock["t"].replace(second=seconds)
        drafts.save_draft(article, user, article.version, body=f"<p>第{i}次</p>")
    assert list(article.revisions.values_list("version", "body_html")) == [(4, "<p>第2次</p>")]
    clock["t"] += timedelta(minutes=1)
    drafts.save_draft(article, user, article.version, body="<p>下一分钟</p>")
    drafts.save_draft(article, user, article.version, kind=Revision.Kind.SAVE, body="<p>手动保存</p>")
    drafts.save_draft(article, user, article.version, body="<p>手动保存后的自动保存</p>")
    kinds = list(article.revisions.order_by("id").values_list("kind", flat=True))
    assert kinds == ["autosave", "autosave", "save", "autosave"]


def test_autosaves_of_different_people_are_not_collapsed(clock):
    user, account = creator()
    other, _ = creator()
    article = draft(account, body=BODY)
    drafts.save_draft(article, user, 1, body="<p>作者</p>")
    drafts.save_draft(article, other, 2, body="<p>另一个人</p>")
    assert article.revisions.count() == 2


def test_restore_makes_an_old_text_the_newest_version():
    user, account = creator()
    article = draft(account, body=BODY)
    drafts.save_draft(article, user, 1, kind=Revision.Kind.SAVE, title="旧标题", body="<p>旧的正文</p>")
    old = article.revisions.get()
    drafts.save_draft(article, user, 2, kind=Revision.Kind.SAVE, title="新标题", body="<p>新的正文</p>")
    drafts.restore_revision(article, old, by=user)
    article.refresh_from_db()
    assert (article.title, article.body_html, article.version) == ("旧标题", "<p>旧的正文</p>", 4)
    assert article.revisions.order_by("-id").first().kind == "restore"
    assert article.revisions.count() == 3


def test_published_article_keeps_its_text_until_updated():
    user, account = creator(badge=Badge.QUALITY)  # trusted: the change goes live, reviewed afterwards
    article = draft(account, body=BODY, title="已发布的标题")
    actions.publish(article)
    drafts.save_draft(article, user, 1, title="改过的标题", body="<p>" + "改过的正文内容。" * 5 + "</p>")
    article.refresh_from_db()
    assert article.title == "已发布的标题" and "改过" not in article.body_html
    assert drafts.working_text(article).title == "改过的标题"
    assert drafts.pending_changes(article) is not None
    drafts.publish_changes(article, user, article.version)
    article.refresh_from_db()
    assert article.title == "改过的标题" and "改过的正文内容" in article.body_html
    assert article.needs_review and article.status == "published"
    assert drafts.pending_changes(article) is None


def test_new_creators_update_waits_for_an_editor_and_leaves_the_site_meanwhile():
    user, account = creator()
    article = draft(account, body=BODY, title="已发布的标题")
    actions.publish(article)
    drafts.publish_changes(article, user, 1, title="新手改过的标题", body="<p>" + "新手改过的正文。" * 5 + "</p>")
    article.refresh_from_db()
    account.refresh_from_db()
    assert article.status == "pending" and article.title == "新手改过的标题"
    assert account.article_count == 0  # not on the site until an editor approves the change


def test_update_that_fails_the_publishing_checks_changes_nothing_readers_see():
    user, account = creator()
    article = draft(account, body=BODY, title="已发布的标题")
    actions.publish(article)
    with pytest.raises(ValidationError) as caught:
        drafts.publish_changes(article, user, 1, body="<p>太短</p>")
    assert "body" in caught.value.message_dict
    article.refresh_from_db()
    assert article.body_html == BODY
    assert drafts.working_text(article).body_html == "<p>太短</p>"  # the edit itself is kept


def test_removed_article_cannot_be_saved():
    user, account = creator()
    article = draft(account, body=BODY)
    actions.publish(article)
    actions.remove(article, reason="违规")
    with pytest.raises(ValidationError):
        drafts.save_draft(article, user, article.version, body="<p>偷偷改</p>")


def test_diff_marks_changed_paragraphs_and_characters():
    rows = drafts.diff_paragraphs("第一段\n第二段没变\n要删掉的段", "第一段改了\n第二段没变\n<新段>")
    ops = [r.op for r in rows]
    assert ops == ["replace", "equal", "replace"]
    assert rows[0].html == "第一段<ins>改了</ins>"
    assert "<del>要删掉的</del>" in rows[2].html and "&lt;" in rows[2].html and "<新" not in rows[2].html
    rows = drafts.diff_paragraphs("一\n二", "一\n二\n三\n四")
    assert [r.op for r in rows] == ["equal", "equal", "insert", "insert"]
    assert rows[-1].html == "<ins>四</ins>"
