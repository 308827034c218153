"""Callers of every role for API tests, and a token helper. Tokens are real: created and checked as in use."""

import itertools
import json

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from masthead.accounts.roles import EDITORS_GROUP
from masthead.api import tokens
from masthead.api.models import Scope
from tests import factories

_n = itertools.count(1)
ALL_SCOPES = tuple(Scope.values)


def make_user(prefix: str = "reader", **fields):
    n = next(_n)
    return get_user_model().objects.create_user(f"{prefix}{n}", f"{prefix}{n}@example.com", "pw-Masthead-123", **fields)


@pytest.fixture
def reader(db):
    return make_user("reader")


@pytest.fixture
def creator(db):
    """A user who owns a creator account (user.account)."""
    user = make_user("creator")
    factories.account(owner=user)
    return user


@pytest.fixture
def other_creator(db):
    user = make_user("other")
    factories.account(owner=user)
    return user


@pytest.fixture
def editor(db):
    user = make_user("editor")
    group, _ = Group.objects.get_or_create(name=EDITORS_GROUP)
    user.groups.add(group)
    return user


def token_for(user, *scopes: str) -> str:
    """A live personal access token for `user` (all scopes unless named); returns the plaintext."""
    _row, raw = tokens.create_token(user, f"test {next(_n)}", scopes or ALL_SCOPES)
    return raw


def bearer(raw: str) -> dict:
    """Extra kwargs for django.test.Client calls: client.post(url, ..., **bearer(token))."""
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def post_json(client, url: str, data, **extra):
    return client.post(url, data=json.dumps(data), content_type="application/json", **extra)


def is_problem(response, status: int, code: str | None = None) -> bool:
    """Whether `response` is an application/problem+json answer with this status (and code)."""
    if response.status_code != status or not response["Content-Type"].startswith("application/problem+json"):
        return False
    return code is None or response.json().get("code") == code
