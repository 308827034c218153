"""Who may call each reader write of the API: every endpoint against every role, token scopes, revoked
tokens, and the session with and without its CSRF token. A refused call changes nothing."""

import itertools
import json
from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import resolve
from django.utils.crypto import get_random_string

from masthead.accounts.models import Follow, Notification
from masthead.accounts.notices import notify
from masthead.accounts.roles import EDITORS_GROUP
from masthead.api import tokens
from masthead.api.models import AccessToken, Scope
from masthead.articles import workflow
from masthead.engagement import comments
from masthead.engagement.models import ArticleLike, Comment, CommentLike, Favorite, ReadingHistory
from masthead.moderation.models import Appeal, Report
from tests import factories
from tests.api.conftest import bearer, is_problem, token_for

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "reader", "other_creator", "owner", "editor")
_n = itertools.count(1)


def person(prefix: str):
    """A user without a password: hashing one (argon2) for every user would make these tests slow."""
    n = next(_n)
    return get_user_model().objects.create_user(f"{prefix}-p{n}", f"{prefix}-p{n}@example.com")


@dataclass
class World:
    """An owner (a creator) with a published article and a comment of theirs under it, a removed
    article and a removed comment (theirs to appeal), and users in every other role."""

    users: dict
    article: object
    comment: object
    removed_article: object
    removed_comment: object
    notification: object


def build_world() -> World:
    owner = person("owner")
    account = factories.account(owner=owner, handle=f"owner-{owner.pk}")
    other = person("other")
    factories.account(owner=other)
    editor = person("editor")
    editor.groups.add(Group.objects.get_or_create(name=EDITORS_GROUP)[0])
    reader = person("reader")
    article = factories.article(account_=account)
    comment = comments.post_comment(owner, article, "作者本人的跟帖", client_token="c1")
    removed_comment = comments.post_comment(owner, article, "将被移除的跟帖", client_token="c2")
    comments.remove_comment(removed_comment, by=editor, reason="不友善")
    removed_article = factories.article(account_=account)
    workflow.remove(removed_article, by=editor, reason="内容失实")
    users = {"anonymous": None, "reader": reader, "other_creator": other, "owner": owner, "editor": editor}
    for user in (reader, other, owner, editor):
        ReadingHistory.objects.create(user=user, article=article, read_at=article.published_at)
    notification = notify(reader, "test", "一条通知")
    return World(users, article, comment, removed_article, removed_comment, notification)


def snapshot(world: World) -> tuple:
    """Everything a reader write can change."""
    return (
        Comment.objects.count(),
        sorted(Comment.objects.values_list("pk", "status")),
        CommentLike.objects.count(),
        ArticleLike.objects.count(),
        Favorite.objects.count(),
        Follow.objects.count(),
        Report.objects.count(),
        Appeal.objects.count(),
        ReadingHistory.objects.count(),
        Notification.objects.filter(read_at__isnull=True).count(),
    )


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: object  # World -> str
    body: object  # World -> dict | None
    scope: str
    allowed: dict  # role -> status (anonymous is always 401)
    role_ok: str = "reader"  # a role for which the call succeeds


def everyone(status: int) -> dict:
    return dict.fromkeys(ROLES[1:], status)


def _a(w):
    return f"/api/v1/articles/{w.article.pk}"


def _c(w):
    return f"/api/v1/comments/{w.comment.pk}"


ENDPOINTS = [
    Endpoint(
        "post comment", "post", lambda w: _a(w) + "/comments", lambda w: {"body": "写得好"}, "comment", everyone(201)
    ),
    Endpoint("delete comment", "delete", _c, None, "comment", {**everyone(403), "owner": 204}, "owner"),
    # Liking one's own comment is refused as the pages refuse it (a 400 from the action).
    Endpoint("like comment", "post", lambda w: _c(w) + "/like", None, "comment", {**everyone(200), "owner": 400}),
    Endpoint("unlike comment", "delete", lambda w: _c(w) + "/like", None, "comment", {**everyone(200), "owner": 400}),
    Endpoint("like article", "put", lambda w: _a(w) + "/like", None, "comment", {**everyone(200), "owner": 403}),
    Endpoint("unlike article", "delete", lambda w: _a(w) + "/like", None, "comment", everyone(200)),
    Endpoint("favorite", "put", lambda w: _a(w) + "/favorite", None, "comment", everyone(200)),
    Endpoint("unfavorite", "delete", lambda w: _a(w) + "/favorite", None, "comment", everyone(200)),
    Endpoint(
        "follow",
        "put",
        lambda w: f"/api/v1/accounts/{w.article.account.handle}/follow",
        None,
        "comment",
        {**everyone(200), "owner": 403},
    ),
    Endpoint(
        "unfollow",
        "delete",
        lambda w: f"/api/v1/accounts/{w.article.account.handle}/follow",
        None,
        "comment",
        everyone(200),
    ),
    Endpoint(
        "report",
        "post",
        lambda w: "/api/v1/reports",
        lambda w: {"target_type": "article", "target_id": w.article.pk, "category": "spam"},
        "comment",
        {**everyone(201), "owner": 403},
    ),
    Endpoint(
        "appeal article",
        "post",
        lambda w: "/api/v1/appeals",
        lambda w: {"target_type": "article", "target_id": w.removed_article.pk, "text": "没有失实"},
        "drafts",
        {**everyone(403), "owner": 201},
        "owner",
    ),
    Endpoint(
        "appeal comment",
        "post",
        lambda w: "/api/v1/appeals",
        lambda w: {"target_type": "comment", "target_id": w.removed_comment.pk, "text": "并无不友善"},
        "comment",
        {**everyone(403), "owner": 201},
        "owner",
    ),
    Endpoint("clear history", "delete", lambda w: "/api/v1/me/history", None, "comment", everyone(204)),
    Endpoint(
        "forget one read", "delete", lambda w: f"/api/v1/me/history/{w.article.pk}", None, "comment", everyone(204)
    ),
    Endpoint("read notifications", "post", lambda w: "/api/v1/me/notifications/read", None, "read", everyone(200)),
    Endpoint(
        "read one notification",
        "post",
        lambda w: f"/api/v1/me/notifications/{w.notification.pk}/read",
        None,
        "read",
        everyone(200),
    ),
]
IDS = [e.name for e in ENDPOINTS]


def call(client: Client, endpoint: Endpoint, world: World, **extra):
    body = endpoint.body(world) if endpoint.body else None
    kwargs = {"data": json.dumps(body), "content_type": "application/json"} if body is not None else {}
    return getattr(client, endpoint.method)(endpoint.path(world), **kwargs, **extra)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
def test_every_write_answers_each_role_as_its_permissions_say(client, endpoint, role):
    world = build_world()
    user = world.users[role]
    extra = bearer(token_for(user)) if user is not None else {}
    before = snapshot(world)
    response = call(client, endpoint, world, **extra)
    if user is None:
        assert is_problem(response, 401, "not_authenticated"), response.content
        assert response["WWW-Authenticate"].startswith("Bearer")
    else:
        expected = endpoint.allowed[role]
        assert response.status_code == expected, response.content.decode()
        if expected >= 400:
            assert is_problem(response, expected)
            assert response.json()["detail"]  # a message the client can show
    if response.status_code >= 400:
        assert snapshot(world) == before


def test_the_table_covers_every_write_operation_of_these_routers():
    from masthead.api import me, reader_writes

    declared = set()
    for router in (reader_writes.router, me.router):
        for path, view in router.path_operations.items():
            for operation in view.operations:
                route = "api/v1" + path.replace("{", "<").replace("}", ">")
                declared |= {(m, route) for m in operation.methods if m != "GET"}
    world = build_world()
    covered = {(e.method.upper(), resolve(e.path(world)).route) for e in ENDPOINTS}
    assert covered == declared


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
def test_a_token_without_the_scope_is_refused_and_one_with_only_that_scope_works(client, endpoint):
    world = build_world()
    user = world.users[endpoint.role_ok]
    others = [s for s in Scope.values if s != endpoint.scope]
    before = snapshot(world)
    refused = call(client, endpoint, world, **bearer(token_for(user, *others)))
    assert is_problem(refused, 403, "scope_missing") and refused.json()["scope"] == endpoint.scope
    assert snapshot(world) == before
    allowed = call(client, endpoint, world, **bearer(token_for(user, endpoint.scope)))
    assert allowed.status_code == endpoint.allowed[endpoint.role_ok], allowed.content.decode()


def test_a_revoked_token_stops_working_with_the_next_request(client):
    world = build_world()
    user = world.users["reader"]
    raw = token_for(user)
    like = f"/api/v1/articles/{world.article.pk}/like"
    assert client.put(like, **bearer(raw)).status_code == 200
    tokens.revoke(user, AccessToken.objects.get(user=user))
    refused = client.delete(like, **bearer(raw))
    assert is_problem(refused, 401, "token_invalid")
    assert ArticleLike.objects.filter(user=user).exists()  # the refused DELETE changed nothing
    assert is_problem(client.get("/api/v1/me", **bearer(raw)), 401, "token_invalid")


def test_a_made_up_token_is_refused_not_treated_as_anonymous(client):
    world = build_world()
    response = client.put(f"/api/v1/articles/{world.article.pk}/like", **bearer("mh_" + "x" * 43))
    assert is_problem(response, 401, "token_invalid")


def _session(user) -> tuple[Client, str]:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    secret = get_random_string(32)
    client.cookies["csrftoken"] = secret
    return client, secret


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
def test_the_session_needs_its_csrf_token(endpoint):
    world = build_world()
    client, secret = _session(world.users[endpoint.role_ok])
    before = snapshot(world)
    refused = call(client, endpoint, world)
    assert is_problem(refused, 403, "csrf_failed")
    assert snapshot(world) == before
    allowed = call(client, endpoint, world, HTTP_X_CSRFTOKEN=secret)
    assert allowed.status_code == endpoint.allowed[endpoint.role_ok], allowed.content.decode()


def test_a_wrong_csrf_token_is_refused():
    world = build_world()
    client, _secret = _session(world.users["reader"])
    response = client.put(f"/api/v1/articles/{world.article.pk}/like", HTTP_X_CSRFTOKEN=get_random_string(32))
    assert is_problem(response, 403, "csrf_failed")
    assert not ArticleLike.objects.exists()


def test_a_token_needs_no_csrf_token_even_with_a_session_cookie():
    world = build_world()
    client, _secret = _session(world.users["other_creator"])
    reader = world.users["reader"]
    response = client.put(f"/api/v1/articles/{world.article.pk}/like", **bearer(token_for(reader)))
    assert response.status_code == 200
    assert ArticleLike.objects.get().user == reader  # the token's user, not the session's


def test_an_inactive_users_token_stops_working(client):
    world = build_world()
    user = world.users["reader"]
    raw = token_for(user)
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert is_problem(client.put(f"/api/v1/articles/{world.article.pk}/like", **bearer(raw)), 401, "token_invalid")
