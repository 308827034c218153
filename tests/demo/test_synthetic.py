"""Synthetic articles for benchmarks (`masthead demo --articles N`), without loading the full demo."""

import io
import re
import time
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count, Q, Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from masthead.accounts.models import Account
from masthead.articles.models import Article
from masthead.channels.models import Channel
from masthead.demo.loader import DEMO_NOTE
from masthead.demo.synthetic import RECENT, generate_articles
from masthead.engagement.models import ArticleStatHour
from tests import factories

pytestmark = pytest.mark.django_db

HAN = re.compile(r"[\u4e00-\u9fff]")


def _quiet(_msg: str) -> None:
    pass


@pytest.fixture
def writers():
    """Two accounts with no demo handle (so authors are picked at random) and one cover picture."""
    first, second = factories.account(), factories.account()
    factories.image(account=first, data=factories.image_bytes(size=(1200, 675)))
    return [first, second]


@pytest.fixture
def anonymous(client, settings):
    settings.MASTHEAD_PAGE_CACHE_SECONDS = 0
    # A counter flush inside a measured request would add its writes to the query count.
    settings.MASTHEAD_COUNTER_FLUSH_SECONDS = 10**9
    return client


def test_generates_published_tagged_long_articles_in_every_channel(writers):
    started = time.monotonic()
    assert generate_articles(2000, log=_quiet) == 2000
    assert time.monotonic() - started < 30  # about a second here; 100,000 must stay practical

    articles = Article.objects.all()
    assert articles.count() == 2000
    assert articles.filter(status=Article.Status.PUBLISHED).count() == 2000
    assert not articles.annotate(n=Count("tags")).filter(n=0).exists()
    assert articles.values("title").distinct().count() == 2000
    assert articles.exclude(cover=None).exists() and articles.filter(cover=None).exists()
    now = timezone.now()
    assert not articles.filter(Q(published_at__gt=now) | Q(published_at__lt=now - timedelta(days=366))).exists()
    for item in articles.order_by("?")[:50]:
        assert len(HAN.findall(item.body_text)) >= 400, item.title
        assert DEMO_NOTE in item.body_text
    empty = Channel.objects.filter(is_active=True).annotate(n=Count("articles")).filter(n=0)
    assert list(empty) == []
    for account in Account.objects.all():
        assert account.article_count == account.articles.count() > 0


def test_recent_articles_get_hourly_stats_and_fill_the_hot_list(writers, anonymous):
    generate_articles(3000, log=_quiet)
    recent = Article.objects.filter(published_at__gte=timezone.now() - RECENT)
    assert recent.exists()
    stats = ArticleStatHour.objects.all()
    assert stats.exists()
    assert not stats.exclude(article__in=recent).exists()  # older articles are not read any more
    for item in recent.annotate(read=Sum("hourly_stats__views")):
        assert item.view_count >= (item.read or 0)
    html = anonymous.get("/").content.decode()
    hot = html[html.index('<ol class="hot-list">') : html.index("</ol>", html.index('<ol class="hot-list">'))]
    shown = [int(pk) for pk in re.findall(r'href="/a/(\d+)/"', hot)]
    assert len(shown) >= 3
    assert set(shown) <= set(recent.values_list("pk", flat=True))  # the hot list is what was read lately


def _queries(client, url: str) -> int:
    cache.clear()  # cold: no cached fragments either
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200, url
    return len(captured)


def test_page_query_counts_stay_the_same_as_synthetic_articles_grow(writers, anonymous):
    # Enough articles that every block (hot list, related, channel blocks) has content, then many more.
    generate_articles(1500, log=_quiet)
    item = Article.objects.filter(tags__isnull=False).order_by("-published_at").first()
    urls = ["/", "/?page=3", item.channel.get_absolute_url(), writers[0].get_absolute_url(), item.get_absolute_url()]
    small = [_queries(anonymous, url) for url in urls]
    assert all(count <= 12 for count in small), small
    generate_articles(3000, seed=7, log=_quiet)
    assert Article.objects.count() == 4500
    assert [_queries(anonymous, url) for url in urls] == small


def test_repeated_runs_add_articles_with_new_titles(writers):
    generate_articles(300, log=_quiet)
    generate_articles(300, log=_quiet)
    assert Article.objects.count() == 600
    assert Article.objects.values("title").distinct().count() == 600


def test_without_accounts_nothing_is_generated():
    with pytest.raises(RuntimeError, match="demo"):
        generate_articles(10, log=_quiet)
    assert not Article.objects.exists()
    assert generate_articles(0, log=_quiet) == 0


def test_demo_command_rejects_a_negative_count():
    with pytest.raises(CommandError):
        call_command("demo", "--articles", "-5", stdout=io.StringIO())
    assert not Account.objects.exists()
