"""`masthead worker`: runs django.tasks from the database queue, and enqueues the periodic jobs.

With MASTHEAD_TASKS=database, `.enqueue()` writes a row (django-tasks-db) instead of running the task
inside the request. One `masthead worker` process (or several, on one machine or many) takes those rows
and runs them with django-tasks-db's own worker loop, plus three things of ours (docs/worker.md):

- Retries. django-tasks-db marks a task that raises as failed at once. Here a failure puts the row
  back in the queue with an exponential backoff (MASTHEAD_TASK_RETRY_SECONDS, doubling) until it has
  been tried 1 + MASTHEAD_TASK_RETRIES times; then it is marked failed, with its traceback kept in the
  row (the admin's "Task results", `masthead worker --failed`) and logged at ERROR. A task whose
  worker died mid-run (kill -9, a lost machine) stays "running" for ever in django-tasks-db; the
  scheduler puts such rows back after MASTHEAD_TASK_STALE_SECONDS, counting it as an attempt.
- The schedule. Every worker process runs a small scheduler that enqueues the periodic jobs (JOBS)
  once per period. It needs no leader: the row of "job J, period P" has a primary key derived from
  J and P, so however many schedulers see period P start, the database accepts one row and refuses
  the others. A job that is still waiting in the queue is not enqueued again, so a stopped or busy
  worker finds one of each waiting, not a pile. When everything was down, the first tick enqueues
  every job, so an article whose publication time passed meanwhile goes out at once.
- A clean stop. SIGTERM (or Ctrl+C) lets the running task finish and then exits; a second one
  interrupts the task, which is put back in the queue.
"""

from __future__ import annotations

import logging
import signal
import socket
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache, partial
from traceback import format_exception
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.db import IntegrityError, close_old_connections, connection, transaction
from django.tasks import DEFAULT_TASK_BACKEND_ALIAS, Task, task, task_backends
from django.tasks.signals import task_enqueued
from django.utils import timezone
from django.utils.module_loading import import_string

log = logging.getLogger(__name__)

DEFAULT_RETRIES = 3
DEFAULT_RETRY_SECONDS = 10.0
DEFAULT_STALE_SECONDS = 900.0
DEFAULT_KEEP_DAYS = 2  # successful results (the periodic jobs alone write about 13,000 a day)
DEFAULT_KEEP_FAILED_DAYS = 30
BATCH_TASKS = 50  # tasks between two scheduler ticks while the queue is never empty
STALE_CHECK_SECONDS = 60.0
ERROR_PAUSE_SECONDS = 5.0
# Namespace of the ids of periodic rows: uuid5(NAMESPACE, "job:seconds:period").
NAMESPACE = uuid.UUID("6f0c8a52-3d0e-4a8f-9a53-6b8a0f3c2e11")


class WorkerLost(RuntimeError):
    """Recorded on a task whose worker stopped answering while it ran."""


@task
def flush_counters() -> int:
    """Write the shared (Redis) buffer of views and shares to the database."""
    from masthead.engagement import counters

    return counters.flush()


@task
def prune_results() -> None:
    """Delete old finished task results (failed ones are kept longer, to be looked at)."""
    call_command(
        "prune_db_task_results",
        queue_name="*",
        min_age_days=int(getattr(settings, "MASTHEAD_TASK_KEEP_DAYS", DEFAULT_KEEP_DAYS)),
        failed_min_age_days=int(getattr(settings, "MASTHEAD_TASK_KEEP_FAILED_DAYS", DEFAULT_KEEP_FAILED_DAYS)),
        verbosity=0,
    )


@task
def clear_sessions() -> None:
    """Delete expired sessions (Django's `clearsessions`)."""
    call_command("clearsessions")


@dataclass(frozen=True)
class Job:
    name: str
    task_path: str
    seconds: float  # default period; MASTHEAD_WORKER_SCHEDULE overrides, 0 turns the job off
    priority: int = 0  # higher runs first when the queue has a backlog

    @property
    def task(self) -> Task:
        return import_string(self.task_path)


JOBS = (
    # Publication time is a promise to the author: ahead of any backlog of 相关推荐 refreshes.
    Job("publish_due", "masthead.articles.scheduler.publish_due_task", 30, priority=50),
    Job("flush_counters", "masthead.ops.worker.flush_counters", 10, priority=20),
    Job("refresh_hot", "masthead.discovery.hot_tasks.refresh_hot", 60, priority=10),
    Job("prune_results", "masthead.ops.worker.prune_results", 3600, priority=-50),
    Job("clear_sessions", "masthead.ops.worker.clear_sessions", 86400, priority=-50),
)


def schedule() -> dict[Job, float]:
    """The periodic jobs this site runs and their periods in seconds."""
    overrides = getattr(settings, "MASTHEAD_WORKER_SCHEDULE", {}) or {}
    unknown = set(overrides) - {job.name for job in JOBS}
    if unknown:
        raise ValueError(f"MASTHEAD_WORKER_SCHEDULE names unknown jobs: {', '.join(sorted(unknown))}")
    periods = {job: float(overrides.get(job.name, job.seconds)) for job in JOBS}
    if getattr(settings, "MASTHEAD_COUNTERS", "memory") == "memory":
        # Each web process buffers in its own memory and flushes it itself; the worker has nothing to flush.
        periods = {job: s for job, s in periods.items() if job.name != "flush_counters"}
    return {job: seconds for job, seconds in periods.items() if seconds > 0}


def max_attempts() -> int:
    return 1 + int(getattr(settings, "MASTHEAD_TASK_RETRIES", DEFAULT_RETRIES))


def backoff(attempt: int) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based): base, 2·base, 4·base, …"""
    base = float(getattr(settings, "MASTHEAD_TASK_RETRY_SECONDS", DEFAULT_RETRY_SECONDS))
    return base * 2 ** (attempt - 1)


def uses_worker() -> bool:
    """Whether tasks go to the database queue (otherwise they run where they are enqueued)."""
    from django_tasks_db.backend import DatabaseBackend  # importable without the app installed

    return isinstance(task_backends[DEFAULT_TASK_BACKEND_ALIAS], DatabaseBackend)


class Scheduler:
    """Enqueues each periodic job once per period, however many schedulers run (see the module doc)."""

    def __init__(self) -> None:
        self.jobs = schedule()
        self._seen: dict[str, int] = {}  # job -> last period this process has dealt with
        self._next_stale_check = 0.0

    def tick(self, now: datetime | None = None) -> list[str]:
        """Enqueue the jobs whose period has started since the last tick; returns their names."""
        now = now or timezone.now()
        if now.timestamp() >= self._next_stale_check:
            self._next_stale_check = now.timestamp() + STALE_CHECK_SECONDS
            recover_stale(now)
        enqueued = []
        for job, seconds in self.jobs.items():
            period = int(now.timestamp() // seconds)
            if self._seen.get(job.name) == period:
                continue
            if enqueue_once(job, f"{job.name}:{seconds:g}:{period}"):
                enqueued.append(job.name)
            self._seen[job.name] = period
        if enqueued:
            log.debug("scheduler enqueued %s", ", ".join(enqueued))
        return enqueued


def enqueue_once(job: Job, key: str) -> bool:
    """Enqueue `job` under the id derived from `key`, unless that id exists or the job is still waiting."""
    from django.tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    job_task = job.task.using(priority=job.priority)
    backend = job_task.get_backend()
    waiting = DBTaskResult.objects.filter(
        status=TaskResultStatus.READY, task_path=job_task.module_path, backend_name=backend.alias
    )
    if waiting.exists():
        return False
    try:
        with transaction.atomic():
            # What DatabaseBackend.enqueue writes, with an id chosen here: the primary key is the lock.
            row = DBTaskResult.objects.create(
                id=uuid.uuid5(NAMESPACE, key),
                args_kwargs={"args": [], "kwargs": {}},
                priority=job_task.priority,
                task_path=job_task.module_path,
                queue_name=job_task.queue_name,
                run_after=None,
                backend_name=backend.alias,
            )
    except IntegrityError:  # another scheduler enqueued this period first
        return False
    task_enqueued.send(type(backend), task_result=row.task_result)
    return True


def recover_stale(now: datetime | None = None) -> int:
    """Put back (or, out of attempts, fail) tasks that have been "running" longer than
    MASTHEAD_TASK_STALE_SECONDS: their worker is gone. Returns how many rows were changed."""
    from django.tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    now = now or timezone.now()
    seconds = float(getattr(settings, "MASTHEAD_TASK_STALE_SECONDS", DEFAULT_STALE_SECONDS))
    stale = DBTaskResult.objects.filter(
        status=TaskResultStatus.RUNNING, started_at__lt=now - timedelta(seconds=seconds)
    )
    changed = 0
    for row in stale.only("id", "task_path", "worker_ids", "started_at"):
        # Conditional on the row being as we read it, so a worker finishing right now wins.
        same = DBTaskResult.objects.filter(pk=row.pk, status=TaskResultStatus.RUNNING, started_at=row.started_at)
        message = f"no result {seconds:g} s after worker {row.worker_ids[-1] if row.worker_ids else '?'} started it"
        error = {"exception_class_path": f"{WorkerLost.__module__}.{WorkerLost.__qualname__}", "traceback": message}
        if len(row.worker_ids) < max_attempts():
            done = same.update(status=TaskResultStatus.READY, run_after=now, **error)
            if done:
                log.warning("task %s id=%s requeued: %s", row.task_path, row.pk, message)
        else:
            done = same.update(status=TaskResultStatus.FAILED, finished_at=now, return_value=None, **error)
            if done:
                log.error(
                    "task %s id=%s failed after %d attempts: %s", row.task_path, row.pk, len(row.worker_ids), message
                )
        changed += done
    return changed


def _retry_or_fail(row: Any, exc: BaseException) -> None:
    """Replaces DBTaskResult.set_failed for one run: back in the queue while attempts remain."""
    from django.tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult
    from django_tasks_db.utils import retry

    attempts, limit = len(row.worker_ids), max_attempts()
    if attempts >= limit or isinstance(exc, KeyboardInterrupt):
        DBTaskResult.set_failed(row, exc)
        log.error("task %s id=%s failed after %d attempts", row.task_path, row.pk, attempts, exc_info=exc)
        return
    delay = backoff(attempts)
    row.status = TaskResultStatus.READY
    row.run_after = timezone.now() + timedelta(seconds=delay)
    # The last attempt's error stays on the row while it waits, for whoever looks at the queue.
    row.exception_class_path = f"{type(exc).__module__}.{type(exc).__qualname__}"
    row.traceback = "".join(format_exception(exc))
    retry()(row.save)(update_fields=["status", "run_after", "exception_class_path", "traceback"])
    log.warning(
        "task %s id=%s failed (attempt %d of %d), retrying in %g s: %s: %s",
        row.task_path,
        row.pk,
        attempts,
        limit,
        delay,
        type(exc).__name__,
        exc,
    )


@cache
def worker_class() -> type:
    """django-tasks-db's Worker with our retry policy (built on first use: its module needs the app)."""
    from django_tasks_db.management.commands.db_worker import Worker

    class RetryingWorker(Worker):
        def run_task(self, db_task_result: Any) -> None:
            # The library's run_task calls set_failed on any exception; on this row it retries instead.
            db_task_result.set_failed = partial(_retry_or_fail, db_task_result)
            super().run_task(db_task_result)

    return RetryingWorker


def default_worker_id() -> str:
    return f"{socket.gethostname()[:40]}-{uuid.uuid4().hex[:8]}"


class WorkerProcess:
    """The loop of `masthead worker`: a scheduler tick, then the ready tasks, then a short sleep."""

    def __init__(
        self,
        *,
        interval: float = 1.0,
        queue_names: list[str] | None = None,
        worker_id: str | None = None,
        scheduler: bool = True,
    ) -> None:
        self.interval = interval
        self.queue_names = queue_names or ["*"]
        self.worker_id = worker_id or default_worker_id()
        self.scheduler = Scheduler() if scheduler else None
        self.stopping = threading.Event()
        self._worker: Any = None

    def stop(self, signum: int | None = None, frame: Any = None) -> None:
        """First call: finish the running task, then exit. Second call: interrupt it (it is requeued)."""
        if self.stopping.is_set():
            log.warning("stopping now; the interrupted task goes back to the queue")
            raise SystemExit(1)
        log.info("worker %s stopping after the current task", self.worker_id)
        self.stopping.set()
        if self._worker is not None:
            self._worker.running = False

    def _drain(self, max_tasks: int | None) -> None:
        self._worker = worker_class()(
            queue_names=self.queue_names,
            interval=self.interval,
            batch=True,  # returns when nothing is ready
            backend_name=DEFAULT_TASK_BACKEND_ALIAS,
            startup_delay=False,
            max_tasks=max_tasks,
            worker_id=self.worker_id,
            excluded_queue_names=[],
        )
        if self.stopping.is_set():  # a signal that came before the worker existed
            return
        self._worker.run()

    def _tick(self) -> None:
        if self.scheduler is None:
            return
        try:
            self.scheduler.tick()
        except Exception:  # a database blip must not stop the worker; the next tick catches up
            log.exception("scheduler tick failed")

    def run(self, *, once: bool = False) -> None:
        """Run until stopped; with `once`, enqueue what is due, run every ready task, and return."""
        handlers = self._install_signals()
        log.info(
            "worker %s started (queues %s, scheduler %s)",
            self.worker_id,
            ",".join(self.queue_names),
            "on" if self.scheduler else "off",
        )
        try:
            while not self.stopping.is_set():
                if not connection.in_atomic_block:  # inside a test's transaction closing would lose it
                    close_old_connections()
                self._tick()
                if once:
                    self._drain(None)
                    break
                try:
                    self._drain(BATCH_TASKS)
                except Exception:  # the database went away: wait and try again rather than exit
                    log.exception("worker loop failed; trying again in %g s", ERROR_PAUSE_SECONDS)
                    self.stopping.wait(ERROR_PAUSE_SECONDS)
                self.stopping.wait(self.interval)
        finally:
            self._restore_signals(handlers)
            log.info("worker %s stopped", self.worker_id)

    def _install_signals(self) -> dict:
        if threading.current_thread() is not threading.main_thread():
            return {}
        wanted = [signal.SIGTERM, signal.SIGINT] + ([signal.SIGQUIT] if hasattr(signal, "SIGQUIT") else [])
        return {sig: signal.signal(sig, self.stop) for sig in wanted}

    @staticmethod
    def _restore_signals(handlers: dict) -> None:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)


def failed_tasks(limit: int = 20) -> list[Any]:
    """The most recent tasks that ran out of attempts."""
    from django.tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    return list(DBTaskResult.objects.filter(status=TaskResultStatus.FAILED).order_by("-finished_at")[:limit])
