"""The editors' desk over the API: the article queue and its decisions, reports grouped by target, held
comments. Every decision is audited as on the web; every role and scope is checked; lists have a fixed
query count; a refused call changes nothing."""

import itertools
import json
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone
from django.utils.crypto import get_random_string

from masthead.accounts.models import Badge, Notification
from masthead.accounts.roles import EDITORS_GROUP
from masthead.api.models import Scope
from masthead.articles import actions, workflow
from masthead.articles.models import Article
from masthead.engagement import comments
from masthead.engagement.models import Comment
from masthead.moderation import reports, screening
from masthead.moderation.models import AuditEntry, Report
from tests import factories
from tests.api.conftest import bearer, is_problem, make_user, post_json, token_for

pytestmark = pytest.mark.django_db

API = "/api/v1/review"
LONG = "<p>" + "这是一段足够长的正文，用来满足发布的最低字数。" * 2 + "</p>"
ROLES = ("anonymous", "reader", "owner", "other_creator", "editor")
_tokens = itertools.count(1)


def _editor(prefix: str = "editor"):
    user = make_user(prefix)
    user.groups.add(Group.objects.get_or_create(name=EDITORS_GROUP)[0])
    return user


def _pending(account, **fields) -> Article:
    article = factories.article(publish=False, account_=account, body=fields.pop("body", LONG), **fields)
    actions.submit_for_review(article)
    return article


def _held(article, writer=None) -> Comment:
    return comments.post_comment(
        writer or make_user("writer"), article, "需要代购的私信我", client_token=f"held-{next(_tokens)}"
    )


@dataclass
class World:
    users: dict
    pending: Article
    post_review: Article
    published: Article
    held: Comment


def build_world() -> World:
    """A new creator's pending article, a trusted creator's article published at once, a reported
    published article, a held comment, and users in every role."""
    editor = _editor()
    screening.add_terms("代购", screening.REVIEW, editor)
    owner = make_user("owner")
    account = factories.account(owner=owner)
    other = make_user("other")
    trusted = factories.account(owner=other, badge=Badge.QUALITY)
    reader = make_user("reader")
    pending = _pending(account, title="等审核的文章")
    post_review = factories.article(publish=False, account_=trusted, body=LONG)
    workflow.submit(post_review, by=other)
    published = factories.article(account_=account)
    reports.file_report(reader, published, "false", "标题夸大")
    held = _held(published, reader)
    users = {"anonymous": None, "reader": reader, "owner": owner, "other_creator": other, "editor": editor}
    return World(users, pending, post_review, published, held)


def snapshot() -> tuple:
    """Everything an editor's decision can change."""
    return (
        sorted(Article.objects.values_list("pk", "status", "needs_review", "removal_reason")),
        sorted(Comment.objects.values_list("pk", "status", "removal_reason")),
        sorted(Report.objects.values_list("pk", "status")),
        AuditEntry.objects.count(),
    )


def _as_editor(world: World, *scopes: str) -> dict:
    return bearer(token_for(world.users["editor"], *scopes))


def _audit(action: str, target) -> AuditEntry:
    return AuditEntry.objects.get(action=action, target_type=target._meta.label_lower, target_id=str(target.pk))


def _warm(client, auth) -> None:
    """The first call stamps the token's last use (once in a while); not part of what a list costs."""
    assert client.get(f"{API}/articles?page=999", **auth).status_code == 200


# --- articles ----------------------------------------------------------------------------------------


def test_the_queue_is_the_review_pages_oldest_first(client):
    world = build_world()
    later = _pending(world.pending.account, title="后来的文章")
    auth = _as_editor(world, "review")
    body = client.get(f"{API}/articles", **auth).json()
    assert [i["id"] for i in body["items"]] == [world.pending.pk, later.pk] and body["count"] == 2
    assert body["items"][0]["account"]["handle"] == world.pending.account.handle
    after = client.get(f"{API}/articles?queue=post_review", **auth).json()
    assert [i["id"] for i in after["items"]] == [world.post_review.pk] and after["items"][0]["needs_review"]
    assert is_problem(client.get(f"{API}/articles?queue=everything", **auth), 400, "invalid")


@pytest.mark.parametrize("extra", [0, 35])
def test_the_queues_cost_the_same_queries_however_long(client, django_assert_num_queries, extra):
    world = build_world()
    reporter = world.users["reader"]
    visible = comments.post_comment(world.users["owner"], world.published, "作者的跟帖", client_token="mine")
    reports.file_report(reporter, visible, "harass")
    reports.file_report(reporter, world.post_review.account, "other")
    for _ in range(extra):
        _pending(world.pending.account)
        _held(world.published)
        reports.file_report(make_user("reader"), factories.article(account_=world.pending.account), "spam")
    auth = _as_editor(world, "review")
    _warm(client, auth)
    # the token, the editor check, the count, one page of rows
    with django_assert_num_queries(4):
        assert client.get(f"{API}/articles", **auth).status_code == 200
    with django_assert_num_queries(4):
        assert client.get(f"{API}/comments", **auth).status_code == 200
    # the token, the editor check, the count, the groups, articles, comments, accounts, categories
    with django_assert_num_queries(8):
        assert client.get(f"{API}/reports", **auth).status_code == 200


def test_an_article_for_review_shows_what_would_stop_it(client):
    world = build_world()
    short = _pending(world.pending.account, body="<p>太短</p>")
    body = client.get(f"{API}/articles/{short.pk}", **_as_editor(world)).json()
    assert body["status"] == "pending" and body["body_html"] == "<p>太短</p>"
    assert any("正文太短" in p for p in body["problems"])


def test_approving_publishes_and_is_audited(client):
    world = build_world()
    editor = world.users["editor"]
    response = client.post(f"{API}/articles/{world.pending.pk}/approve", **_as_editor(world, "review"))
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "published" and response.json()["published_at"]
    entry = _audit("article.approve", world.pending)
    assert entry.actor == editor and entry.before["status"] == "pending" and entry.after["status"] == "published"
    assert client.get(f"/a/{world.pending.pk}/").status_code == 200
    again = client.post(f"{API}/articles/{world.pending.pk}/approve", **_as_editor(world))
    assert is_problem(again, 409, "wrong_status") and again.json()["current_status"] == "published"
    assert AuditEntry.objects.filter(action="article.approve").count() == 1


def test_approving_keeps_the_time_the_author_asked_for(client):
    world = build_world()
    at = timezone.now() + timedelta(days=1)
    article = factories.article(publish=False, account_=world.pending.account, body=LONG)
    workflow.submit(article, by=world.users["owner"], at=at)
    response = client.post(f"{API}/articles/{article.pk}/approve", **_as_editor(world))
    assert response.json()["status"] == "scheduled"


def test_an_article_that_cannot_go_out_is_not_approved(client):
    world = build_world()
    short = _pending(world.pending.account, body="<p>太短</p>")
    response = client.post(f"{API}/articles/{short.pk}/approve", **_as_editor(world))
    assert is_problem(response, 400, "not_publishable") and response.json()["errors"][0]["field"] == "body"
    assert Article.objects.get(pk=short.pk).status == Article.Status.PENDING
    assert not AuditEntry.objects.filter(action="article.approve").exists()


def test_rejecting_tells_the_author_why_and_is_audited(client):
    world = build_world()
    url = f"{API}/articles/{world.pending.pk}/reject"
    for empty in ({}, {"reason": ""}, {"reason": "   "}):
        refused = post_json(client, url, empty, **_as_editor(world))
        assert is_problem(refused, 400) and refused.json()["errors"][0]["field"] == "reason"
    assert is_problem(post_json(client, url, {"reason": "长" * 301}, **_as_editor(world)), 400)
    assert Article.objects.get(pk=world.pending.pk).status == Article.Status.PENDING
    assert is_problem(post_json(client, url, {"reason": "标题\x00"}, **_as_editor(world)), 400, "invalid_characters")
    response = post_json(client, url, {"reason": "  标题与内容\n不符  "}, **_as_editor(world))
    assert response.status_code == 200 and response.json()["reason"] == "标题与内容 不符"
    assert _audit("article.reject", world.pending).reason == "标题与内容 不符"
    # The author reads the reason in their studio.
    mine = client.get(f"/api/v1/studio/articles/{world.pending.pk}", **bearer(token_for(world.users["owner"], "read")))
    assert mine.json()["status"] == "rejected" and mine.json()["reason"] == "标题与内容 不符"


def test_removing_takes_an_article_down_and_is_audited(client):
    world = build_world()
    url = f"{API}/articles/{world.published.pk}/remove"
    response = post_json(client, url, {"reason": "内容失实"}, **_as_editor(world))
    assert response.status_code == 200 and response.json()["status"] == "removed"
    assert client.get(f"/a/{world.published.pk}/").status_code == 410
    assert _audit("article.remove", world.published).reason == "内容失实"
    again = post_json(client, url, {"reason": "再下架一次"}, **_as_editor(world))
    assert is_problem(again, 409, "wrong_status")


def test_marking_reviewed_leaves_the_after_review_queue(client):
    world = build_world()
    response = client.post(f"{API}/articles/{world.post_review.pk}/reviewed", **_as_editor(world))
    assert response.status_code == 200 and response.json()["needs_review"] is False
    assert _audit("article.reviewed", world.post_review).actor == world.users["editor"]
    assert is_problem(client.post(f"{API}/articles/{world.pending.pk}/reviewed", **_as_editor(world)), 409)


def test_an_unknown_article_is_not_found(client):
    world = build_world()
    assert is_problem(client.post(f"{API}/articles/999999/approve", **_as_editor(world)), 404, "not_found")
    assert is_problem(client.get(f"{API}/articles/999999", **_as_editor(world)), 404)


# --- reports -----------------------------------------------------------------------------------------


def test_reports_are_grouped_by_target(client):
    world = build_world()
    for category in ("false", "spam"):
        reports.file_report(make_user("reader"), world.published, category)
    body = client.get(f"{API}/reports", **_as_editor(world)).json()
    assert body["count"] == 1
    group = body["items"][0]
    assert group["target_type"] == "article" and group["target_id"] == world.published.pk and group["count"] == 3
    assert group["categories"][0] == {"label": "虚假信息", "count": 2}
    assert group["url"].endswith(f"/a/{world.published.pk}/")


def test_upholding_with_a_take_down_decides_every_report_and_is_audited(client):
    world = build_world()
    second = make_user("reader")
    reports.file_report(second, world.published, "spam")
    data = {"target_type": "article", "target_id": world.published.pk, "outcome": "upheld", "decision": "确属失实"}
    response = post_json(client, f"{API}/reports/decide", {**data, "take_down": True}, **_as_editor(world))
    assert response.status_code == 200, response.content
    assert len(response.json()["decided"]) == 2
    assert set(Report.objects.values_list("status", flat=True)) == {"upheld"}
    article = Article.objects.get(pk=world.published.pk)
    assert article.status == Article.Status.REMOVED and article.removal_reason == "确属失实"
    entry = _audit("report.uphold", world.published)
    assert entry.reason == "确属失实" and entry.after["taken_down"] is True
    assert Notification.objects.filter(user=second, kind="report").exists()
    # A second editor, a moment later.
    late = post_json(client, f"{API}/reports/decide", data, **_as_editor(world))
    assert is_problem(late, 409, "nothing_open")


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"decision": ""}, 400, "decision"),
        ({"decision": " \t "}, 400, "decision"),
        ({"outcome": "dismissed", "take_down": True}, 400, "take_down"),
        ({"outcome": "maybe"}, 400, "outcome"),
        ({"target_type": "image"}, 400, "target_type"),
        ({"target_id": 999999}, 404, None),
    ],
)
def test_a_bad_decision_is_refused(client, change, status, field):
    world = build_world()
    data = {"target_type": "article", "target_id": world.published.pk, "outcome": "upheld", "decision": "属实"}
    before = snapshot()
    response = post_json(client, f"{API}/reports/decide", {**data, **change}, **_as_editor(world))
    assert is_problem(response, status), response.content
    if field:
        assert field in {e["field"] for e in response.json()["errors"]}
    assert snapshot() == before


def test_an_editor_does_not_decide_reports_on_their_own_content(client):
    world = build_world()
    editor = world.users["editor"]
    own = factories.article(account_=factories.account(owner=editor))
    reports.file_report(world.users["reader"], own, "spam")
    data = {"target_type": "article", "target_id": own.pk, "outcome": "dismissed", "decision": "没问题"}
    response = post_json(client, f"{API}/reports/decide", data, **_as_editor(world))
    assert is_problem(response, 403, "forbidden")
    assert Report.objects.get(article=own).status == "open"


# --- held comments -----------------------------------------------------------------------------------


def test_held_comments_are_listed_oldest_first(client):
    world = build_world()
    second = _held(world.published)
    body = client.get(f"{API}/comments", **_as_editor(world)).json()
    assert [c["id"] for c in body["items"]] == [world.held.pk, second.pk]
    assert body["items"][0]["article"]["id"] == world.published.pk and body["items"][0]["status"] == "held"
    other = factories.article(account_=world.pending.account)
    assert client.get(f"{API}/comments?article={other.pk}", **_as_editor(world)).json()["count"] == 0


def test_approving_a_held_comment_is_audited(client):
    world = build_world()
    response = client.post(f"{API}/comments/{world.held.pk}/approve", **_as_editor(world))
    assert response.status_code == 200 and response.json()["status"] == "visible"
    assert _audit("comment.approve", world.held).actor == world.users["editor"]
    assert Article.objects.get(pk=world.published.pk).comment_count == 1


def test_refusing_a_held_comment_needs_a_reason_and_is_audited(client):
    world = build_world()
    url = f"{API}/comments/{world.held.pk}/reject"
    refused = post_json(client, url, {"reason": " "}, **_as_editor(world))
    assert is_problem(refused, 400) and refused.json()["errors"][0]["field"] == "reason"
    response = post_json(client, url, {"reason": "广告"}, **_as_editor(world))
    assert response.status_code == 200 and response.json() == {
        "id": world.held.pk, "status": "removed", "status_text": "已移除", "removal_reason": "广告",
    }  # fmt: skip
    assert _audit("comment.reject", world.held).reason == "广告"


def test_a_visible_comment_is_not_in_the_held_queue(client):
    world = build_world()
    visible = comments.post_comment(make_user("writer"), world.published, "写得好", client_token="ok")
    response = post_json(client, f"{API}/comments/{visible.pk}/reject", {"reason": "无"}, **_as_editor(world))
    assert is_problem(response, 409, "wrong_status")
    assert Comment.objects.get(pk=visible.pk).status == Comment.Status.VISIBLE


# --- who may ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: object  # World -> str
    body: object = None  # World -> dict | None


WRITES = [
    Endpoint("approve", "post", lambda w: f"{API}/articles/{w.pending.pk}/approve"),
    Endpoint("reject", "post", lambda w: f"{API}/articles/{w.pending.pk}/reject", lambda w: {"reason": "不通过"}),
    Endpoint("remove", "post", lambda w: f"{API}/articles/{w.published.pk}/remove", lambda w: {"reason": "下架"}),
    Endpoint("reviewed", "post", lambda w: f"{API}/articles/{w.post_review.pk}/reviewed"),
    Endpoint(
        "decide",
        "post",
        lambda w: f"{API}/reports/decide",
        lambda w: {"target_type": "article", "target_id": w.published.pk, "outcome": "dismissed", "decision": "无违规"},
    ),
    Endpoint("approve comment", "post", lambda w: f"{API}/comments/{w.held.pk}/approve"),
    Endpoint("reject comment", "post", lambda w: f"{API}/comments/{w.held.pk}/reject", lambda w: {"reason": "广告"}),
]
READS = [
    Endpoint("article queue", "get", lambda w: f"{API}/articles"),
    Endpoint("article", "get", lambda w: f"{API}/articles/{w.pending.pk}"),
    Endpoint("report queue", "get", lambda w: f"{API}/reports"),
    Endpoint("comment queue", "get", lambda w: f"{API}/comments"),
]
ENDPOINTS = WRITES + READS
IDS = [e.name for e in ENDPOINTS]


def call(client: Client, endpoint: Endpoint, world: World, **extra):
    body = endpoint.body(world) if endpoint.body else None
    kwargs = {"data": json.dumps(body), "content_type": "application/json"} if body is not None else {}
    return getattr(client, endpoint.method)(endpoint.path(world), **kwargs, **extra)


def test_the_tables_cover_every_operation_of_the_review_router():
    from masthead.api import review

    declared = set()
    for path, view in review.router.path_operations.items():
        for operation in view.operations:
            declared |= {(m, path) for m in operation.methods}
    assert len(declared) == len(ENDPOINTS)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
def test_only_editors_are_let_in(client, endpoint, role):
    world = build_world()
    user = world.users[role]
    before = snapshot()
    response = call(client, endpoint, world, **(bearer(token_for(user)) if user else {}))
    if user is None:
        assert is_problem(response, 401, "not_authenticated")
    elif role == "editor":
        assert response.status_code == 200, response.content.decode()
    else:
        assert is_problem(response, 403, "not_editor") and response.json()["detail"]
    if response.status_code >= 400:
        assert snapshot() == before
    if role == "editor" and endpoint in WRITES:
        assert AuditEntry.objects.count() == before[-1] + 1  # exactly one entry per decision


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
def test_an_editors_token_needs_the_review_scope(client, endpoint):
    world = build_world()
    before = snapshot()
    others = [s for s in Scope.values if s != "review"]
    refused = call(client, endpoint, world, **_as_editor(world, *others))
    assert is_problem(refused, 403, "scope_missing") and refused.json()["scope"] == "review"
    assert snapshot() == before
    assert call(client, endpoint, world, **_as_editor(world, "review")).status_code == 200


@pytest.mark.parametrize("endpoint", WRITES, ids=[e.name for e in WRITES])
def test_the_session_needs_its_csrf_token(endpoint):
    world = build_world()
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users["editor"])
    secret = get_random_string(32)
    client.cookies["csrftoken"] = secret
    before = snapshot()
    assert is_problem(call(client, endpoint, world), 403, "csrf_failed")
    assert snapshot() == before
    assert call(client, endpoint, world, HTTP_X_CSRFTOKEN=secret).status_code == 200
