"""PostgreSQL search engine: migration 0003 gives existing rows the same `head` that indexing writes."""

import importlib

import pytest
from django.db import connection

from masthead.discovery.search import search
from tests import factories

pytestmark = pytest.mark.django_db
head_migration = importlib.import_module("masthead.discovery.migrations.0003_search_head")


def _heads() -> dict[int, list[str]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT article_id, head::text FROM discovery_searchentry ORDER BY article_id")
        return dict(cursor.fetchall())


def test_migration_derives_the_head_indexing_writes(django_capture_on_commit_callbacks):
    if connection.vendor != "postgresql":
        pytest.skip("the head tsvector exists on PostgreSQL only")
    with django_capture_on_commit_callbacks(execute=True):
        item = factories.article(
            title="量子计算机的新进展 iPhone16",
            body="<p>正文里提到了超导和 O'Neil 的故事。</p>",
            channel_=factories.channel("sports"),
            tags=("c++", "量子"),
        )
        factories.article(title="家常菜的十种做法", body="<p>体育锻炼和做饭。</p>", channel_=factories.channel("tech"))
    written = _heads()
    assert written[item.pk]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE discovery_searchentry SET head = NULL")
        cursor.execute(head_migration.HEAD_FROM_DOCUMENT)
    derived = _heads()

    def lexemes(value: str) -> set[str]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT tsvector_to_array(%s::tsvector)", [value])
            return set(cursor.fetchone()[0])

    for pk, head in written.items():
        assert lexemes(derived[pk]) == lexemes(head)
    # And the title/meta arms still find what they found: a title phrase, a prefix, a channel name.
    assert [h.article.pk for h in search("量子计算").hits] == [item.pk]
    assert [h.article.pk for h in search("iphone").hits] == [item.pk]
    assert search("体育").hits[0].article.pk == item.pk  # channel name (meta) above body
