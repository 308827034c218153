"""The API's contract as a client meets it: problem answers, credentials, scopes, rate limits, CORS,
Idempotency-Key, conditional GETs and the OpenAPI description.

Operations owned by other modules are found in the served spec; a test needing one that has not
landed yet is skipped with the operation named.
"""

import json
import os
import re

import pytest
from django.core.cache import cache
from django.utils import translation

from masthead.accounts.notices import notify
from masthead.api import tokens
from masthead.api.core import api
from masthead.api.models import AccessToken
from masthead.engagement.models import Comment
from masthead.settings import redis_caches
from tests import factories
from tests.api.conftest import bearer, make_user, post_json, token_for
from tests.redis_server import redis_or_skip

pytestmark = pytest.mark.django_db

SPEC = "/api/v1/openapi.json"
PROBLEM_KEYS = {"type", "title", "status", "code", "detail"}


def spec_paths() -> dict:
    return api.get_openapi_schema()["paths"]


def need(method: str, pattern: str) -> str:
    """The spec path of an operation (a regex over paths), or skip the test until it lands."""
    for path, item in spec_paths().items():
        if re.fullmatch(pattern, path) and method.lower() in item:
            return path
    pytest.skip(f"{method.upper()} {pattern} is not in the spec yet")


def url(path: str, **params) -> str:
    return re.sub(r"\{[^}]+\}", lambda m: str(params[m.group(0)[1:-1]]), path)


def problem(response, status: int, code: str) -> dict:
    """The problem body, after checking it is one with this status and code."""
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/problem+json"), response["Content-Type"]
    body = response.json()
    assert body.keys() >= PROBLEM_KEYS, body
    assert (body["status"], body["code"]) == (status, code), body
    assert body["type"] == f"urn:masthead:problem:{code}" and body["detail"], body
    return body


@pytest.fixture
def comment_op():
    return need("post", r"/api/v1/articles/\{[^}]+\}/comments")


@pytest.fixture
def article():
    return factories.article(title="接口测试文章")


# --- the OpenAPI description ---------------------------------------------------------------------


def test_spec_is_openapi_3_1_and_declares_the_bearer_scheme(client):
    response = client.get(SPEC)
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    spec = response.json()
    assert spec["openapi"].startswith("3.1")
    schemes = spec["components"]["securitySchemes"]
    assert schemes["BearerToken"] == {"type": "http", "scheme": "bearer"}
    assert schemes["SessionCookie"]["in"] == "cookie"
    # test_schemathesis fuzzes the description built in-process: it must be the one served.
    assert spec == json.loads(json.dumps(api.get_openapi_schema(), default=str))


def test_spec_is_a_valid_openapi_3_1_document(client):
    validator = pytest.importorskip("openapi_spec_validator", reason="openapi-spec-validator is not installed")
    validator.validate(client.get(SPEC).json())  # raises, naming the offending part, if not


def test_every_operation_declares_the_problems_it_can_answer(client):
    paths = client.get(SPEC).json()["paths"]
    if not paths:
        pytest.skip("no operations in the spec yet")
    for path, item in paths.items():
        for method, operation in item.items():
            responses = operation["responses"]
            expected = {"401", "429"}
            if operation.get("security"):
                expected.add("403")
            if "{" in path:
                expected.add("404")
            if operation.get("parameters") or "requestBody" in operation:
                expected.add("400")
            assert expected <= responses.keys(), f"{method.upper()} {path}: {sorted(responses)}"
            for status in expected:
                assert "application/problem+json" in responses[status]["content"], (method, path, status)


def test_spec_answers_conditional_gets_with_304(client):
    first = client.get(SPEC)
    etag = first["ETag"]
    assert etag.startswith('"') and "Accept-Language" in first["Vary"]
    again = client.get(SPEC, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == etag
    assert client.get(SPEC, HTTP_IF_NONE_MATCH='"something-else"').status_code == 200


def test_a_read_endpoint_answers_conditional_gets_with_304(client, article):
    path = need("get", r"/api/v1/articles/\{[^}]+\}")
    first = client.get(url(path, id=article.pk))
    assert first.status_code == 200 and first["ETag"]
    again = client.get(url(path, id=article.pk), HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and again.content == b""


# --- problem answers -----------------------------------------------------------------------------


def test_unknown_api_url_is_a_404_problem(client):
    problem(client.get("/api/v1/no-such-thing"), 404, "not_found")


def test_wrong_method_is_a_405_problem_with_allow(client):
    path = need("get", r"/api/v1/hot")
    response = client.delete(path)
    problem(response, 405, "method_not_allowed")
    assert "GET" in response["Allow"]


def test_head_answers_like_get_without_a_body(client):
    path = need("get", r"/api/v1/hot")
    got, head = client.get(path), client.head(path)
    assert head.status_code == 200 and head.content == b""
    assert head["ETag"] == got["ETag"] and head["Content-Length"] == str(len(got.content))
    assert client.head(path, HTTP_IF_NONE_MATCH=got["ETag"]).status_code == 304


def test_invalid_query_parameter_is_a_400_problem_naming_the_field(client):
    path = need("get", r"/api/v1/hot")
    body = problem(client.get(path, {"limit": "many"}), 400, "invalid")
    assert [e["field"] for e in body["errors"]] == ["limit"]
    assert "limit" in body["detail"]


def test_unparsable_json_body_is_a_400_problem(client, article, reader, comment_op):
    response = client.post(
        url(comment_op, id=article.pk), data=b"{not json", content_type="application/json", **bearer(token_for(reader))
    )
    problem(response, 400, "bad_request")


def test_oversized_body_is_a_413_problem_before_anything_reads_it(client, settings, reader):
    settings.MASTHEAD_API_MAX_BODY_BYTES = 1024
    body = json.dumps({"body": "长" * 2000})
    response = client.post("/api/v1/any-path", data=body, content_type="application/json", **bearer(token_for(reader)))
    assert problem(response, 413, "too_large")["max_bytes"] == 1024


def test_removed_article_is_a_410_problem_with_the_reason(client):
    path = need("get", r"/api/v1/articles/\{[^}]+\}")
    item = factories.article()
    from masthead.articles import actions

    actions.remove(item, reason="侵犯他人权益")
    body = problem(client.get(url(path, id=item.pk)), 410, "removed")
    assert "侵犯他人权益" in json.dumps(body, ensure_ascii=False)


def test_problems_follow_the_readers_language(client):
    zh = client.get("/api/v1/no-such-thing", HTTP_ACCEPT_LANGUAGE="zh-CN")
    en = client.get("/api/v1/no-such-thing", HTTP_ACCEPT_LANGUAGE="en")
    assert zh["Content-Language"] == "zh-hans" and en["Content-Language"] == "en"
    assert "Accept-Language" in en["Vary"]
    assert zh.json()["code"] == en.json()["code"] == "not_found"  # clients branch on the code, not the text
    assert zh.json()["detail"] == "找不到这个资源。"
    with translation.override("en"):
        if translation.gettext("找不到这个资源。") == "找不到这个资源。":
            pytest.skip("the English catalog has no entry for the API's messages yet (compiled by the lead)")
    assert en.json()["detail"] != zh.json()["detail"] and en.json()["detail"].isascii()


def test_refusals_from_the_shared_actions_follow_the_readers_language(client, article, reader, comment_op):
    # A message the catalog has long translated (engagement.comments), answered through the core's handler.
    auth = bearer(token_for(reader, "comment"))
    zh = post_json(client, url(comment_op, id=article.pk), {"body": "  "}, HTTP_ACCEPT_LANGUAGE="zh-CN", **auth)
    en = post_json(client, url(comment_op, id=article.pk), {"body": "  "}, HTTP_ACCEPT_LANGUAGE="en", **auth)
    assert problem(zh, 400, "invalid")["detail"] == "请输入跟帖内容。"
    assert problem(en, 400, "invalid")["detail"] == "Please write your comment."
    assert en["Content-Language"] == "en" and en.json()["errors"] == [
        {"field": "body", "message": "Please write your comment."}
    ]


# --- credentials: 401 and 403 kept apart ---------------------------------------------------------


def test_no_credentials_bad_token_and_missing_scope_are_told_apart(client, article, reader, comment_op):
    path, data = url(comment_op, id=article.pk), {"body": "说得好"}
    anonymous = post_json(client, path, data)
    problem(anonymous, 401, "not_authenticated")
    assert anonymous["WWW-Authenticate"].startswith("Bearer")
    bad = post_json(client, path, data, **bearer("mh_not-a-real-token"))
    problem(bad, 401, "token_invalid")
    assert 'error="invalid_token"' in bad["WWW-Authenticate"]
    not_bearer = post_json(client, path, data, HTTP_AUTHORIZATION="Basic cmVhZGVyOnB3")
    problem(not_bearer, 401, "token_invalid")
    read_only = post_json(client, path, data, **bearer(token_for(reader, "read")))
    assert problem(read_only, 403, "scope_missing")["scope"] == "comment"
    assert not Comment.objects.filter(article=article).exists()
    assert post_json(client, path, data, **bearer(token_for(reader, "comment"))).status_code == 201


def test_a_bad_token_is_refused_even_where_no_caller_is_needed(client):
    # Never mistaken for anonymous: a client with a broken token must hear about it.
    problem(client.get(SPEC, **bearer("mh_revoked-or-mistyped")), 401, "token_invalid")


def test_a_revoked_token_stops_working_at_once(client, reader):
    path = need("get", r"/api/v1/me")
    raw = token_for(reader, "read")
    assert client.get(path, **bearer(raw)).status_code == 200
    tokens.revoke(reader, AccessToken.objects.get(digest=tokens.digest(raw)))
    problem(client.get(path, **bearer(raw)), 401, "token_invalid")


def test_a_deactivated_users_token_stops_working(client, reader):
    path = need("get", r"/api/v1/me")
    raw = token_for(reader, "read")
    reader.is_active = False
    reader.save(update_fields=["is_active"])
    problem(client.get(path, **bearer(raw)), 401, "token_invalid")


# --- rate limits ---------------------------------------------------------------------------------


def exhaust(client, limit: int, **extra):
    for _ in range(limit):
        assert client.get(SPEC, **extra).status_code == 200
    return client.get(SPEC, **extra)


def assert_limited(response, window: int) -> None:
    problem(response, 429, "rate_limited")
    assert 1 <= int(response["Retry-After"]) <= window


def test_anonymous_callers_are_limited_per_address(client, settings):
    settings.MASTHEAD_RATE_LIMITS = {"api-ip": (3, 60)}
    assert_limited(exhaust(client, 3), 60)
    assert client.get(SPEC, REMOTE_ADDR="10.9.8.7").status_code == 200  # another address, its own budget


def test_tokens_are_limited_each_on_its_own_budget(client, settings, reader):
    settings.MASTHEAD_RATE_LIMITS = {"api-token": (2, 30), "api-ip": (100, 60)}
    first, second = token_for(reader, "read"), token_for(reader, "read")
    assert_limited(exhaust(client, 2, **bearer(first)), 30)
    assert client.get(SPEC, **bearer(second)).status_code == 200
    assert client.get(SPEC).status_code == 200  # the address's budget is not the token's


def test_bad_tokens_use_up_the_address_budget(client, settings):
    settings.MASTHEAD_RATE_LIMITS = {"api-ip": (3, 60)}
    for _ in range(3):
        problem(client.get(SPEC, **bearer("mh_guess")), 401, "token_invalid")
    assert_limited(client.get(SPEC, **bearer("mh_another-guess")), 60)


@pytest.fixture
def redis_cache(settings):
    """The cache (and so the rate limits) on a real Redis; skipped when none answers."""
    location = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/8"
    raw = redis_or_skip(location)
    settings.CACHES = redis_caches(location, prefix="masthead-apitest")
    cache.clear()
    yield raw
    cache.clear()
    raw.close()


@pytest.mark.redis
def test_rate_limits_live_in_redis_per_token(client, settings, reader, redis_cache):
    settings.MASTHEAD_RATE_LIMITS = {"api-token": (2, 45)}
    first, second = token_for(reader, "read"), token_for(reader, "read")
    assert_limited(exhaust(client, 2, **bearer(first)), 45)
    assert client.get(SPEC, **bearer(second)).status_code == 200
    # The counts are in Redis, shared by every app server, expiring with their window.
    keys = redis_cache.keys("masthead-apitest:*rl:api-token:*")
    assert len(keys) >= 2
    assert all(0 < redis_cache.ttl(k) <= 45 for k in keys)


# --- CORS ----------------------------------------------------------------------------------------


def test_cors_is_off_by_default(client):
    response = client.get(SPEC, HTTP_ORIGIN="https://elsewhere.example")
    assert response.status_code == 200 and "Access-Control-Allow-Origin" not in response
    preflight = client.options(SPEC, HTTP_ORIGIN="https://elsewhere.example", HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST")
    assert "Access-Control-Allow-Origin" not in preflight


def test_cors_answers_a_configured_origin_including_preflight_and_problems(client, settings, comment_op):
    origin = "https://app.example.com"
    settings.CORS_ALLOWED_ORIGINS = [origin]
    assert client.get(SPEC, HTTP_ORIGIN=origin)["Access-Control-Allow-Origin"] == origin
    preflight = client.options(
        comment_op,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type, idempotency-key",
    )
    assert preflight.status_code == 200 and preflight["Access-Control-Allow-Origin"] == origin
    assert "POST" in preflight["Access-Control-Allow-Methods"]
    allowed = preflight["Access-Control-Allow-Headers"].lower()
    assert {"authorization", "content-type", "idempotency-key"} <= {h.strip() for h in allowed.split(",")}
    # A refusal is readable by the page too (and so is Retry-After on a 429).
    refused = client.get(SPEC, HTTP_ORIGIN=origin, **bearer("mh_wrong"))
    assert refused.status_code == 401 and refused["Access-Control-Allow-Origin"] == origin
    assert "Retry-After" in client.get(SPEC, HTTP_ORIGIN=origin)["Access-Control-Expose-Headers"]
    assert "Access-Control-Allow-Origin" not in client.get(SPEC, HTTP_ORIGIN="https://other.example")


# --- Idempotency-Key ----------------------------------------------------------------------------
# On the simplest POST there is (mark all notifications read: no body): a repeat that ran again would
# answer {"marked": 0}; a replay answers what the first one did. (Comments: test_idempotency.py.)


@pytest.fixture
def read_all():
    return need("post", r"/api/v1/me/notifications/read")


def unread(user, n: int = 2) -> None:
    for i in range(n):
        notify(user, "test", f"第 {i + 1} 条通知")


def test_idempotency_key_replays_the_first_answer(client, reader, read_all):
    unread(reader)
    auth = {**bearer(token_for(reader, "read")), "HTTP_IDEMPOTENCY_KEY": "read-all-1"}
    first = client.post(read_all, **auth)
    assert first.status_code == 200 and first.json()["marked"] == 2 and "Idempotent-Replayed" not in first
    unread(reader, 1)
    again = client.post(read_all, **auth)
    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()  # the first answer, not a second run …
    assert reader.notifications.filter(read_at__isnull=True).count() == 1  # … which would have marked this one
    fresh = client.post(read_all, **{**auth, "HTTP_IDEMPOTENCY_KEY": "read-all-2"})
    assert fresh.json()["marked"] == 1 and "Idempotent-Replayed" not in fresh


def test_idempotency_key_reused_for_another_request_is_a_422(client, reader, read_all):
    auth = {**bearer(token_for(reader, "read")), "HTTP_IDEMPOTENCY_KEY": "reused"}
    assert client.post(read_all, **auth).status_code == 200
    other_path = read_all + "?again=1"
    problem(client.post(other_path, **auth), 422, "idempotency_key_reused")


def test_idempotency_keys_belong_to_each_user(client, reader, read_all):
    other = make_user("reader")
    unread(reader, 1)
    unread(other, 3)
    for user, marked in ((reader, 1), (other, 3)):
        response = client.post(read_all, HTTP_IDEMPOTENCY_KEY="shared", **bearer(token_for(user, "read")))
        assert response.json()["marked"] == marked and "Idempotent-Replayed" not in response


def test_a_malformed_idempotency_key_is_a_400(client, reader, read_all):
    unread(reader)
    auth = bearer(token_for(reader, "read"))
    for key in ("has space", "x" * 256, "中文", ""):
        header = key.encode().decode("latin-1")  # WSGI carries header bytes as latin-1
        problem(client.post(read_all, HTTP_IDEMPOTENCY_KEY=header, **auth), 400, "invalid_idempotency_key")
    assert reader.notifications.filter(read_at__isnull=True).count() == 2
