"""Scheduled publishing: on time, after downtime, once however many runs overlap, and from every trigger."""

import io
import threading
import time
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from masthead.accounts.models import Account, Badge
from masthead.articles import actions, scheduler, workflow
from masthead.articles.models import Article
from tests import factories

Status = Article.Status


def _scheduled(at, account=None, **fields) -> Article:
    item = factories.article(publish=False, account_=account or factories.account(badge=Badge.QUALITY), **fields)
    return actions.schedule(item, at=at)


def _status(article: Article) -> str:
    return Article.objects.values_list("status", flat=True).get(pk=article.pk)


@pytest.mark.django_db
def test_publishes_on_time_and_not_before():
    now = timezone.now()
    item = _scheduled(now + timedelta(hours=1))
    assert scheduler.publish_due(now) == []
    assert scheduler.publish_due(now + timedelta(minutes=59)) == []
    assert _status(item) == Status.SCHEDULED
    assert scheduler.publish_due(now + timedelta(hours=1)) == [item.pk]
    row = Article.objects.get(pk=item.pk)
    assert row.status == Status.PUBLISHED and row.published_at is not None
    assert scheduler.publish_due(now + timedelta(hours=2)) == []  # idempotent


@pytest.mark.django_db
def test_an_article_due_while_everything_was_down_goes_out_on_the_next_run(client, django_capture_on_commit_callbacks):
    writer = factories.account(badge=Badge.QUALITY)
    item = _scheduled(timezone.now() + timedelta(hours=1), account=writer, title="停机期间到点的文章")
    Article.objects.filter(pk=item.pk).update(scheduled_at=timezone.now() - timedelta(days=3))
    assert "停机期间到点的文章" not in client.get("/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        assert scheduler.publish_due() == [item.pk]
    assert "停机期间到点的文章" in client.get("/").content.decode()
    writer.refresh_from_db()
    assert writer.article_count == 1


@pytest.mark.django_db
def test_due_articles_go_out_in_the_order_they_were_due():
    now = timezone.now()
    later = _scheduled(now + timedelta(minutes=10))
    sooner = _scheduled(now + timedelta(minutes=5))
    assert scheduler.publish_due(now + timedelta(hours=1)) == [sooner.pk, later.pk]


@pytest.mark.django_db
def test_an_article_that_breaks_a_rule_by_then_waits_until_it_is_fixed():
    staff = User.objects.create_user("chief", is_staff=True)
    writer = factories.account(
        field="finance", credential_name="证券从业资格", credential_expires_on=timezone.localdate(), badge=Badge.QUALITY
    )
    at = timezone.now() + timedelta(days=2)
    item = _scheduled(at, account=writer, channel_=factories.channel("finance"))
    Account.objects.filter(pk=writer.pk).update(credential_expires_on=timezone.localdate() - timedelta(days=1))
    assert scheduler.publish_due(at) == []
    assert _status(item) == Status.SCHEDULED
    writer.refresh_from_db()
    workflow.renew_credential(
        writer, by=staff, name="证券从业资格", expires_on=timezone.localdate() + timedelta(days=90)
    )
    assert scheduler.publish_due(at) == [item.pk]


@pytest.mark.django_db
def test_two_runs_one_after_the_other_publish_once():
    now = timezone.now()
    items = [_scheduled(now - timedelta(minutes=n)) for n in range(3)]
    first, second = scheduler.publish_due(), scheduler.publish_due()
    assert sorted(first) == sorted(i.pk for i in items) and second == []


@pytest.mark.django_db
def test_a_draft_or_removed_article_with_an_old_time_is_not_published():
    now = timezone.now()
    draft = factories.article(publish=False)
    Article.objects.filter(pk=draft.pk).update(scheduled_at=now - timedelta(hours=1))
    gone = _scheduled(now + timedelta(hours=1))
    actions.remove(gone, reason="违规")
    assert scheduler.publish_due(now + timedelta(hours=2)) == []
    assert (_status(draft), _status(gone)) == (Status.DRAFT, Status.REMOVED)


@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_publish_each_article_exactly_once():
    if connection.vendor != "postgresql":
        pytest.skip("two connections writing at once need PostgreSQL (the SQLite test database is in memory)")
    writers = [factories.account(badge=Badge.QUALITY) for _ in range(3)]
    due = timezone.now() - timedelta(seconds=1)
    ids = sorted(_scheduled(due + timedelta(hours=1), account=writers[n % 3]).pk for n in range(24))
    Article.objects.filter(pk__in=ids).update(scheduled_at=due)
    barrier = threading.Barrier(3)
    results: list[list[int]] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            results.append(scheduler.publish_due())
        except BaseException as exc:  # reported below: an exception in a thread would pass silently
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    published = [pk for run_ids in results for pk in run_ids]
    assert sorted(published) == ids  # every article once, none twice
    assert set(Article.objects.filter(pk__in=ids).values_list("status", flat=True)) == {Status.PUBLISHED}
    assert sorted(Account.objects.filter(pk__in=[w.pk for w in writers]).values_list("article_count", flat=True)) == [
        8,
        8,
        8,
    ]


@pytest.mark.django_db
def test_the_command_publishes_and_says_what():
    item = _scheduled(timezone.now() + timedelta(hours=1))
    out = io.StringIO()
    call_command("publishdue", stdout=out)
    assert out.getvalue().strip() == "0 scheduled articles published."
    Article.objects.filter(pk=item.pk).update(scheduled_at=timezone.now() - timedelta(seconds=1))
    call_command("publishdue", stdout=out)
    assert f"1 scheduled articles published: {item.pk}" in out.getvalue()
    assert _status(item) == Status.PUBLISHED


@pytest.mark.django_db
def test_the_command_as_a_worker_loop_picks_up_articles_as_they_fall_due():
    soon = timezone.now() + timedelta(seconds=0.3)
    item = _scheduled(soon)
    out = io.StringIO()
    started = time.monotonic()
    call_command("publishdue", "--loop", "0.1", "--runs", "8", stdout=out)
    assert time.monotonic() - started >= 0.7
    assert _status(item) == Status.PUBLISHED
    assert out.getvalue().count("scheduled articles published") == 1  # quiet while nothing was due


@pytest.mark.django_db
def test_the_task_runs_publish_due():
    item = _scheduled(timezone.now() + timedelta(hours=1))
    Article.objects.filter(pk=item.pk).update(scheduled_at=timezone.now() - timedelta(seconds=1))
    result = scheduler.publish_due_task.enqueue()
    assert result.return_value == [item.pk]
    assert _status(item) == Status.PUBLISHED


@pytest.fixture
def publish_from_requests(settings):
    settings.MIDDLEWARE = ["masthead.articles.scheduler.PublishDueMiddleware", *settings.MIDDLEWARE]
    return settings


@pytest.mark.django_db
def test_without_a_worker_a_reader_request_publishes_due_articles(
    client, publish_from_requests, monkeypatch, django_capture_on_commit_callbacks
):
    publish_from_requests.MASTHEAD_PUBLISH_DUE_SECONDS = 30
    item = _scheduled(timezone.now() + timedelta(hours=1), title="读者请求触发的定时文章")
    Article.objects.filter(pk=item.pk).update(scheduled_at=timezone.now() - timedelta(seconds=1))
    monkeypatch.setattr(scheduler, "_last_run", time.monotonic())  # ran a moment ago: not yet again
    assert "读者请求触发的定时文章" not in client.get("/").content.decode()
    assert _status(item) == Status.SCHEDULED
    monkeypatch.setattr(scheduler, "_last_run", time.monotonic() - 31)  # 30 s later
    with django_capture_on_commit_callbacks(execute=True):  # publishing purges the cached front page
        client.get("/")
    assert "读者请求触发的定时文章" in client.get("/").content.decode()
    assert _status(item) == Status.PUBLISHED


@pytest.mark.django_db
def test_a_failing_run_never_fails_the_readers_request(client, publish_from_requests, monkeypatch):
    publish_from_requests.MASTHEAD_PUBLISH_DUE_SECONDS = 0

    def broken(now=None):
        raise RuntimeError("database went away")

    monkeypatch.setattr(scheduler, "publish_due", broken)
    assert client.get("/").status_code == 200
