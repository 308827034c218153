"""Views and shares are counted on every read, cached or not, and written in batches."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from masthead.engagement import counters
from masthead.engagement.models import ArticleStatHour
from tests import factories

pytestmark = pytest.mark.django_db


def _this_hour() -> datetime:
    return datetime.fromtimestamp(counters.current_hour(), UTC)


def _writes_to(queries: list[dict], table: str) -> list[str]:
    return [
        q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(("UPDATE", "INSERT")) and table in q["sql"]
    ]


def test_views_on_cached_pages_are_counted_and_flushed_with_one_update_per_article(client):
    first, second = factories.article(), factories.article()
    with CaptureQueriesContext(connection) as reads:
        responses = [client.get(first.get_absolute_url()) for _ in range(5)]
        responses += [client.get(second.get_absolute_url()) for _ in range(2)]
    assert [r.status_code for r in responses] == [200] * 7
    assert [r["X-Page-Cache"] for r in responses[:5]] == ["miss", "hit", "hit", "hit", "hit"]
    # Reading writes nothing: no UPDATE of the article row per request.
    assert _writes_to(reads.captured_queries, "articles_article") == []
    assert _writes_to(reads.captured_queries, "engagement_articlestathour") == []

    with CaptureQueriesContext(connection) as flush:
        assert counters.flush() == 7
    assert len(_writes_to(flush.captured_queries, "articles_article")) == 2  # one per article
    assert len(_writes_to(flush.captured_queries, "engagement_articlestathour")) == 1  # one batch
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.view_count, second.view_count) == (5, 2)
    assert ArticleStatHour.objects.get(article=first, hour=_this_hour()).views == 5
    assert ArticleStatHour.objects.get(article=second, hour=_this_hour()).views == 2

    assert counters.flush() == 0  # nothing is written twice
    client.get(first.get_absolute_url())
    assert counters.flush() == 1
    first.refresh_from_db()
    stat = ArticleStatHour.objects.get(article=first, hour=_this_hour())
    assert first.view_count == stat.views == 6  # the hourly row is added to, not overwritten


def test_share_link_counts_a_share_and_sends_the_reader_to_weibo(client):
    item = factories.article(title="值得分享")
    client.get(item.get_absolute_url())
    response = client.get(f"/a/{item.pk}/share/weibo/")
    assert response.status_code == 302
    assert response["Location"].startswith("https://service.weibo.com/share/share.php?")
    assert f"http%3A%2F%2Ftestserver%2Fa%2F{item.pk}%2F" in response["Location"]
    assert client.get(f"/a/{item.pk}/share/qq/")["Location"].startswith("https://connect.qq.com/")
    assert client.get(f"/a/{item.pk}/share/myspace/").status_code == 404

    with CaptureQueriesContext(connection) as flush:
        assert counters.flush() == 2  # one view; two share links by one reader are one share
    assert len(_writes_to(flush.captured_queries, "articles_article")) == 1  # views and shares together
    item.refresh_from_db()
    assert (item.view_count, item.share_count) == (1, 1)
    stat = ArticleStatHour.objects.get(article=item, hour=_this_hour())
    assert (stat.views, stat.shares) == (1, 1)


def test_unpublished_or_removed_articles_count_nothing(client):
    draft = factories.article(publish=False)
    assert client.get(f"/a/{draft.pk}/").status_code == 404
    assert client.get(f"/a/{draft.pk}/share/weibo/").status_code == 404
    assert counters.flush() == 0


def test_requests_flush_on_their_own_once_the_interval_has_passed(client, settings):
    item = factories.article()
    settings.MASTHEAD_COUNTER_FLUSH_SECONDS = 0
    client.get(item.get_absolute_url())  # this read is counted, then flushed from the request path
    item.refresh_from_db()
    assert item.view_count == 1
    assert counters.flush() == 0


def test_increments_for_an_article_deleted_before_the_flush_are_dropped(client):
    kept, deleted = factories.article(), factories.article()
    client.get(kept.get_absolute_url())
    client.get(deleted.get_absolute_url())
    deleted.delete()
    assert counters.flush() == 1
    kept.refresh_from_db()
    assert kept.view_count == 1
    assert not ArticleStatHour.objects.filter(article_id=deleted.pk).exists()
