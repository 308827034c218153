"""`masthead worker` with MASTHEAD_TASKS=database: work waits in the queue while no worker runs and is
done when one does; failures are retried, then reported; periodic jobs are enqueued once per period
however many schedulers run; SIGTERM stops cleanly."""

import io
import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.tasks import TaskResultStatus, task
from django.test import override_settings
from django.utils import timezone

from masthead.accounts.models import Badge
from masthead.articles import actions
from masthead.articles.models import Article
from masthead.discovery import related_tasks  # noqa: F401  (connects the 相关推荐 receiver)
from masthead.discovery.models import ArticleVector, RelatedArticle
from masthead.engagement import counters
from masthead.ops import worker
from tests import factories

ROOT = Path(__file__).resolve().parents[2]
Status = TaskResultStatus

# ---- tasks the tests enqueue (module level, so the worker finds them by their dotted path) ----

_calls: dict[str, int] = {}


@task
def always_fails(note: str) -> None:
    _calls[note] = _calls.get(note, 0) + 1
    raise RuntimeError(f"编辑部停电：{note}")


@task
def fails_once(note: str) -> str:
    _calls[note] = _calls.get(note, 0) + 1
    if _calls[note] == 1:
        raise ConnectionError("数据库闪断")
    return f"done {note}"


@task
def slow(marker: str, seconds: float) -> str:
    Path(marker).write_text("started")
    time.sleep(seconds)
    Path(marker).write_text("done")
    return "done"


# ---- the database backend, as MASTHEAD_TASKS=database configures it ----


@pytest.fixture
def queue(transactional_db, settings):
    """The django-tasks-db app and its table for this test (the suite runs with the Immediate backend)."""
    settings.MASTHEAD_PUBLISH_DUE_SECONDS = float("inf")  # as the worker block sets them: requests do none
    settings.MASTHEAD_HOT_REFRESH_SECONDS = 0
    settings.MASTHEAD_TASK_RETRIES = 3
    settings.MASTHEAD_TASK_RETRY_SECONDS = 10
    with override_settings(
        INSTALLED_APPS=[*settings.INSTALLED_APPS, "django_tasks_db"],
        TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}},
    ):
        from django_tasks_db.models import DBTaskResult

        with connection.schema_editor() as editor:
            editor.create_model(DBTaskResult)
        try:
            yield DBTaskResult
        finally:
            with connection.schema_editor() as editor:
                editor.delete_model(DBTaskResult)


def run_worker(*args: str) -> str:
    out = io.StringIO()
    call_command("worker", "--once", *args, stdout=out)
    return out.getvalue()


def waiting(queue) -> list[str]:
    return sorted(queue.objects.filter(status=Status.READY).values_list("task_path", flat=True))


def scheduled(at, **fields) -> Article:
    writer = factories.account(badge=Badge.QUALITY)
    item = factories.article(publish=False, account_=writer, **fields)
    return actions.schedule(item, at=at)


# ---- publishing while the worker is down ----


def test_publishing_works_while_no_worker_runs_and_the_queue_is_done_when_one_does(queue, client):
    live = factories.article(title="停机时照常发布的文章")
    late = scheduled(timezone.now() + timedelta(hours=1), title="停机期间到点的定时文章")
    # Its time passes while everything is down.
    Article.objects.filter(pk=late.pk).update(scheduled_at=timezone.now() - timedelta(days=2))

    page = client.get("/").content.decode()
    assert "停机时照常发布的文章" in page  # publishing needs no worker
    assert "停机期间到点的定时文章" not in page  # requests leave scheduled publishing to the worker
    assert Article.objects.get(pk=late.pk).status == Article.Status.SCHEDULED
    assert "masthead.discovery.related_tasks.refresh_related" in waiting(queue)  # waits, not lost
    assert not ArticleVector.objects.filter(article=live).exists()

    run_worker()

    assert Article.objects.get(pk=late.pk).status == Article.Status.PUBLISHED
    assert "停机期间到点的定时文章" in client.get("/").content.decode()
    # Both articles (the scheduled one published by the worker itself) got their 相关推荐 vectors.
    assert set(ArticleVector.objects.values_list("article_id", flat=True)) >= {live.pk, late.pk}
    assert waiting(queue) == []
    assert not queue.objects.filter(status=Status.FAILED).exists()


def test_related_refresh_enqueued_on_publish_runs_in_the_worker(queue):
    words = ["足球", "比赛", "球队", "进球", "联赛", "教练", "球员", "射门", "冠军", "主场", "点球", "后卫"]

    def body(n: int) -> str:  # neighbours share words, no two are copies
        mine = (words * 2)[2 * n : 2 * n + 6]
        return "<p>" + "".join(f"{a}和{b}是第{n}期的话题。" for a in mine for b in mine[::-1][:2]) + "</p>"

    older = [factories.article(title=f"球队观察第{n}期", body=body(n), tags=()) for n in range(4)]
    run_worker()
    newest = factories.article(title="球队观察最新一期", body=body(4), tags=())
    assert not RelatedArticle.objects.filter(article=newest).exists()
    assert queue.objects.filter(status=Status.READY, args_kwargs__args=[newest.pk, True]).exists()

    run_worker("--no-scheduler")

    related = set(RelatedArticle.objects.filter(article=newest).values_list("related_id", flat=True))
    assert len(related) >= 2 and related <= {a.pk for a in older}
    # … and the newcomer now appears under each of them: the tasks that task enqueued ran too.
    assert all(RelatedArticle.objects.filter(article_id=pk, related=newest).exists() for pk in related)
    assert waiting(queue) == []


def test_views_buffered_in_redis_are_written_by_the_worker(queue, settings):
    if settings.MASTHEAD_COUNTERS != "redis":
        pytest.skip("the worker flushes a shared buffer only (set REDIS_URL); memory buffers flush from requests")
    settings.MASTHEAD_COUNTER_FLUSH_SECONDS = float("inf")  # as the worker block sets it with Redis
    item = factories.article()
    for _ in range(3):
        counters.record("views", item.pk)
    assert Article.objects.get(pk=item.pk).view_count == 0  # buffered; no request flushes it
    run_worker()
    assert Article.objects.get(pk=item.pk).view_count == 3


# ---- retries ----


def test_a_failing_task_is_retried_with_backoff_then_marked_failed_and_logged(queue, settings, caplog):
    settings.MASTHEAD_TASK_RETRIES = 2
    result = always_fails.enqueue("停电")
    started = timezone.now()
    with caplog.at_level(logging.WARNING, logger="masthead.ops.worker"):
        run_worker("--no-scheduler")
        row = queue.objects.get(pk=result.id)
        # First attempt failed: back in the queue for later (10 s), with its error kept on the row.
        assert row.status == Status.READY and len(row.worker_ids) == 1
        assert row.run_after >= started + timedelta(seconds=10)
        assert "编辑部停电" in row.traceback and row.exception_class_path == "builtins.RuntimeError"
        run_worker("--no-scheduler")  # not due yet: nothing runs
        assert _calls["停电"] == 1

        queue.objects.filter(pk=row.pk).update(run_after=timezone.now())
        run_worker("--no-scheduler")
        row.refresh_from_db()
        assert row.status == Status.READY and len(row.worker_ids) == 2
        assert row.run_after >= timezone.now() + timedelta(seconds=19)  # the wait doubles

        queue.objects.filter(pk=row.pk).update(run_after=timezone.now())
        run_worker("--no-scheduler")
    row.refresh_from_db()
    assert row.status == Status.FAILED and len(row.worker_ids) == 3 and _calls["停电"] == 3
    assert "编辑部停电：停电" in row.traceback
    assert always_fails.get_result(result.id).errors[0].exception_class is RuntimeError
    messages = [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "masthead.ops.worker"]
    assert sum(level == logging.WARNING and "retrying" in text for level, text in messages) == 2
    assert any(level == logging.ERROR and "failed after 3 attempts" in text for level, text in messages)
    listing = io.StringIO()
    call_command("worker", "--failed", stdout=listing)
    assert "tests.ops.test_worker.always_fails" in listing.getvalue() and "编辑部停电" in listing.getvalue()


def test_a_task_that_fails_once_succeeds_on_its_retry(queue, settings):
    settings.MASTHEAD_TASK_RETRY_SECONDS = 0
    result = fails_once.enqueue("闪断")
    run_worker("--no-scheduler")
    row = queue.objects.get(pk=result.id)
    assert row.status == Status.SUCCESSFUL and row.return_value == "done 闪断" and len(row.worker_ids) == 2


def test_a_task_whose_worker_died_goes_back_to_the_queue(queue, settings):
    result = fails_once.enqueue("掉线")
    long_ago = timezone.now() - timedelta(hours=1)
    queue.objects.filter(pk=result.id).update(status=Status.RUNNING, started_at=long_ago, worker_ids=["gone"])
    assert worker.recover_stale() == 1
    assert queue.objects.get(pk=result.id).status == Status.READY

    # Out of attempts, it is failed and says why.
    queue.objects.filter(pk=result.id).update(status=Status.RUNNING, started_at=long_ago, worker_ids=["a"] * 4)
    assert worker.recover_stale() == 1
    row = queue.objects.get(pk=result.id)
    assert row.status == Status.FAILED and row.exception_class_path.endswith("WorkerLost")


# ---- the scheduler ----


def test_two_schedulers_enqueue_each_periodic_job_once_per_period(queue):
    # Early in a UTC hour and day, so that two minutes later only the short periods have turned over.
    now = timezone.now().replace(hour=1, minute=10, second=0, microsecond=0)
    first, second = worker.Scheduler(), worker.Scheduler()
    jobs = {job.name for job in first.jobs}
    assert {"publish_due", "refresh_hot", "prune_results", "clear_sessions"} <= jobs
    assert set(first.tick(now)) == jobs
    assert second.tick(now) == []
    assert waiting(queue) == sorted(job.task_path for job in first.jobs)

    # A new period while the last run still waits (no worker): one waiting is enough.
    later = now + timedelta(seconds=61)
    assert first.tick(later) == [] and second.tick(later) == []
    assert queue.objects.count() == len(jobs)

    run_worker("--no-scheduler")
    assert waiting(queue) == []
    again = now + timedelta(seconds=122)
    short = {job.name for job, seconds in first.jobs.items() if seconds <= 60}
    assert set(second.tick(again)) == short and first.tick(again) == []


def test_schedulers_racing_in_separate_connections_enqueue_once(queue):
    if connection.vendor != "postgresql":
        pytest.skip("two connections writing at once need PostgreSQL (the SQLite test database is in memory)")
    now = timezone.now()
    barrier = threading.Barrier(4)
    enqueued: list[str] = []
    errors: list[BaseException] = []

    def tick() -> None:
        try:
            scheduler = worker.Scheduler()
            barrier.wait()
            enqueued.extend(scheduler.tick(now))
        except BaseException as exc:  # reported below: an exception in a thread would pass silently
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=tick) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    jobs = sorted(job.name for job in worker.schedule())
    assert sorted(enqueued) == jobs
    assert queue.objects.count() == len(jobs)


def test_the_worker_refuses_to_start_when_tasks_run_inside_requests(db):
    with pytest.raises(CommandError, match="MASTHEAD_TASKS=database"):
        call_command("worker", "--once")


SETTINGS_PROBE = (
    "import json, django; from django.conf import settings; django.setup();"
    "print(json.dumps({'backend': settings.TASKS['default']['BACKEND'],"
    " 'app': 'django_tasks_db' in settings.INSTALLED_APPS, 'publish': str(settings.MASTHEAD_PUBLISH_DUE_SECONDS),"
    " 'hot': settings.MASTHEAD_HOT_REFRESH_SECONDS, 'flush': str(settings.MASTHEAD_COUNTER_FLUSH_SECONDS),"
    " 'schedule': getattr(settings, 'MASTHEAD_WORKER_SCHEDULE', None)}))"
)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, {"backend": "django.tasks.backends.immediate.ImmediateBackend", "app": False, "publish": "30.0"}),
        (
            {"MASTHEAD_TASKS": "database", "MASTHEAD_PUBLISH_DUE_SECONDS": "20"},
            {"backend": "django_tasks_db.DatabaseBackend", "app": True, "publish": "inf", "hot": 0, "flush": "10.0"},
        ),
        (
            {"MASTHEAD_TASKS": "database", "REDIS_URL": "redis://127.0.0.1:6379/10"},
            {"flush": "inf", "schedule": {"publish_due": 30.0, "refresh_hot": 60, "flush_counters": 10.0}},
        ),
    ],
)
def test_masthead_tasks_moves_the_periodic_work_from_requests_to_the_worker(tmp_path, env, expected):
    """In a fresh interpreter: settings are read once, from the environment."""
    base = {k: v for k, v in _env(tmp_path).items() if not k.startswith("MASTHEAD_") or k == "MASTHEAD_DATA_DIR"}
    base.pop("MASTHEAD_TASKS", None)
    out = subprocess.run(
        [sys.executable, "-c", SETTINGS_PROBE], env={**base, **env}, capture_output=True, text=True, check=True
    )
    found = json.loads(out.stdout)
    assert {key: found[key] for key in expected} == expected
    if env.get("MASTHEAD_PUBLISH_DUE_SECONDS"):
        assert found["schedule"]["publish_due"] == 20.0  # the same variable now sets the worker's period


# ---- a real process: SIGTERM ----


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(
        MASTHEAD_DATA_DIR=str(tmp_path / "site"),
        MASTHEAD_TASKS="database",
        DJANGO_SETTINGS_MODULE="masthead.settings",
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
    )
    return env


def _masthead(env: dict, *args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "masthead.cli", *args], env=env, cwd=ROOT, capture_output=True, text=True, **kwargs
    )


def _wait_for(predicate, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_sigterm_lets_the_running_task_finish_then_stops(tmp_path):
    """Its own SQLite site in a subprocess (the test database is not reachable from another process)."""
    env = _env(tmp_path)
    assert _masthead(env, "migrate", "-v0", timeout=120).returncode == 0
    marker = tmp_path / "marker"
    code = f"from tests.ops.test_worker import slow; print(slow.enqueue({str(marker)!r}, 2).id)"
    enqueued = _masthead(env, "shell", "-c", code, timeout=60)
    assert enqueued.returncode == 0, enqueued.stderr
    task_id = enqueued.stdout.strip().splitlines()[-1].replace("-", "")
    log = (tmp_path / "worker.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "masthead.cli", "worker", "--interval", "0.2"],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        assert _wait_for(lambda: marker.exists() and marker.read_text() == "started", 60)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        log.close()
    assert marker.read_text() == "done"  # the running task was finished, not cut off
    with sqlite3.connect(tmp_path / "site" / "masthead.sqlite3") as db:
        (status,) = db.execute(
            "SELECT status FROM django_tasks_database_dbtaskresult WHERE replace(id, '-', '') = ?", (task_id,)
        ).fetchone()
    assert status == "SUCCESSFUL"
    assert "stopping after the current task" in (tmp_path / "worker.log").read_text()

    # Idle, it stops at once.
    idle_log = tmp_path / "idle.log"
    with idle_log.open("w") as out:
        idle = subprocess.Popen(
            [sys.executable, "-m", "masthead.cli", "worker"], env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
        )
        try:
            assert _wait_for(lambda: "started" in idle_log.read_text(), 60)
            proc_started = time.monotonic()
            idle.send_signal(signal.SIGTERM)
            assert idle.wait(timeout=10) == 0
            assert time.monotonic() - proc_started < 5
        finally:
            if idle.poll() is None:
                idle.kill()
    assert "stopped" in idle_log.read_text()
