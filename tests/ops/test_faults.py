"""Faults that must lose nothing: with the Redis cache down every reader page still answers and
every reader action still works (degraded: no cache, limits and hot-list evidence skipped), and what
was accepted is in the database."""

import pytest
import redis
from django.core.cache import cache
from django.test import override_settings

from masthead.engagement.models import ArticleLike, Comment
from tests import factories
from tests.engagement.comment_helpers import reader

pytestmark = [pytest.mark.django_db]

DEAD_REDIS = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
}


def test_with_the_cache_down_every_page_answers_and_reader_actions_are_kept(client, settings):
    item = factories.article(title="缓存停了也要能读能评")
    client.force_login(reader())
    with override_settings(CACHES=DEAD_REDIS):
        with pytest.raises(redis.ConnectionError):
            cache.get("anything")  # every cache call below really fails
        pages = [
            "/", "/c/tech/", item.account.get_absolute_url(), item.get_absolute_url(), "/search/?q=缓存",
            "/hot/", "/feed/", "/me/", f"/a/{item.pk}/comments/", "/how-it-works/",
        ]  # fmt: skip
        for path in pages:
            assert client.get(path).status_code == 200, path
        posted = client.post(
            f"/a/{item.pk}/comments/post/", {"body": "Redis 停了，跟帖还在", "client_token": "fault-1"}, follow=True
        )
        assert posted.status_code == 200
        liked = client.post(f"/a/{item.pk}/like/", {"state": "on"}, follow=True)
        assert liked.status_code == 200
    assert Comment.objects.filter(article=item, body="Redis 停了，跟帖还在").count() == 1
    assert ArticleLike.objects.filter(article=item).count() == 1
