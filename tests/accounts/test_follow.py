"""Follows and the counts on the author card."""

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from masthead.accounts import actions
from masthead.accounts.models import Account, Follow
from tests import factories

pytestmark = pytest.mark.django_db


def _reader(name: str):
    return get_user_model().objects.create_user(name, password="a-long-pass-phrase")


def _followers(account: Account) -> int:
    account.refresh_from_db()
    return account.follower_count


def test_follower_count_across_follow_double_follow_and_unfollow():
    writer = factories.account()
    ann, bob = _reader("ann"), _reader("bob")
    assert actions.follow(ann, writer) is True
    assert _followers(writer) == 1
    assert actions.follow(ann, writer) is False  # a double submit
    assert _followers(writer) == 1 and Follow.objects.filter(account=writer).count() == 1
    assert actions.follow(bob, writer) is True
    assert _followers(writer) == 2
    assert actions.unfollow(ann, writer) is True
    assert _followers(writer) == 1
    assert actions.unfollow(ann, writer) is False  # already gone
    assert _followers(writer) == 1
    actions.follow(ann, writer)
    assert _followers(writer) == 2


def test_following_one_account_leaves_the_others_alone():
    first, second = factories.account(), factories.account()
    actions.follow(_reader("ann"), first)
    assert (_followers(first), _followers(second)) == (1, 0)


def test_nobody_follows_their_own_account():
    owner = _reader("owner")
    mine = factories.account(owner=owner)
    with pytest.raises(ValidationError) as exc:
        actions.follow(owner, mine)
    assert exc.value.messages == ["不能关注自己的账号。"]
    assert _followers(mine) == 0


def test_recount_repairs_counts_that_drifted():
    writer = factories.account()
    factories.article(account_=writer)
    actions.follow(_reader("ann"), writer)
    Account.objects.filter(pk=writer.pk).update(article_count=40, follower_count=9)
    actions.recount([writer.pk])
    writer.refresh_from_db()
    assert (writer.article_count, writer.follower_count) == (1, 1)
    Account.objects.update(article_count=3)
    actions.recount()
    writer.refresh_from_db()
    assert writer.article_count == 1


def test_author_card_shows_the_new_count_after_a_follow(client, django_capture_on_commit_callbacks):
    writer = factories.account(name="被关注的号")
    url = writer.get_absolute_url()
    assert "<dt>粉丝</dt><dd>0</dd>" in client.get(url).content.decode()  # now in the page cache
    with django_capture_on_commit_callbacks(execute=True):
        for name in ("ann", "bob", "cyd"):
            actions.follow(_reader(name), writer)
    assert "<dt>粉丝</dt><dd>3</dd>" in client.get(url).content.decode()  # the cached page was purged
