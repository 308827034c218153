"""Distinct readers per article per day, read completion, and how long per-reader data is kept."""

import os
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core.management import call_command
from django.test import RequestFactory

from masthead.engagement import counters, readers
from masthead.engagement.backends.redis import DIRTY, HASH
from masthead.engagement.models import ArticleReader, ArticleStatDay, ArticleStatHour
from tests import factories
from tests.redis_server import redis_or_skip

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY_ONE = date(2026, 3, 9)
DAY_TWO = DAY_ONE + timedelta(days=1)
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"
CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/140.0 Safari/537.36"
READERS_REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/7"
DEAD_REDIS = "redis://127.0.0.1:1/0"


def _at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), SHANGHAI)


def _anonymous(ip: str = "203.0.113.7", agent: str = FIREFOX):
    request = RequestFactory().get("/a/1/", REMOTE_ADDR=ip, HTTP_USER_AGENT=agent)
    request.user = AnonymousUser()
    return request


def _signed_in(user, ip: str = "198.51.100.1"):
    request = RequestFactory().get("/a/1/", REMOTE_ADDR=ip, HTTP_USER_AGENT=CHROME)
    request.user = user
    return request


def _readers(article, day: date) -> int:
    row = ArticleStatDay.objects.filter(article=article, day=day).first()
    return row.readers if row else 0


@pytest.fixture
def memory_counters(settings):
    """The embedded default's path (digest rows in the database), also when the run has REDIS_URL set."""
    settings.MASTHEAD_COUNTERS = "memory"


@pytest.fixture
def reader_redis(settings):
    """Counters and reader sets in Redis database 7, emptied; skipped when no server answers, unless
    MASTHEAD_REQUIRE_REDIS=1 says Redis is part of this run."""
    client = redis_or_skip(READERS_REDIS_URL)

    def empty():
        client.delete(HASH, DIRTY, *client.keys("masthead:readers:*"))

    empty()
    settings.MASTHEAD_COUNTERS = "redis"
    settings.REDIS_URL = READERS_REDIS_URL
    yield client
    counters.flush()
    empty()
    client.close()


def test_an_anonymous_reader_counts_once_a_day_and_again_the_next_day():
    item = factories.article()
    for minute in (0, 5, 50):  # the same browser three times in one day
        readers.record_view(_anonymous(), item.pk, at=_at(DAY_ONE, 9, minute))
    readers.record_view(_anonymous(agent=CHROME), item.pk, at=_at(DAY_ONE, 11))  # another browser, same address
    readers.record_view(_anonymous(ip="203.0.113.8"), item.pk, at=_at(DAY_ONE, 12))  # another address
    counters.flush(now=_at(DAY_ONE, 23))
    assert _readers(item, DAY_ONE) == 3
    assert ArticleStatDay.objects.get(article=item, day=DAY_ONE).views == 5

    readers.record_view(_anonymous(), item.pk, at=_at(DAY_TWO, 8))
    readers.record_view(_anonymous(), item.pk, at=_at(DAY_TWO, 9))
    counters.flush(now=_at(DAY_TWO, 23))
    assert _readers(item, DAY_TWO) == 1  # back the next day: counted again, once
    assert _readers(item, DAY_ONE) == 3


def test_a_signed_in_reader_is_one_reader_whatever_their_address():
    item = factories.article()
    user = get_user_model().objects.create_user("reader", password="a-long-pass-phrase")
    readers.record_view(_signed_in(user, ip="198.51.100.1"), item.pk, at=_at(DAY_ONE, 8))
    readers.record_view(_signed_in(user, ip="192.0.2.44"), item.pk, at=_at(DAY_ONE, 20))  # phone, later
    counters.flush(now=_at(DAY_ONE, 21))
    assert _readers(item, DAY_ONE) == 1
    readers.record_view(_signed_in(user), item.pk, at=_at(DAY_TWO, 8))
    counters.flush(now=_at(DAY_TWO, 9))
    assert _readers(item, DAY_TWO) == 1
    assert sum(ArticleStatDay.objects.filter(article=item).values_list("readers", flat=True)) == 2


def test_days_are_shanghai_days():
    item = factories.article()
    # 23:30 and 00:30 Beijing time are two days, though both are 15:30/16:30 of one UTC day.
    readers.record_view(_anonymous(), item.pk, at=_at(DAY_ONE, 23, 30))
    readers.record_view(_anonymous(), item.pk, at=_at(DAY_TWO, 0, 30))
    counters.flush(now=_at(DAY_TWO, 1))
    days = dict(ArticleStatDay.objects.filter(article=item).values_list("day", "readers"))
    assert days == {DAY_ONE: 1, DAY_TWO: 1}


@pytest.mark.usefixtures("memory_counters")
def test_no_address_or_user_id_is_stored_and_digests_cannot_be_linked_across_days():
    item = factories.article()
    user = get_user_model().objects.create_user("private", password="a-long-pass-phrase")
    request = _anonymous(ip="203.0.113.99")
    one, two = readers.reader_digest(request, _at(DAY_ONE)), readers.reader_digest(request, _at(DAY_TWO))
    assert one != two  # a new random salt every day
    assert readers.reader_digest(_anonymous(ip="203.0.113.99"), _at(DAY_ONE, 22)) == one  # stable within the day
    readers.record_view(request, item.pk, at=_at(DAY_ONE))
    readers.record_view(_signed_in(user), item.pk, at=_at(DAY_ONE))
    counters.flush(now=_at(DAY_ONE, 11))
    stored = list(ArticleReader.objects.filter(article=item).values_list("reader", flat=True))
    assert len(stored) == 2
    assert all("203.0.113.99" not in r and r != str(user.pk) and len(r) == 32 for r in stored)


@pytest.mark.usefixtures("memory_counters")
def test_reader_rows_are_purged_after_two_days_and_the_counts_stay():
    item = factories.article()
    for ip in ("203.0.113.1", "203.0.113.2"):
        readers.record_view(_anonymous(ip=ip), item.pk, at=_at(DAY_ONE))
    counters.flush(now=_at(DAY_ONE, 12))
    assert ArticleReader.objects.filter(article=item, day=DAY_ONE).count() == 2

    readers.record_view(_anonymous(), item.pk, at=_at(DAY_TWO))
    counters.flush(now=_at(DAY_TWO, 12))  # yesterday's readers are still needed to recognise late reads
    assert ArticleReader.objects.filter(article=item, day=DAY_ONE).count() == 2

    day_three = DAY_ONE + timedelta(days=2)
    readers.record_view(_anonymous(), item.pk, at=_at(day_three, 0, 1))
    counters.flush(now=_at(day_three, 0, 5))  # the first flush of day three
    assert not ArticleReader.objects.filter(article=item, day=DAY_ONE).exists()
    assert _readers(item, DAY_ONE) == 2  # the counts stay
    assert _readers(item, DAY_TWO) == 1


@pytest.mark.usefixtures("memory_counters")
def test_flushcounters_purges_old_reader_rows_even_on_a_quiet_day(capsys):
    item = factories.article()
    long_ago = counters.local_day() - timedelta(days=2)
    readers.record_view(_anonymous(), item.pk, at=_at(long_ago))
    readers.record_view(_anonymous(), item.pk, at=_at(counters.local_day(), 0, 0))
    counters.flush(now=_at(long_ago, 12))
    assert ArticleReader.objects.filter(article=item).count() == 2
    call_command("flushcounters")
    assert list(ArticleReader.objects.filter(article=item).values_list("day", flat=True)) == [counters.local_day()]
    assert _readers(item, long_ago) == 1


def test_a_late_flush_never_lowers_a_days_count():
    item = factories.article()
    for ip in ("203.0.113.1", "203.0.113.2", "203.0.113.3"):
        readers.record_view(_anonymous(ip=ip), item.pk, at=_at(DAY_ONE))
    counters.flush(now=_at(DAY_ONE, 12))
    counters.flush(now=_at(DAY_ONE + timedelta(days=3)))  # digests purged
    readers.record_view(_anonymous(ip="203.0.113.1"), item.pk, at=_at(DAY_ONE, 23, 59))  # arrives very late
    counters.flush(now=_at(DAY_ONE + timedelta(days=3), 0, 1))
    assert _readers(item, DAY_ONE) == 3


def test_completion_is_stored_as_sum_and_count_per_day():
    item = factories.article()
    for depth in (100, 50, 30, 0):
        counters.record_completion(item.pk, depth, at=_at(DAY_ONE))
    counters.record_completion(item.pk, 90, at=_at(DAY_TWO))
    assert counters.flush(now=_at(DAY_TWO, 12)) == 5  # five reports
    days = {d.day: (d.depth_sum, d.depth_count) for d in ArticleStatDay.objects.filter(article=item)}
    assert days == {DAY_ONE: (180, 4), DAY_TWO: (90, 1)}
    item.refresh_from_db()
    assert item.view_count == 0  # a report is not a view
    with pytest.raises(ValueError):
        counters.record_completion(item.pk, 101)


def test_views_still_feed_the_hourly_rows_of_the_hot_list():
    item = factories.article()
    readers.record_view(_anonymous(), item.pk, at=_at(DAY_ONE, 10, 10))
    readers.record_view(_anonymous(), item.pk, at=_at(DAY_ONE, 10, 40))
    counters.flush(now=_at(DAY_ONE, 11))
    assert ArticleStatHour.objects.get(article=item, hour=_at(DAY_ONE, 10)).views == 2
    assert ArticleStatDay.objects.get(article=item, day=DAY_ONE).views == 2


def test_readers_of_a_deleted_article_are_dropped():
    kept, deleted = factories.article(), factories.article()
    readers.record_view(_anonymous(), kept.pk, at=_at(DAY_ONE))
    readers.record_view(_anonymous(), deleted.pk, at=_at(DAY_ONE))
    deleted.delete()
    counters.flush(now=_at(DAY_ONE, 12))
    assert _readers(kept, DAY_ONE) == 1
    assert not ArticleReader.objects.filter(article_id=deleted.pk).exists()


def test_reading_the_page_cached_or_not_counts_the_reader_once(client):
    item = factories.article()
    for _ in range(3):
        assert (
            client.get(item.get_absolute_url(), REMOTE_ADDR="203.0.113.5", HTTP_USER_AGENT=FIREFOX).status_code == 200
        )
    client.get(item.get_absolute_url(), REMOTE_ADDR="203.0.113.6", HTTP_USER_AGENT=FIREFOX)
    counters.flush()
    assert _readers(item, counters.local_day()) == 2


def test_redis_counts_readers_in_a_hyperloglog_and_stores_no_digests(reader_redis):
    item = factories.article()
    user = get_user_model().objects.create_user("hll", password="a-long-pass-phrase")
    for _ in range(3):
        readers.record_view(_anonymous(), item.pk, at=_at(DAY_ONE))
        readers.record_view(_signed_in(user), item.pk, at=_at(DAY_ONE))
    readers.record_view(_anonymous(ip="203.0.113.50"), item.pk, at=_at(DAY_ONE))
    assert reader_redis.pfcount(f"masthead:readers:{item.pk}:{DAY_ONE.isoformat()}") == 3
    assert reader_redis.ttl(f"masthead:readers:{item.pk}:{DAY_ONE.isoformat()}") > 2 * 24 * 3600

    assert counters.flush(now=_at(DAY_ONE, 12)) == 7
    assert _readers(item, DAY_ONE) == 3
    assert not ArticleReader.objects.exists()  # the HyperLogLog is the set; no per-reader rows

    readers.record_view(_anonymous(), item.pk, at=_at(DAY_ONE, 13))  # already counted today
    readers.record_view(_anonymous(), item.pk, at=_at(DAY_TWO, 9))  # a new day
    counters.flush(now=_at(DAY_TWO, 12))
    assert (_readers(item, DAY_ONE), _readers(item, DAY_TWO)) == (3, 1)
    assert counters.flush(now=_at(DAY_TWO, 12)) == 0  # nothing counted twice


def test_two_servers_sharing_redis_count_a_reader_once(reader_redis):
    from masthead.engagement.backends.redis import RedisCounters

    item = factories.article()
    digest = readers.reader_digest(_anonymous(), _at(DAY_ONE))
    RedisCounters(READERS_REDIS_URL).add_reader(item.pk, DAY_ONE, digest)  # another app server
    readers.record_view(_anonymous(), item.pk, at=_at(DAY_ONE))  # this one, same reader
    counters.flush(now=_at(DAY_ONE, 12))
    assert _readers(item, DAY_ONE) == 1


def test_with_redis_down_readers_are_kept_in_memory_and_still_counted(settings, caplog):
    item = factories.article()
    settings.MASTHEAD_COUNTERS = "redis"
    settings.REDIS_URL = DEAD_REDIS
    readers.record_view(_anonymous(), item.pk, at=_at(DAY_ONE))
    readers.record_view(_anonymous(), item.pk, at=_at(DAY_ONE, 11))
    readers.record_view(_anonymous(ip="203.0.113.9"), item.pk, at=_at(DAY_ONE))
    assert "counter backend unavailable" in caplog.text
    assert counters.flush(now=_at(DAY_ONE, 12)) == 3
    assert _readers(item, DAY_ONE) == 2


def test_hourly_rows_written_directly_become_daily_views_once():
    from masthead.engagement import daily

    item = factories.article()
    ArticleStatHour.objects.bulk_create(
        [
            ArticleStatHour(article=item, hour=_at(DAY_ONE, 23), views=5, shares=1),  # 15:00 UTC
            ArticleStatHour(article=item, hour=_at(DAY_TWO, 0), views=7),  # 16:00 UTC, the next Beijing day
            ArticleStatHour(article=item, hour=_at(DAY_TWO, 9), views=3),
        ]
    )
    daily.days_from_hours([item.pk])
    daily.days_from_hours([item.pk])  # again: nothing doubles
    days = {d.day: (d.views, d.shares) for d in ArticleStatDay.objects.filter(article=item)}
    assert days == {DAY_ONE: (5, 1), DAY_TWO: (10, 0)}
