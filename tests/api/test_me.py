"""/me: who the caller is, and their own lists (follows, favorites, history, notifications, reports),
each page in a fixed number of queries whatever the number of rows."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from masthead.accounts import actions as account_actions
from masthead.accounts.notices import notify
from masthead.accounts.roles import EDITORS_GROUP
from masthead.api.models import Scope
from masthead.articles import workflow
from masthead.engagement import actions, comments
from masthead.engagement.models import ReadingHistory
from masthead.moderation import reports
from tests import factories
from tests.api.conftest import bearer, is_problem, token_for
from tests.api.test_reader_permissions import person

pytestmark = pytest.mark.django_db


def editor():
    user = person("editor")
    user.groups.add(Group.objects.get_or_create(name=EDITORS_GROUP)[0])
    return user


def get(client, url: str, user, *scopes: str, **extra):
    return client.get(url, **bearer(token_for(user, *scopes)), **extra)


# --- who am I ---------------------------------------------------------------------------------------


def test_me_tells_a_reader_who_they_are_and_what_the_token_may_do(client):
    reader = person("reader")
    notify(reader, "test", "未读通知")
    data = get(client, "/api/v1/me", reader, "read", "comment").json()
    assert data == {
        "username": reader.username,
        "creator": False,
        "account": None,
        "editor": False,
        "unread_notifications": 1,
        "auth": "token",
        "scopes": ["read", "comment"],
    }


def test_me_names_a_creators_account_and_an_editors_role(client):
    creator = person("creator")
    account = factories.account(owner=creator, handle="my-hao")
    data = get(client, "/api/v1/me", creator).json()
    assert data["creator"] is True and data["account"]["handle"] == "my-hao"
    assert data["account"]["url"] == f"http://testserver{account.get_absolute_url()}"
    assert get(client, "/api/v1/me", editor()).json()["editor"] is True
    count, _data = _queries(client, "/api/v1/me", bearer(token_for(creator)))
    assert count == 3  # token, the header's state (unread, creator, editor), the account


def test_me_with_the_session_has_every_scope_and_is_never_shared_by_caches():
    reader = person("reader")
    client = Client(enforce_csrf_checks=True)  # a read needs no CSRF token
    client.force_login(reader)
    response = client.get("/api/v1/me")
    assert response.status_code == 200
    assert response.json()["auth"] == "session" and response.json()["scopes"] == list(Scope.values)
    assert "private" in response["Cache-Control"] and "Cookie" in response["Vary"]


@pytest.mark.parametrize("section", ["", "/follows", "/favorites", "/history", "/notifications", "/reports"])
def test_reads_need_a_caller_and_the_read_scope(client, section):
    url = "/api/v1/me" + section
    assert is_problem(client.get(url), 401, "not_authenticated")
    refused = get(client, url, person("r"), "comment", "drafts", "publish", "review")
    assert is_problem(refused, 403, "scope_missing") and refused.json()["scope"] == "read"


# --- lists and their query budgets ------------------------------------------------------------------


def _queries(client, url: str, token: dict) -> tuple[int, dict]:
    client.get(url, **token)  # the token's last use is written at most once a minute: not in the count
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, **token)
    assert response.status_code == 200, response.content
    return len(captured), response.json()


def _articles(n: int) -> list:
    return [factories.article() for _ in range(n)]


def test_follows_newest_first_paginated_in_fixed_queries(client):
    reader = person("reader")
    token = bearer(token_for(reader, "read"))
    accounts = [factories.account() for _ in range(6)]
    for account in accounts[:3]:
        account_actions.follow(reader, account)
    small, _ = _queries(client, "/api/v1/me/follows", token)
    for account in accounts[3:]:
        account_actions.follow(reader, account)
    large, data = _queries(client, "/api/v1/me/follows", token)
    assert small == large == 3  # token, count, rows
    assert data["count"] == 6 and data["items"][0]["account"]["handle"] == accounts[-1].handle
    page = client.get("/api/v1/me/follows?size=4&page=2", **token).json()
    assert (page["count"], page["page"], page["size"], page["has_next"], len(page["items"])) == (6, 2, 4, False, 2)
    assert client.get("/api/v1/me/follows?size=4", **token).json()["has_next"] is True
    assert client.get("/api/v1/me/follows?page=9", **token).json()["items"] == []


def test_favorites_show_readable_articles_in_full_and_others_by_title(client):
    reader = person("reader")
    token = bearer(token_for(reader, "read"))
    articles = _articles(6)
    for article in articles[:3]:
        actions.favorite(reader, article)
    small, _ = _queries(client, "/api/v1/me/favorites", token)
    for article in articles[3:]:
        actions.favorite(reader, article)
    workflow.remove(articles[0], by=editor(), reason="失实")
    large, data = _queries(client, "/api/v1/me/favorites", token)
    assert small == large == 3
    newest, oldest = data["items"][0], data["items"][-1]
    assert newest["article_id"] == articles[-1].pk and newest["readable"] is True
    assert newest["article"]["title"] == articles[-1].title and newest["article"]["channel"]["slug"]
    assert (oldest["article_id"], oldest["readable"], oldest["article"]) == (articles[0].pk, False, None)
    assert oldest["title"] == articles[0].title


def test_history_lists_reads_and_can_be_deleted_one_by_one_or_all(client):
    reader = person("reader")
    token = bearer(token_for(reader))
    articles = _articles(6)
    now = timezone.now()
    for n, article in enumerate(articles[:3]):
        ReadingHistory.objects.create(user=reader, article=article, read_at=now - timedelta(minutes=10 - n))
    small, _ = _queries(client, "/api/v1/me/history", token)
    for n, article in enumerate(articles[3:]):
        ReadingHistory.objects.create(user=reader, article=article, read_at=now - timedelta(minutes=5 - n))
    large, data = _queries(client, "/api/v1/me/history", token)
    assert small == large == 3
    assert [i["article_id"] for i in data["items"]] == [a.pk for a in reversed(articles)]
    assert client.delete(f"/api/v1/me/history/{articles[0].pk}", **token).status_code == 204
    assert ReadingHistory.objects.filter(user=reader).count() == 5
    other = person("other")
    ReadingHistory.objects.create(user=other, article=articles[1], read_at=now)
    assert client.delete("/api/v1/me/history", **token).status_code == 204
    assert not ReadingHistory.objects.filter(user=reader).exists()
    assert ReadingHistory.objects.filter(user=other).exists()  # only the caller's own history


def test_notifications_list_unread_and_are_marked_read(client):
    reader = person("reader")
    token = bearer(token_for(reader, "read"))
    for n in range(3):
        notify(reader, "test", f"通知{n}", "/a/1/")
    small, _ = _queries(client, "/api/v1/me/notifications", token)
    notes = [notify(reader, "test", f"通知{n}") for n in range(3, 6)]
    large, data = _queries(client, "/api/v1/me/notifications", token)
    assert small == large == 4  # token, count, rows, unread
    assert data["unread"] == 6 and data["items"][0]["text"] == "通知5" and data["items"][0]["read"] is False
    assert data["items"][-1]["link"] == "http://testserver/a/1/" and data["items"][0]["link"] is None
    others = notify(person("other"), "test", "别人的")
    assert client.post(f"/api/v1/me/notifications/{others.pk}/read", **token).json() == {"marked": 0}
    assert client.post(f"/api/v1/me/notifications/{notes[0].pk}/read", **token).json() == {"marked": 1}
    assert client.post("/api/v1/me/notifications/read", **token).json() == {"marked": 5}
    assert client.get("/api/v1/me/notifications", **token).json()["unread"] == 0
    others.refresh_from_db()
    assert others.read_at is None


def test_my_reports_show_their_outcome_in_fixed_queries(client):
    reader = person("reader")
    token = bearer(token_for(reader, "read"))
    articles = _articles(3)
    comment_article = factories.article()
    comment = comments.post_comment(person("writer"), comment_article, "广告", client_token="c")
    reports.file_report(reader, articles[0], "spam")
    small, _ = _queries(client, "/api/v1/me/reports", token)
    reports.file_report(reader, articles[1], "false", "不实")
    reports.file_report(reader, comment, "spam")
    reports.file_report(reader, articles[2].account, "other")
    reports.decide(articles[1], by=editor(), outcome="dismissed", decision="未发现问题")
    large, data = _queries(client, "/api/v1/me/reports", token)
    assert small == large == 3
    by_type = {(i["target_type"], i["target_id"]): i for i in data["items"]}
    assert set(by_type) == {
        ("article", articles[0].pk),
        ("article", articles[1].pk),
        ("comment", comment.pk),
        ("account", articles[2].account_id),
    }
    dismissed = by_type[("article", articles[1].pk)]
    assert (dismissed["status"], dismissed["status_text"], dismissed["decision"]) == (
        "dismissed",
        "未发现违规",
        "未发现问题",
    )
    assert dismissed["decided_at"] is not None and articles[1].title in dismissed["target_title"]
    assert by_type[("comment", comment.pk)]["target_title"] == "跟帖“广告”"
    assert get(client, "/api/v1/me/reports", person("other"), "read").json()["count"] == 0


@pytest.mark.parametrize("query", ["size=0", "size=101", "page=0", "page=10001", "size=abc"])
def test_page_parameters_out_of_bounds_are_a_400_naming_them(client, query):
    response = get(client, f"/api/v1/me/follows?{query}", person("r"), "read")
    assert is_problem(response, 400, "invalid") and response.json()["errors"][0]["field"] in query
