"""Small builders for the comment tests (users in each role, comments, signed-in clients)."""

import itertools
import uuid

from django.contrib.auth.models import Group, User
from django.test import Client

from masthead.accounts.roles import EDITORS_GROUP
from masthead.engagement import comments
from tests import factories

_seq = itertools.count(1)


def reader(name: str | None = None) -> User:
    n = next(_seq)
    name = name or f"reader{n}"
    # No password: hashing one (argon2) would make these tests slow, and force_login needs none.
    return User.objects.create_user(name, f"{name}@example.com")


def editor() -> User:
    user = reader(f"editor{next(_seq)}")
    user.groups.add(Group.objects.get_or_create(name=EDITORS_GROUP)[0])
    return user


def admin() -> User:
    n = next(_seq)
    return User.objects.create_superuser(f"admin{n}", f"admin{n}@example.com", None)


def creator_article(**fields):
    """(author user, published article under the author's account)."""
    user = reader(f"author{next(_seq)}")
    account = factories.account(owner=user)
    return user, factories.article(account_=account, **fields)


def post(user, article, body: str = "说得很有道理", **kwargs):
    kwargs.setdefault("client_token", uuid.uuid4().hex)
    return comments.post_comment(user, article, body, **kwargs)


def client_for(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client
