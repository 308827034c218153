"""Idempotency-Key on POST /articles/{id}/comments: a retried request returns the first answer and
writes nothing more; the same key with other content is refused."""

import pytest
from django.test import Client
from django.utils.crypto import get_random_string

from masthead.engagement.models import Comment
from masthead.moderation import screening
from tests.api.conftest import bearer, is_problem, post_json, token_for
from tests.api.test_reader_permissions import person
from tests.api.test_reader_writes import author_and_article, comments_url, editor

pytestmark = pytest.mark.django_db


def test_a_repeated_key_returns_the_first_comment_and_writes_once(client):
    _author, article = author_and_article()
    token = bearer(token_for(person("reader")))
    key = {"HTTP_IDEMPOTENCY_KEY": "post-7f3a"}
    first = post_json(client, comments_url(article), {"body": "网络不好"}, **token, **key)
    again = post_json(client, comments_url(article), {"body": "网络不好"}, **token, **key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Comment.objects.count() == 1
    article.refresh_from_db()
    assert article.comment_count == 1


def test_the_same_key_with_another_body_is_refused_with_422(client):
    _author, article = author_and_article()
    token = bearer(token_for(person("reader")))
    key = {"HTTP_IDEMPOTENCY_KEY": "post-1"}
    assert post_json(client, comments_url(article), {"body": "第一条"}, **token, **key).status_code == 201
    reused = post_json(client, comments_url(article), {"body": "换了内容"}, **token, **key)
    assert is_problem(reused, 422, "idempotency_key_reused")
    assert list(Comment.objects.values_list("body", flat=True)) == ["第一条"]


def test_a_replay_does_not_use_up_the_rate_limit(client, settings):
    settings.MASTHEAD_RATE_LIMITS = {"comment-user-minute": (2, 60)}
    _author, article = author_and_article()
    token = bearer(token_for(person("reader")))
    for _ in range(3):
        response = post_json(client, comments_url(article), {"body": "重试"}, **token, HTTP_IDEMPOTENCY_KEY="k")
        assert response.status_code == 201
    assert post_json(client, comments_url(article), {"body": "第二条"}, **token).status_code == 201


def test_keys_belong_to_their_user(client):
    _author, article = author_and_article()
    key = {"HTTP_IDEMPOTENCY_KEY": "shared-key"}
    one = post_json(client, comments_url(article), {"body": "一样"}, **bearer(token_for(person("a"))), **key)
    two = post_json(client, comments_url(article), {"body": "一样"}, **bearer(token_for(person("b"))), **key)
    assert one.status_code == two.status_code == 201 and one.json()["id"] != two.json()["id"]
    assert Comment.objects.count() == 2


def test_a_rate_limited_answer_is_not_kept_so_the_key_can_be_retried(client, settings):
    settings.MASTHEAD_RATE_LIMITS = {"comment-user-minute": (1, 60)}
    _author, article = author_and_article()
    reader = person("reader")
    token = bearer(token_for(reader))
    assert post_json(client, comments_url(article), {"body": "第一条"}, **token).status_code == 201
    key = {"HTTP_IDEMPOTENCY_KEY": "later"}
    assert is_problem(post_json(client, comments_url(article), {"body": "第二条"}, **token, **key), 429)
    settings.MASTHEAD_RATE_LIMITS = {"comment-user-minute": (5, 60)}
    retried = post_json(client, comments_url(article), {"body": "第二条"}, **token, **key)
    assert retried.status_code == 201 and Comment.objects.count() == 2


def test_a_held_comment_is_replayed_as_held(client):
    _author, article = author_and_article()
    screening.add_terms("代购", screening.REVIEW, editor())
    token = bearer(token_for(person("reader")))
    key = {"HTTP_IDEMPOTENCY_KEY": "held-1"}
    first = post_json(client, comments_url(article), {"body": "代购私信"}, **token, **key)
    again = post_json(client, comments_url(article), {"body": "代购私信"}, **token, **key)
    assert first.status_code == again.status_code == 202 and again.json()["status"] == "held"
    assert Comment.objects.count() == 1


def test_a_session_caller_gets_the_same_protection():
    _author, article = author_and_article()
    client = Client(enforce_csrf_checks=True)
    client.force_login(person("reader"))
    secret = get_random_string(32)
    client.cookies["csrftoken"] = secret
    extra = {"HTTP_X_CSRFTOKEN": secret, "HTTP_IDEMPOTENCY_KEY": "s-1"}
    first = post_json(client, comments_url(article), {"body": "会话发帖"}, **extra)
    again = post_json(client, comments_url(article), {"body": "会话发帖"}, **extra)
    assert first.status_code == again.status_code == 201 and again.json()["id"] == first.json()["id"]
    assert Comment.objects.count() == 1


def test_without_a_key_and_without_a_client_token_two_posts_are_two_comments(client):
    _author, article = author_and_article()
    token = bearer(token_for(person("reader")))
    for _ in range(2):
        assert post_json(client, comments_url(article), {"body": "两次"}, **token).status_code == 201
    assert Comment.objects.count() == 2
