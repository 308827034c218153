"""Who may call each studio operation of the API: every endpoint against every role, token scopes, a
revoked token, and the session with and without its CSRF token. A refused call changes nothing."""

import io
import json
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.utils.crypto import get_random_string

from masthead.accounts.models import Badge
from masthead.accounts.roles import EDITORS_GROUP
from masthead.api import tokens
from masthead.api.models import AccessToken, Scope
from masthead.articles.models import Article, Image, Revision
from tests import factories
from tests.api.conftest import bearer, is_problem, make_user, token_for

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "reader", "other_creator", "owner", "editor")
LONG = "<p>" + "这是一段足够长的正文，用来满足发布的最低字数。" * 2 + "</p>"


@dataclass
class World:
    """An owner (a trusted creator, so that publishing is theirs to do) with a draft, and users in
    every other role; the editor owns no creator account."""

    users: dict
    draft: Article


def build_world() -> World:
    owner = make_user("owner")
    account = factories.account(owner=owner, badge=Badge.QUALITY)
    other = make_user("other")
    factories.account(owner=other)
    editor = make_user("editor")
    editor.groups.add(Group.objects.get_or_create(name=EDITORS_GROUP)[0])
    draft = factories.article(publish=False, account_=account, body=LONG, title="主人的草稿")
    users = {"anonymous": None, "reader": make_user("reader"), "other_creator": other, "owner": owner, "editor": editor}
    return World(users, draft)


def snapshot() -> tuple:
    """Everything a studio write can change."""
    return (
        sorted(Article.objects.values_list("pk", "status", "version", "title", "body_html", "channel_id")),
        Image.objects.count(),
        Revision.objects.count(),
    )


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: object  # World -> str
    body: object  # World -> dict | None
    scopes: tuple  # a token needs one of these
    allowed: dict  # role -> status (anonymous is always 401)
    multipart: bool = False


def _a(w: World) -> str:
    return f"/api/v1/studio/articles/{w.draft.pk}"


def _picture(w: World) -> dict:
    upload = io.BytesIO(factories.image_bytes())
    upload.name = "photo.jpg"
    return {"file": upload, "alt": "一张照片"}


def roles(owner: int, other: int = 404) -> dict:
    """Readers and editors without a creator account are refused; another creator does not see the article."""
    return {"reader": 403, "editor": 403, "other_creator": other, "owner": owner}


WRITES = [
    Endpoint(
        "create", "post", lambda w: "/api/v1/studio/articles", lambda w: {"title": "新稿"}, ("drafts",), roles(201, 201)
    ),
    Endpoint("save", "patch", _a, lambda w: {"version": w.draft.version, "title": "改"}, ("drafts",), roles(200)),
    Endpoint("submit", "post", lambda w: _a(w) + "/submit", lambda w: {}, ("drafts",), roles(200)),
    Endpoint("publish", "post", lambda w: _a(w) + "/publish", lambda w: {}, ("publish",), roles(200)),
    Endpoint("upload", "post", lambda w: "/api/v1/studio/images", _picture, ("drafts",), roles(201, 201), True),
]
READS = [
    Endpoint("list", "get", lambda w: "/api/v1/studio/articles", None, ("read",), roles(200, 200)),
    Endpoint("detail", "get", _a, None, ("read", "drafts"), roles(200)),
    Endpoint("stats", "get", lambda w: "/api/v1/studio/stats", None, ("read",), roles(200, 200)),
    Endpoint("article stats", "get", lambda w: _a(w) + "/stats", None, ("read",), roles(200)),
]
ENDPOINTS = WRITES + READS
IDS = [e.name for e in ENDPOINTS]


def call(client: Client, endpoint: Endpoint, world: World, **extra):
    body = endpoint.body(world) if endpoint.body else None
    if endpoint.multipart:
        return client.post(endpoint.path(world), body, **extra)
    kwargs = {"data": json.dumps(body), "content_type": "application/json"} if body is not None else {}
    return getattr(client, endpoint.method)(endpoint.path(world), **kwargs, **extra)


def test_the_tables_cover_every_operation_of_the_studio_router():
    from masthead.api import studio

    declared = set()
    for path, view in studio.router.path_operations.items():
        for operation in view.operations:
            declared |= {(m, path) for m in operation.methods}
    assert len(declared) == len(ENDPOINTS)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
def test_every_operation_answers_each_role_as_its_permissions_say(client, endpoint, role):
    world = build_world()
    user = world.users[role]
    extra = bearer(token_for(user)) if user is not None else {}
    before = snapshot()
    response = call(client, endpoint, world, **extra)
    if user is None:
        assert is_problem(response, 401, "not_authenticated"), response.content
        assert response["WWW-Authenticate"].startswith("Bearer")
    else:
        expected = endpoint.allowed[role]
        assert response.status_code == expected, response.content.decode()
        if expected == 403:
            assert is_problem(response, 403, "not_creator") and response.json()["detail"]
        elif expected == 404:
            assert is_problem(response, 404, "not_found")
            assert "主人的草稿" not in response.content.decode()
    if response.status_code >= 400:
        assert snapshot() == before


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
def test_a_token_without_the_scope_is_refused_and_one_with_only_that_scope_works(client, endpoint):
    world = build_world()
    owner = world.users["owner"]
    others = [s for s in Scope.values if s not in endpoint.scopes]
    before = snapshot()
    refused = call(client, endpoint, world, **bearer(token_for(owner, *others)))
    assert is_problem(refused, 403, "scope_missing") and refused.json()["scope"] == endpoint.scopes[0]
    assert snapshot() == before
    for scope in endpoint.scopes:
        allowed = call(client, endpoint, world, **bearer(token_for(owner, scope)))
        assert allowed.status_code == endpoint.allowed["owner"], allowed.content.decode()


def test_drafts_and_publish_scopes_are_apart(client):
    """A writing token cannot make anything public; a publishing token cannot write."""
    world = build_world()
    owner, url = world.users["owner"], _a(world)
    writer = bearer(token_for(owner, "drafts"))
    publisher = bearer(token_for(owner, "publish"))
    assert is_problem(client.post(url + "/publish", "{}", "application/json", **writer), 403, "scope_missing")
    change = {"version": world.draft.version, "title": "顺便改个标题"}
    # Sending edits along with publishing is writing: it needs the drafts scope too.
    response = client.post(url + "/publish", json.dumps(change), "application/json", **publisher)
    assert is_problem(response, 403, "scope_missing") and response.json()["scope"] == "drafts"
    assert Article.objects.get(pk=world.draft.pk).status == Article.Status.DRAFT
    submitted = client.post(url + "/submit", "{}", "application/json", **writer)
    assert submitted.status_code == 200 and submitted.json()["status"] == "pending"


def test_a_revoked_token_stops_working_with_the_next_request(client):
    world = build_world()
    owner = world.users["owner"]
    raw = token_for(owner)
    change = {"version": world.draft.version, "title": "第一次"}
    url = _a(world)
    assert client.patch(url, json.dumps(change), "application/json", **bearer(raw)).status_code == 200
    tokens.revoke(owner, AccessToken.objects.get(user=owner))
    refused = client.patch(url, json.dumps({**change, "title": "第二次"}), "application/json", **bearer(raw))
    assert is_problem(refused, 401, "token_invalid")
    assert Article.objects.get(pk=world.draft.pk).title == "第一次"


def _session(user) -> tuple[Client, str]:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    secret = get_random_string(32)
    client.cookies["csrftoken"] = secret
    return client, secret


@pytest.mark.parametrize("endpoint", WRITES, ids=[e.name for e in WRITES])
def test_the_session_needs_its_csrf_token(endpoint):
    world = build_world()
    client, secret = _session(world.users["owner"])
    before = snapshot()
    refused = call(client, endpoint, world)
    assert is_problem(refused, 403, "csrf_failed")
    assert snapshot() == before
    allowed = call(client, endpoint, world, HTTP_X_CSRFTOKEN=secret)
    assert allowed.status_code == endpoint.allowed["owner"], allowed.content.decode()
