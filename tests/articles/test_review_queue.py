"""The editor's article review pages at /review/articles/: who may see them, the two queues, and the
decisions made there (plain POST forms with CSRF)."""

import itertools
import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from masthead.accounts.models import Account, Badge
from masthead.articles import workflow
from masthead.articles.models import Article
from masthead.moderation.models import AuditEntry
from tests import factories

pytestmark = pytest.mark.django_db
Status = Article.Status
_names = itertools.count(1)


def _user(*, editor: bool = False) -> User:
    n = next(_names)
    return User.objects.create_user(f"u{n}", f"u{n}@example.com", "pw-for-tests-1", is_staff=editor)


def _creator(badge: int = Badge.NEWCOMER, **fields) -> tuple[User, Account]:
    user = _user()
    return user, factories.account(owner=user, badge=badge, **fields)


def _submitted(badge: int = Badge.NEWCOMER, title: str | None = None, **fields) -> Article:
    user, writer = _creator(badge)
    extra = {"title": title} if title else {}
    item = factories.article(publish=False, account_=writer, **extra, **fields)
    return workflow.submit(item, by=user)


def _client(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def editor_client() -> Client:
    return _client(_user(editor=True))


def _status(article: Article) -> str:
    return Article.objects.values_list("status", flat=True).get(pk=article.pk)


# --- who may come in ----------------------------------------------------------------------------

PAGES = [
    ("review_articles:queue", lambda a: []),
    ("review_articles:review", lambda a: [a.pk]),
    ("review_articles:account", lambda a: [a.account.handle]),
]
POSTS = [
    ("review_articles:approve", lambda a: [a.pk], {}),
    ("review_articles:reject", lambda a: [a.pk], {"reject-reason": "不合适"}),
    ("review_articles:reviewed", lambda a: [a.pk], {}),
    ("review_articles:remove", lambda a: [a.pk], {"remove-reason": "违规"}),
    ("review_articles:badge", lambda a: [a.account.handle], {"badge": "3", "reason": "提拔"}),
    (
        "review_articles:credential",
        lambda a: [a.account.handle],
        {"name": "律师执业证", "expires_on": (timezone.localdate() + timedelta(days=30)).isoformat()},
    ),
]


def _visitor(who: str, article: Article) -> User | None:
    return {
        "anonymous": lambda: None,
        "reader": _user,
        "author": lambda: article.account.owner,
        "other creator": lambda: _creator(Badge.CERTIFIED)[0],
    }[who]()


@pytest.mark.parametrize(("name", "args"), PAGES)
@pytest.mark.parametrize("who", ["anonymous", "reader", "author", "other creator", "editor"])
def test_only_editors_see_the_review_pages(name, args, who):
    article = _submitted()
    user = _user(editor=True) if who == "editor" else _visitor(who, article)
    response = _client(user).get(reverse(name, args=args(article)))
    if who == "anonymous":
        assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))
    else:
        assert response.status_code == (200 if who == "editor" else 403)


@pytest.mark.parametrize(("name", "args", "data"), POSTS)
@pytest.mark.parametrize("who", ["anonymous", "reader", "author", "other creator"])
def test_only_editors_can_decide(name, args, data, who):
    article = _submitted(Badge.QUALITY) if name == "review_articles:reviewed" else _submitted()
    before = (Article.objects.values().get(pk=article.pk), Account.objects.values().get(pk=article.account_id))
    response = _client(_visitor(who, article)).post(reverse(name, args=args(article)), data)
    assert response.status_code == (302 if who == "anonymous" else 403)
    assert (Article.objects.values().get(pk=article.pk), Account.objects.values().get(pk=article.account_id)) == before
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize(("name", "args", "data"), POSTS)
def test_decisions_are_posts_with_a_csrf_token(name, args, data):
    article = _submitted()
    client = Client(enforce_csrf_checks=True)
    client.force_login(_user(editor=True))
    assert client.get(reverse(name, args=args(article))).status_code == 405  # never a link
    assert client.post(reverse(name, args=args(article)), data).status_code == 403  # no token
    assert _status(article) == Status.PENDING and not AuditEntry.objects.exists()


# --- the queues ---------------------------------------------------------------------------------


def _ids(html: str, list_id: str) -> list[int]:
    block = re.search(rf'<ol class="queue" id="{list_id}">(.*?)</ol>', html, re.S)
    return [int(n) for n in re.findall(r'data-article="(\d+)"', block.group(1))] if block else []


def test_the_queues_show_pending_oldest_first_and_published_at_once_awaiting_review(editor_client):
    first, second = _submitted(title="先交的稿"), _submitted(title="后交的稿")
    Article.objects.filter(pk=first.pk).update(updated_at=timezone.now() - timedelta(hours=2))
    trusted = _submitted(Badge.QUALITY, title="先发后审的稿")
    factories.article(title="普通已发布")  # published by an editor's import: not in either queue
    html = editor_client.get(reverse("review_articles:queue")).content.decode()
    assert _ids(html, "pending") == [first.pk, second.pk]
    assert _ids(html, "post-review") == [trusted.pk]
    assert "普通已发布" not in html and "待审核（2）" in html and "先发后审（1）" in html


def test_the_queue_page_costs_the_same_however_long_the_queues(editor_client, django_assert_max_num_queries):
    _submitted(), _submitted(Badge.QUALITY)
    editor_client.get(reverse("review_articles:queue"))  # warm the channel navigation fragment
    # session, user, the user menu's account, two counts, two queues; the channel bar is a cached fragment
    with django_assert_max_num_queries(7):
        short = editor_client.get(reverse("review_articles:queue"))
    for _ in range(6):
        _submitted(), _submitted(Badge.QUALITY)
    with django_assert_max_num_queries(7):
        long = editor_client.get(reverse("review_articles:queue"))
    assert len(_ids(long.content.decode(), "pending")) == 7 > len(_ids(short.content.decode(), "pending"))


def test_the_review_page_shows_the_article_as_readers_will(editor_client, django_assert_max_num_queries):
    picture = factories.image(alt="一张图", caption="港口", label="file")
    article = _submitted(
        title="审核页标题",
        body=f'<p>{"正文内容。" * 10}</p><img data-image="{picture.pk}"><script>alert(1)</script>',
        is_original=True,
        source="本地新闻",
    )
    editor_client.get(reverse("review_articles:review", args=[article.pk]))
    # session, user, article, tags, AI-image check, the header's state, audit history, follow button state
    with django_assert_max_num_queries(8):
        html = editor_client.get(reverse("review_articles:review", args=[article.pk])).content.decode()
    assert "审核页标题" in html and 'class="label original"' in html and "本地新闻" in html
    assert "（资料图）" in html and "<script>alert(1)</script>" not in html
    assert reverse("review_articles:approve", args=[article.pk]) in html
    assert 'name="reject-reason"' in html and 'name="remove-reason"' in html
    assert reverse("review_articles:reviewed", args=[article.pk]) not in html  # not published at once
    assert 'name="csrfmiddlewaretoken"' in html


def test_the_account_page_costs_a_fixed_number_of_queries(editor_client, django_assert_max_num_queries):
    article = _submitted()
    workflow.grant_badge(article.account, by=_user(editor=True), badge=Badge.GROWING, reason="进步明显")
    url = reverse("review_articles:account", args=[article.account.handle])
    editor_client.get(url)
    for _ in range(3):
        factories.article(account_=article.account)
    # session, user, the header's state, the account, its recent articles, audit history, follow button state
    with django_assert_max_num_queries(7):
        html = editor_client.get(url).content.decode()
    assert "进步明显" in html and html.count("已发布") >= 3


def test_the_review_page_says_why_an_article_cannot_go_out_now(editor_client):
    user, writer = _creator(field="law", credential_name="律师执业证", credential_expires_on=timezone.localdate())
    article = workflow.submit(factories.article(publish=False, account_=writer), by=user)
    Account.objects.filter(pk=writer.pk).update(credential_expires_on=timezone.localdate() - timedelta(days=1))
    html = editor_client.get(reverse("review_articles:review", args=[article.pk])).content.decode()
    assert "这篇文章现在还不能发布" in html and "过期" in html and "资质已过期" in html


# --- decisions ----------------------------------------------------------------------------------


def test_approve_from_the_review_page(editor_client):
    article = _submitted()
    response = editor_client.post(reverse("review_articles:approve", args=[article.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("review_articles:queue")
    assert f"《{article.title}》已通过并发布。" in response.content.decode()
    assert _status(article) == Status.PUBLISHED
    assert AuditEntry.objects.get(action="article.approve").target_id == str(article.pk)


def test_approving_what_cannot_go_out_says_why(editor_client):
    article = _submitted()
    workflow.approve(article, by=_user(editor=True))
    response = editor_client.post(reverse("review_articles:approve", args=[article.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("review_articles:review", args=[article.pk])
    assert "只有待审核的文章可以通过审核。" in response.content.decode()


def test_reject_needs_a_reason(editor_client):
    article = _submitted()
    url = reverse("review_articles:reject", args=[article.pk])
    response = editor_client.post(url, {"reject-reason": "   "})
    assert response.status_code == 400 and "这个字段是必填项" in response.content.decode()
    assert _status(article) == Status.PENDING
    editor_client.post(url, {"reject-reason": "图文不符，请更换配图"})
    row = Article.objects.get(pk=article.pk)
    assert (row.status, row.removal_reason) == (Status.REJECTED, "图文不符，请更换配图")
    assert AuditEntry.objects.get(action="article.reject").reason == "图文不符，请更换配图"


def test_mark_reviewed_from_the_post_review_queue(editor_client):
    article = _submitted(Badge.CERTIFIED)
    html = editor_client.get(reverse("review_articles:review", args=[article.pk])).content.decode()
    assert reverse("review_articles:reviewed", args=[article.pk]) in html
    editor_client.post(reverse("review_articles:reviewed", args=[article.pk]))
    assert Article.objects.get(pk=article.pk).needs_review is False
    html = editor_client.get(reverse("review_articles:queue")).content.decode()
    assert _ids(html, "post-review") == []


def test_remove_from_the_review_page_shows_readers_a_410(editor_client, client, django_capture_on_commit_callbacks):
    article = _submitted(Badge.QUALITY)
    assert client.get(article.get_absolute_url()).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        editor_client.post(reverse("review_articles:remove", args=[article.pk]), {"remove-reason": "抄袭他人作品"})
    response = client.get(article.get_absolute_url())
    assert response.status_code == 410 and "抄袭他人作品" in response.content.decode()


def test_badge_and_credential_forms_on_the_account_page(editor_client, client, django_capture_on_commit_callbacks):
    _u, writer = _creator(field="finance")
    url = reverse("review_articles:account", args=[writer.handle])
    html = editor_client.get(url).content.decode()
    assert 'name="badge"' in html and 'name="expires_on"' in html and "资质未认证" in html

    assert editor_client.post(reverse("review_articles:badge", args=[writer.handle]), {"badge": "2"}).status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.post(
            reverse("review_articles:badge", args=[writer.handle]),
            {"badge": "2", "reason": "稳定输出原创"},
            follow=True,
        )
    assert "等级调整为“优质”" in response.content.decode()
    writer.refresh_from_db()
    assert writer.badge == Badge.QUALITY

    past = (timezone.localdate() - timedelta(days=1)).isoformat()
    bad = editor_client.post(
        reverse("review_articles:credential", args=[writer.handle]), {"name": "理财规划师", "expires_on": past}
    )
    assert bad.status_code == 400 and "有效期必须是今天或以后的日期。" in bad.content.decode()
    future = (timezone.localdate() + timedelta(days=365)).isoformat()
    with django_capture_on_commit_callbacks(execute=True):
        editor_client.post(
            reverse("review_articles:credential", args=[writer.handle]), {"name": "理财规划师", "expires_on": future}
        )
    writer.refresh_from_db()
    assert (writer.credential_name, writer.credential_expires_on.isoformat()) == ("理财规划师", future)
    assert [e.action for e in AuditEntry.objects.filter(target_id=str(writer.pk))] == [
        "account.credential",
        "account.badge",
    ]
    card = client.get(writer.get_absolute_url()).content.decode()
    assert '财经</span> · <span class="credential-name">理财规划师</span>' in card and "优质" in card
