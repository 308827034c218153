"""Comment actions: posting and replying, screening, double submits, rate limits, deleting, removal by
the article's author and editors (audited, with a notice and an appeal link), held comments, likes,
and the counters they keep."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from masthead.accounts.models import Notification
from masthead.articles import actions as article_actions
from masthead.articles.models import Article
from masthead.engagement import comments
from masthead.engagement.models import Comment, CommentLike
from masthead.moderation import screening
from masthead.moderation.models import AuditEntry
from tests import factories
from tests.engagement.comment_helpers import creator_article, editor, post, reader

pytestmark = pytest.mark.django_db
Status = Comment.Status


def _counts(article: Article) -> int:
    return Article.objects.values_list("comment_count", flat=True).get(pk=article.pk)


def _reload(comment: Comment) -> Comment:
    return Comment.objects.get(pk=comment.pk)


@pytest.fixture
def article():
    return creator_article()[1]


# --- posting and replying ---------------------------------------------------------------------------


def test_a_comment_is_stored_trimmed_with_its_region_and_counted(article):
    comment = post(reader(), article, "  第一条跟帖  ", region="广东")
    assert comment.body == "第一条跟帖"
    assert comment.status == Status.VISIBLE and comment.ip_region == "广东"
    assert _counts(article) == 1


def test_replies_stay_one_level_deep_and_quote_what_they_answer(article):
    head = post(reader(), article, "楼主")
    first = post(reader(), article, "一楼回复", reply_to=head)
    second = post(reader(), article, "回复一楼", reply_to=first)
    assert (first.thread_id, first.reply_to_id) == (head.pk, head.pk)
    assert (second.thread_id, second.reply_to_id) == (head.pk, first.pk)  # same thread, quotes the reply
    assert _reload(head).reply_count == 2
    assert _counts(article) == 3


@pytest.mark.parametrize(
    ("body", "message"), [("", "请输入跟帖内容"), ("   \n ", "请输入跟帖内容"), ("字" * 1001, "最多 1000 个字")]
)
def test_empty_and_too_long_comments_are_refused(article, body, message):
    with pytest.raises(ValidationError) as error:
        post(reader(), article, body)
    assert message in str(error.value.message_dict["body"])
    assert not Comment.objects.exists()


def test_a_thousand_characters_are_allowed(article):
    assert len(post(reader(), article, "字" * 1000).body) == 1000


def test_no_comments_under_drafts_or_removed_articles():
    draft = factories.article(publish=False)
    with pytest.raises(ValidationError):
        post(reader(), draft)
    removed = factories.article()
    article_actions.remove(removed, reason="违规")
    with pytest.raises(ValidationError):
        post(reader(), removed)
    assert not Comment.objects.exists()


def test_replies_only_to_visible_comments_of_the_same_article(article):
    other = post(reader(), factories.article(), "别的文章")
    with pytest.raises(ValidationError) as error:
        post(reader(), article, "回复", reply_to=other)
    assert "reply_to" in error.value.message_dict
    writer = reader()
    gone = post(writer, article, "将被删除")
    comments.delete_own(writer, gone)
    with pytest.raises(ValidationError):
        post(reader(), article, "回复", reply_to=_reload(gone))


def test_anonymous_and_inactive_users_cannot_post(article):
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(PermissionDenied):
        post(AnonymousUser(), article)
    inactive = reader()
    inactive.is_active = False
    with pytest.raises(PermissionDenied):
        post(inactive, article)


# --- screening --------------------------------------------------------------------------------------------


def test_a_blocked_term_is_refused_naming_the_term(article):
    screening.add_terms("赌博", screening.BLOCK, editor())
    with pytest.raises(ValidationError) as error:
        post(reader(), article, "来这里赌 博吧")
    assert "“赌博”" in " ".join(error.value.message_dict["body"])
    assert not Comment.objects.exists()


def test_a_review_term_holds_the_comment_for_an_editor(article):
    screening.add_terms("代购", screening.REVIEW, editor())
    comment = post(reader(), article, "需要代购的私信")
    assert comment.status == Status.HELD
    assert _counts(article) == 0  # not counted until an editor lets it through


def test_approving_a_held_comment_publishes_counts_audits_and_tells_the_writer(article):
    screening.add_terms("代购", screening.REVIEW, editor())
    writer = reader()
    comment = post(writer, article, "需要代购的私信")
    boss = editor()
    comments.approve_held(comment, by=boss)
    assert _reload(comment).status == Status.VISIBLE and _counts(article) == 1
    entry = AuditEntry.objects.get(action="comment.approve")
    assert entry.actor == boss and entry.before["status"] == "held" and entry.after["status"] == "visible"
    assert Notification.objects.filter(user=writer, kind="comment.approved").exists()


def test_rejecting_a_held_comment_removes_it_with_the_reason_and_an_appeal_link(article):
    screening.add_terms("代购", screening.REVIEW, editor())
    writer = reader()
    comment = post(writer, article, "需要代购的私信")
    comments.reject_held(comment, by=editor(), reason="广告")
    comment = _reload(comment)
    assert comment.status == Status.REMOVED and comment.removal_reason == "广告"
    assert AuditEntry.objects.filter(action="comment.reject", reason="广告").exists()
    notice = Notification.objects.get(user=writer)
    assert "广告" in notice.text and notice.link == reverse("reports:appeal-comment", args=[comment.pk])


def test_only_editors_decide_on_held_comments(article):
    screening.add_terms("代购", screening.REVIEW, editor())
    comment = post(reader(), article, "需要代购的私信")
    author = Article.objects.get(pk=article.pk).account.owner
    for user in (reader(), author):
        with pytest.raises(PermissionDenied):
            comments.approve_held(comment, by=user)
        with pytest.raises(PermissionDenied):
            comments.reject_held(comment, by=user, reason="不行")
    assert _reload(comment).status == Status.HELD


# --- double submits and rate limits ------------------------------------------------------------------------


def test_the_same_form_submitted_twice_makes_one_comment(article):
    user = reader()
    first = comments.post_comment(user, article, "只发一次", client_token="tok-1")
    again = comments.post_comment(user, article, "只发一次", client_token="tok-1")
    assert again.pk == first.pk
    assert Comment.objects.count() == 1 and _counts(article) == 1
    # Another user may use the same token (tokens are per user).
    assert comments.post_comment(reader(), article, "只发一次", client_token="tok-1").pk != first.pk


def test_a_double_submit_does_not_use_up_the_rate_limit(article):
    user = reader()
    for _ in range(10):
        comments.post_comment(user, article, "同一个表单", client_token="same")
    post(user, article, "另一条")  # still allowed: the repeats did not count


def test_five_comments_a_minute_per_user(article):
    user = reader()
    for n in range(5):
        post(user, article, f"第{n}条")
    with pytest.raises(comments.RateLimited) as error:
        post(user, article, "第六条")
    assert error.value.retry_after > 0 and "请" in error.value.messages[0]
    post(reader(), article, "别人不受影响")


def test_sixty_comments_a_day_per_user(article, settings):
    settings.MASTHEAD_RATE_LIMITS = {"comment-user-minute": (1000, 60)}
    user = reader()
    for n in range(60):
        post(user, article, f"第{n}条")
    with pytest.raises(comments.RateLimited):
        post(user, article, "超出")


def test_the_rate_limit_also_counts_per_address(article, settings):
    settings.MASTHEAD_RATE_LIMITS = {"comment-ip-minute": (3, 60)}
    for n in range(3):
        post(reader(), article, f"第{n}条", ip="203.0.113.9")
    with pytest.raises(comments.RateLimited):
        post(reader(), article, "同一地址的新账号", ip="203.0.113.9")
    post(reader(), article, "另一个地址", ip="198.51.100.7")


def test_refused_comments_do_not_count_against_the_limit(article):
    screening.add_terms("赌博", screening.BLOCK, editor())
    user = reader()
    for _ in range(6):
        with pytest.raises(ValidationError):
            post(user, article, "赌博")
    post(user, article, "改好了")


# --- deleting, removing, restoring -------------------------------------------------------------------


def test_the_writer_deletes_their_own_comment_leaving_a_placeholder(article):
    writer = reader()
    head = post(reader(), article, "楼主")
    reply = post(writer, article, "我的回复", reply_to=head)
    with pytest.raises(PermissionDenied):
        comments.delete_own(reader(), reply)
    comments.delete_own(writer, reply)
    comments.delete_own(writer, reply)  # twice is harmless
    assert _reload(reply).status == Status.DELETED
    assert _reload(head).reply_count == 0 and _counts(article) == 1


def test_the_articles_author_removes_a_comment_with_a_reason(article):
    author = Article.objects.get(pk=article.pk).account.owner
    writer = reader()
    comment = post(writer, article, "无关的广告")
    with pytest.raises(ValidationError) as error:
        comments.remove_comment(comment, by=author, reason="  ")
    assert "reason" in error.value.message_dict
    comments.remove_comment(comment, by=author, reason="与本文无关")
    comment = _reload(comment)
    assert (comment.status, comment.removal_reason, comment.removed_by) == (Status.REMOVED, "与本文无关", author)
    assert _counts(article) == 0
    assert not AuditEntry.objects.exists()  # the author is not an editor: no audit entry
    assert "与本文无关" in Notification.objects.get(user=writer).text


def test_an_editors_removal_is_audited_and_the_writer_can_appeal(article):
    writer = reader()
    comment = post(writer, article, "人身攻击的话")
    boss = editor()
    comments.remove_comment(comment, by=boss, reason="人身攻击")
    entry = AuditEntry.objects.get(action="comment.remove")
    assert entry.actor == boss and entry.reason == "人身攻击" and entry.target_id == str(comment.pk)
    assert entry.before["status"] == "visible" and entry.after["status"] == "removed"
    notice = Notification.objects.get(user=writer)
    assert "人身攻击" in notice.text and notice.link == reverse("reports:appeal-comment", args=[comment.pk])


@pytest.mark.parametrize("who", ["reader", "writer", "other_creator"])
def test_others_cannot_remove_comments(article, who):
    writer = reader()
    comment = post(writer, article, "普通跟帖")
    user = {"reader": reader(), "writer": writer, "other_creator": creator_article()[0]}[who]
    with pytest.raises(PermissionDenied):
        comments.remove_comment(comment, by=user, reason="不喜欢")
    assert _reload(comment).status == Status.VISIBLE


def test_an_editor_restores_a_removed_comment(article):
    comment = post(reader(), article, "被误删的跟帖")
    comments.remove_comment(comment, by=editor(), reason="误判")
    with pytest.raises(PermissionDenied):
        comments.restore_comment(comment, by=Article.objects.get(pk=article.pk).account.owner, reason="恢复")
    comments.restore_comment(comment, by=editor(), reason="申诉成立")
    comment = _reload(comment)
    assert comment.status == Status.VISIBLE and comment.removal_reason == ""
    assert _counts(article) == 1
    assert AuditEntry.objects.filter(action="comment.restore", reason="申诉成立").exists()


def test_a_deleted_comment_cannot_be_removed_nor_a_removed_one_deleted(article):
    writer = reader()
    deleted = post(writer, article, "删掉")
    comments.delete_own(writer, deleted)
    with pytest.raises(ValidationError):
        comments.remove_comment(_reload(deleted), by=editor(), reason="违规")
    removed = post(writer, article, "被移除")
    comments.remove_comment(removed, by=editor(), reason="违规")
    with pytest.raises(ValidationError):
        comments.delete_own(writer, _reload(removed))


# --- likes --------------------------------------------------------------------------------------------------


def test_likes_are_explicitly_on_or_off_and_counted_once(article):
    comment = post(reader(), article, "点赞我")
    fan = reader()
    assert comments.set_like(fan, comment, True) == 1
    assert comments.set_like(fan, comment, True) == 1  # a second click of "like" changes nothing
    assert comments.set_like(reader(), comment, True) == 2
    assert comments.set_like(fan, comment, False) == 1
    assert comments.set_like(fan, comment, False) == 1
    assert _reload(comment).like_count == 1 == CommentLike.objects.filter(comment=comment).count()


def test_no_likes_on_ones_own_or_on_removed_comments(article):
    writer = reader()
    comment = post(writer, article, "自己的")
    with pytest.raises(ValidationError):
        comments.set_like(writer, comment, True)
    comments.remove_comment(comment, by=editor(), reason="违规")
    with pytest.raises(ValidationError):
        comments.set_like(reader(), _reload(comment), True)


def test_likes_are_rate_limited(article, settings):
    settings.MASTHEAD_RATE_LIMITS = {"comment-like-user": (3, 60)}
    comment = post(reader(), article)
    fan = reader()
    for on in (True, False, True):
        comments.set_like(fan, comment, on)
    with pytest.raises(comments.RateLimited):
        comments.set_like(fan, comment, False)
