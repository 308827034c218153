"""Publishing rules and editor decisions: who may publish what, when, and what the audit log keeps."""

import itertools
from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from masthead.accounts.models import Account, Badge
from masthead.articles import workflow
from masthead.articles.models import Article
from masthead.moderation.models import AuditEntry
from tests import factories

pytestmark = pytest.mark.django_db
Status = Article.Status
TODAY = timezone.localdate


_names = itertools.count(1)


def _user(name: str, *, editor: bool = False) -> User:
    name = f"{name}{next(_names)}"
    return User.objects.create_user(name, f"{name}@example.com", "pw-for-tests-1", is_staff=editor)


def _creator(name: str = "writer", **fields) -> tuple[User, Account]:
    user = _user(name)
    return user, factories.account(owner=user, **fields)


def _draft(account: Account, channel: str = "tech", **fields) -> Article:
    return factories.article(publish=False, account_=account, channel_=factories.channel(channel), **fields)


def _row(article: Article) -> Article:
    return Article.objects.get(pk=article.pk)


def _refused(func, *args, **kwargs) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as exc:
        func(*args, **kwargs)
    return exc.value.message_dict


def _finance_writer(expires_in_days: int = 30, badge: int = Badge.NEWCOMER) -> tuple[User, Account]:
    return _creator(
        "finwriter",
        field="finance",
        credential_name="理财规划师资格",
        credential_expires_on=TODAY() + timedelta(days=expires_in_days),
        badge=badge,
    )


# --- submitting: review first for new creators, publish-then-review for trusted ones ---------------


def test_a_new_creators_article_waits_for_an_editor():
    user, writer = _creator()
    item = workflow.submit(_draft(writer), by=user)
    row = _row(item)
    assert (row.status, row.needs_review, row.scheduled_at, row.published_at) == (Status.PENDING, False, None, None)


def test_a_new_creators_chosen_time_is_kept_for_the_editor_and_a_past_time_is_dropped():
    user, writer = _creator()
    at = timezone.now() + timedelta(hours=5)
    assert _row(workflow.submit(_draft(writer), by=user, at=at)).scheduled_at == at
    past = _row(workflow.submit(_draft(writer), by=user, at=timezone.now() - timedelta(minutes=1)))
    assert (past.status, past.scheduled_at) == (Status.PENDING, None)


@pytest.mark.parametrize("badge", [Badge.QUALITY, Badge.CERTIFIED])
def test_trusted_creators_publish_at_once_and_are_reviewed_afterwards(badge):
    user, writer = _creator(badge=badge)
    row = _row(workflow.submit(_draft(writer), by=user))
    assert (row.status, row.needs_review) == (Status.PUBLISHED, True) and row.published_at is not None


def test_growing_creators_are_not_trusted_yet():
    user, writer = _creator(badge=Badge.GROWING)
    assert _row(workflow.submit(_draft(writer), by=user)).status == Status.PENDING


def test_trusted_creators_can_schedule():
    user, writer = _creator(badge=Badge.QUALITY)
    at = timezone.now() + timedelta(days=1)
    row = _row(workflow.submit(_draft(writer), by=user, at=at))
    assert (row.status, row.scheduled_at, row.needs_review, row.published_at) == (Status.SCHEDULED, at, True, None)


def test_a_rejected_article_goes_back_through_review_even_for_a_trusted_creator():
    user, writer = _creator(badge=Badge.QUALITY)
    editor = _user("editor", editor=True)
    item = _draft(writer)
    workflow.submit(item, by=user)
    workflow.remove(item, by=editor, reason="与事实不符")  # removed ones cannot be resubmitted at all
    with pytest.raises(ValidationError):
        workflow.submit(item, by=user)
    other = _draft(writer)
    writer.badge = Badge.NEWCOMER
    writer.save()
    workflow.submit(other, by=user)
    workflow.reject(other, by=editor, reason="标题夸大")
    writer.badge = Badge.QUALITY  # promoted meanwhile: the rejected article is still reviewed first
    writer.save()
    assert _row(workflow.submit(_row(other), by=user)).status == Status.PENDING


# --- the rules ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("channel", "fields"), [("military", {}), ("tech", {"is_news": True})])
def test_military_and_news_need_a_source_statement(channel, fields):
    user, writer = _creator()
    item = _draft(writer, channel, **fields)
    assert _refused(workflow.submit, item, by=user) == {"source": ["头条、军事频道和新闻资讯必须注明信息来源。"]}
    assert _row(item).status == Status.DRAFT
    item.source = "国防部例行记者会"
    item.save()
    assert _row(workflow.submit(item, by=user)).status == Status.PENDING


def test_top_stories_need_a_source_and_a_current_affairs_credential():
    user, writer = _creator()
    errors = _refused(workflow.submit, _draft(writer, "top"), by=user)
    assert errors["source"] == ["头条、军事频道和新闻资讯必须注明信息来源。"]
    assert errors["channel"] == ["“时政”领域需要经过平台认证的相关资质才能发布，请先提交资质。"]


def test_a_body_that_is_too_short_is_refused():
    user, writer = _creator()
    assert _refused(workflow.submit, _draft(writer, body="<p>太短了</p>"), by=user) == {
        "body": ["正文太短，至少需要 20 个字。"]
    }


def test_news_cannot_be_marked_fiction():
    user, writer = _creator()
    item = _draft(writer, is_news=True, is_fiction=True, source="新华社")
    assert _refused(workflow.submit, item, by=user) == {"is_news": ["新闻资讯不能同时标为虚构/演绎。"]}


def test_an_inactive_channel_is_refused():
    user, writer = _creator()
    item = _draft(writer, "travel")
    item.channel.is_active = False
    item.channel.save()
    assert _refused(workflow.submit, item, by=user) == {"channel": ["频道“旅游”已停用，请换一个频道。"]}


def test_the_finance_channel_needs_a_finance_credential():
    user, writer = _creator(field="tech", credential_name="高级工程师", credential_expires_on=TODAY())
    assert _refused(workflow.submit, _draft(writer, "finance"), by=user) == {
        "channel": ["“财经”领域需要经过平台认证的相关资质才能发布，请先提交资质。"]
    }
    user, writer = _finance_writer()
    assert _row(workflow.submit(_draft(writer, "finance"), by=user)).status == Status.PENDING


def test_a_regulated_author_needs_the_credential_in_every_channel():
    user, writer = _creator(field="health")
    assert "channel" in _refused(workflow.submit, _draft(writer, "tech"), by=user)


def test_an_unregulated_author_in_an_unregulated_channel_needs_no_credential():
    user, writer = _creator(field="travel")
    assert _row(workflow.submit(_draft(writer, "travel"), by=user)).status == Status.PENDING


def test_an_expired_credential_pauses_publishing_until_an_editor_renews_it():
    user, writer = _finance_writer(expires_in_days=-1, badge=Badge.QUALITY)
    item = _draft(writer, "finance")
    yesterday = (TODAY() - timedelta(days=1)).isoformat()
    assert _refused(workflow.submit, item, by=user) == {
        "channel": [f"你的资质“理财规划师资格”已于 {yesterday} 过期，“财经”领域的发布已暂停；编辑为你续期后即可恢复。"]
    }
    assert _refused(workflow.submit, _draft(writer, "tech"), by=user)  # the author's own field pauses too
    assert _row(item).status == Status.DRAFT

    editor = _user("editor", editor=True)
    with pytest.raises(ValidationError):
        workflow.renew_credential(writer, by=editor, name="理财规划师资格", expires_on=TODAY() - timedelta(days=1))
    workflow.renew_credential(writer, by=editor, name="理财规划师资格", expires_on=TODAY() + timedelta(days=365))
    assert _row(workflow.submit(_row(item), by=user)).status == Status.PUBLISHED


def test_a_credential_that_expires_on_today_still_counts():
    user, writer = _finance_writer(expires_in_days=0)
    assert _row(workflow.submit(_draft(writer, "finance"), by=user)).status == Status.PENDING


def test_ai_generated_pictures_must_carry_the_ai_label():
    user, writer = _creator()
    fake = factories.image(account=writer, alt="合成的城市", is_ai_generated=True, label="file")
    item = _draft(writer, body=f'<p>{"正文内容足够长。" * 5}</p><img data-image="{fake.pk}">')
    assert _refused(workflow.submit, item, by=user) == {"images": ["AI生成的图片必须标注“AI生成”：合成的城市。"]}
    fake.label = "ai"
    fake.save()
    assert _row(workflow.submit(item, by=user)).status == Status.PENDING


def test_an_ai_generated_cover_must_carry_the_ai_label():
    user, writer = _creator()
    cover = factories.image(account=writer, alt="AI封面", is_ai_generated=True, label="illustration")
    assert _refused(workflow.submit, _draft(writer, cover=cover), by=user) == {
        "images": ["AI生成的图片必须标注“AI生成”：AI封面。"]
    }


def test_every_reason_is_given_at_once():
    user, writer = _creator()
    errors = _refused(
        workflow.submit, _draft(writer, "military", body="<p>短</p>", is_news=True, is_fiction=True), by=user
    )
    assert set(errors) == {"source", "body", "is_news"}


# --- who may do what ----------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["anonymous", "reader", "other creator", "editor"])
def test_only_the_author_may_submit(who):
    _author, writer = _creator()
    item = _draft(writer)
    actor = {
        "anonymous": lambda: AnonymousUser(),
        "reader": lambda: _user("reader"),
        "other creator": lambda: _creator("other")[0],
        "editor": lambda: _user("editor", editor=True),
    }[who]()
    with pytest.raises(PermissionDenied):
        workflow.submit(item, by=actor)
    assert _row(item).status == Status.DRAFT


def _pending() -> Article:
    user, writer = _creator("author")
    return workflow.submit(_draft(writer), by=user)


def _post_reviewed() -> Article:
    user, writer = _creator("author", badge=Badge.QUALITY)
    return workflow.submit(_draft(writer), by=user)


EDITOR_ACTIONS = {
    "approve": lambda a, by: workflow.approve(a, by=by),
    "reject": lambda a, by: workflow.reject(a, by=by, reason="不合适"),
    "mark_reviewed": lambda a, by: workflow.mark_reviewed(a, by=by),
    "remove": lambda a, by: workflow.remove(a, by=by, reason="违规"),
    "grant_badge": lambda a, by: workflow.grant_badge(a.account, by=by, badge=Badge.CERTIFIED, reason="优秀"),
    "renew_credential": lambda a, by: workflow.renew_credential(
        a.account, by=by, name="执业医师资格", expires_on=TODAY() + timedelta(days=9)
    ),
}


@pytest.mark.parametrize("action", EDITOR_ACTIONS)
@pytest.mark.parametrize("who", ["anonymous", "reader", "author", "other creator"])
def test_only_editors_decide(action, who):
    item = _post_reviewed() if action == "mark_reviewed" else _pending()
    actor = {
        "anonymous": lambda: AnonymousUser(),
        "reader": lambda: _user("reader"),
        "author": lambda: item.account.owner,
        "other creator": lambda: _creator("other", badge=Badge.CERTIFIED)[0],
    }[who]()
    before = (Article.objects.values().get(pk=item.pk), Account.objects.values().get(pk=item.account_id))
    with pytest.raises(PermissionDenied):
        EDITOR_ACTIONS[action](item, actor)
    after = (Article.objects.values().get(pk=item.pk), Account.objects.values().get(pk=item.account_id))
    assert after == before
    assert not AuditEntry.objects.exists()


def test_editors_in_the_editors_group_decide_too():
    from django.contrib.auth.models import Group

    editor = _user("groupie")
    editor.groups.add(Group.objects.get_or_create(name="editors")[0])
    item = _pending()
    assert _row(workflow.approve(item, by=editor)).status == Status.PUBLISHED


# --- editor decisions and their audit entries ---------------------------------------------------


def _entry(article_or_account, action: str) -> AuditEntry:
    return AuditEntry.objects.get(action=action, target_id=str(article_or_account.pk))


def test_approve_publishes_and_is_audited():
    editor = _user("editor", editor=True)
    item = workflow.approve(_pending(), by=editor)
    row = _row(item)
    assert row.status == Status.PUBLISHED and row.published_at is not None
    entry = _entry(item, "article.approve")
    assert (entry.actor, entry.target_type, entry.before["status"], entry.after["status"]) == (
        editor,
        "articles.article",
        "pending",
        "published",
    )


def test_approve_keeps_the_authors_time():
    user, writer = _creator()
    at = timezone.now() + timedelta(hours=3)
    item = workflow.submit(_draft(writer), by=user, at=at)
    workflow.approve(item, by=_user("editor", editor=True))
    row = _row(item)
    assert (row.status, row.scheduled_at, row.published_at) == (Status.SCHEDULED, at, None)
    assert _entry(item, "article.approve").after["status"] == "scheduled"


def test_approve_refuses_what_broke_a_rule_meanwhile():
    user, writer = _finance_writer()
    item = workflow.submit(_draft(writer, "finance"), by=user)
    Account.objects.filter(pk=writer.pk).update(credential_expires_on=TODAY() - timedelta(days=1))
    item = _row(item)
    assert "channel" in _refused(workflow.approve, item, by=_user("editor", editor=True))
    assert _row(item).status == Status.PENDING and not AuditEntry.objects.exists()


def test_only_pending_articles_can_be_approved():
    editor = _user("editor", editor=True)
    item = workflow.approve(_pending(), by=editor)
    with pytest.raises(ValidationError):
        workflow.approve(item, by=editor)
    assert AuditEntry.objects.filter(action="article.approve").count() == 1


def test_reject_needs_a_reason_which_the_creator_sees():
    editor = _user("editor", editor=True)
    item = _pending()
    assert _refused(workflow.reject, item, by=editor, reason="  ") == {"reason": ["请填写不通过的原因。"]}
    assert _refused(workflow.reject, item, by=editor, reason="长" * 301) == {"reason": ["原因最多 300 个字。"]}
    workflow.reject(item, by=editor, reason=" 标题与内容不符 ")
    row = _row(item)
    assert (row.status, row.removal_reason) == (Status.REJECTED, "标题与内容不符")
    entry = _entry(item, "article.reject")
    assert (entry.reason, entry.before["status"], entry.after["status"]) == ("标题与内容不符", "pending", "rejected")


def test_mark_reviewed_empties_the_post_review_queue():
    editor = _user("editor", editor=True)
    item = _post_reviewed()
    workflow.mark_reviewed(item, by=editor)
    assert _row(item).needs_review is False
    entry = _entry(item, "article.reviewed")
    assert (entry.before["needs_review"], entry.after["needs_review"]) == (True, False)
    with pytest.raises(ValidationError):  # twice: nothing left to review
        workflow.mark_reviewed(item, by=editor)
    with pytest.raises(ValidationError):  # an article nobody published at once is not in that queue
        workflow.mark_reviewed(_pending(), by=editor)


def test_remove_takes_the_article_down_with_a_reason_readers_see(client, django_capture_on_commit_callbacks):
    editor = _user("editor", editor=True)
    item = _post_reviewed()
    assert client.get(item.get_absolute_url()).status_code == 200  # cached for anonymous readers now
    assert _refused(workflow.remove, item, by=editor, reason="") == {"reason": ["下架必须填写原因。"]}
    with django_capture_on_commit_callbacks(execute=True):
        workflow.remove(item, by=editor, reason="经核实含有不实信息")
    row = _row(item)
    assert (row.status, row.needs_review) == (Status.REMOVED, False)
    response = client.get(item.get_absolute_url())
    assert response.status_code == 410 and "经核实含有不实信息" in response.content.decode()
    entry = _entry(item, "article.remove")
    assert (entry.reason, entry.before["status"], entry.after["status"]) == (
        "经核实含有不实信息",
        "published",
        "removed",
    )


def test_grant_badge_is_audited_and_shown_on_the_author_card(client, django_capture_on_commit_callbacks):
    editor = _user("editor", editor=True)
    _u, writer = _creator()
    assert "新人" in client.get(writer.get_absolute_url()).content.decode()
    with pytest.raises(ValidationError):
        workflow.grant_badge(writer, by=editor, badge=Badge.QUALITY, reason="")
    with pytest.raises(ValidationError):
        workflow.grant_badge(writer, by=editor, badge=9, reason="乱填")
    with django_capture_on_commit_callbacks(execute=True):
        workflow.grant_badge(writer, by=editor, badge=Badge.QUALITY, reason="连续三月优质原创")
    writer.refresh_from_db()
    assert writer.badge == Badge.QUALITY
    entry = _entry(writer, "account.badge")
    assert (entry.reason, entry.before["badge"], entry.after["badge"]) == ("连续三月优质原创", 0, 2)
    page = client.get(writer.get_absolute_url()).content.decode()  # the cached page was purged
    assert 'class="badge badge-2"' in page and "优质" in page


def test_the_author_card_shows_the_credential_and_when_it_expired(client, django_capture_on_commit_callbacks):
    _u, writer = _finance_writer()
    page = client.get(writer.get_absolute_url()).content.decode()
    assert '<span class="field-tag">财经</span> · <span class="credential-name">理财规划师资格</span>' in page
    assert "资质已过期" not in page
    Account.objects.filter(pk=writer.pk).update(credential_expires_on=TODAY() - timedelta(days=1))
    cache.clear()  # expiry is a date passing, not a write: cached pages catch up within their lifetime
    assert "资质已过期" in client.get(writer.get_absolute_url()).content.decode()
    editor = _user("editor", editor=True)
    writer.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        workflow.renew_credential(writer, by=editor, name="理财规划师资格", expires_on=TODAY() + timedelta(days=400))
    page = client.get(writer.get_absolute_url()).content.decode()
    assert "资质已过期" not in page and "理财规划师资格" in page
    entry = _entry(writer, "account.credential")
    assert entry.after["credential_expires_on"] == (TODAY() + timedelta(days=400)).isoformat()


def test_an_unregulated_author_card_shows_no_credential(client):
    _u, writer = _creator(field="travel")
    page = client.get(writer.get_absolute_url()).content.decode()
    assert "field-tag" not in page and "资质" not in page and "旅游" in page


def test_sensitive_terms_block_publishing_or_send_a_trusted_creator_to_review():
    from masthead.moderation import screening
    from masthead.moderation.models import SensitiveTerm

    SensitiveTerm.objects.create(term="代开发票", action="block")
    SensitiveTerm.objects.create(term="内幕消息", action="review")
    screening.reset()
    user = User.objects.create_user("trusted-writer")
    account = factories.account(owner=user, badge=Badge.QUALITY)
    blocked = factories.article(account_=account, publish=False, title="代 开 发 票，联系我")
    with pytest.raises(ValidationError) as caught:
        workflow.submit(blocked, by=user)
    assert "代开发票" in " ".join(caught.value.message_dict["title"])
    held = factories.article(account_=account, publish=False, body="<p>" + "这里有一条内幕消息。" * 5 + "</p>")
    workflow.submit(held, by=user)
    assert held.status == "pending"  # trusted, but a 'review' term makes an editor look first
