import logging

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone


class Command(BaseCommand):
    help = (
        "Run background tasks from the database queue (MASTHEAD_TASKS=database) and enqueue the periodic "
        "jobs: scheduled publishing, the hot list, counter flushes, clean-ups. Stops cleanly on SIGTERM."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="enqueue what is due, run every ready task, exit")
        parser.add_argument("--interval", type=float, default=1.0, help="seconds to wait when the queue is empty")
        parser.add_argument("--queue-name", default="*", help="queues to run, comma-separated ('*': all)")
        parser.add_argument("--worker-id", default=None, help="unique name of this worker (default: host-random)")
        parser.add_argument("--no-scheduler", action="store_true", help="run tasks only; enqueue no periodic jobs")
        parser.add_argument("--failed", action="store_true", help="list the most recent failed tasks and exit")

    def handle(
        self,
        *args,
        once: bool,
        interval: float,
        queue_name: str,
        worker_id: str | None,
        no_scheduler: bool,
        failed: bool,
        verbosity: int,
        **options,
    ) -> None:
        from masthead.ops import worker

        if not worker.uses_worker():
            raise CommandError(
                "Tasks run inside requests (MASTHEAD_TASKS=immediate), so there is nothing for a worker to do. "
                "Set MASTHEAD_TASKS=database (and run `masthead migrate`) to use one."
            )
        if failed:
            self._list_failed(worker.failed_tasks())
            return
        if interval < 0:
            raise CommandError("--interval must be zero or more")
        # django-tasks-db logs each batch it starts; one line per task is plenty, and only if asked.
        logging.getLogger("django_tasks_db").setLevel(logging.INFO if verbosity > 1 else logging.WARNING)
        logging.getLogger("django.tasks").setLevel(logging.INFO if verbosity > 1 else logging.WARNING)
        worker.WorkerProcess(
            interval=interval,
            queue_names=queue_name.split(","),
            worker_id=worker_id,
            scheduler=not no_scheduler,
        ).run(once=once)

    def _list_failed(self, rows: list) -> None:
        if not rows:
            self.stdout.write("No failed tasks.")
            return
        for row in rows:
            finished = timezone.localtime(row.finished_at).strftime("%Y-%m-%d %H:%M:%S") if row.finished_at else "-"
            last_line = (row.traceback.strip().splitlines() or ["-"])[-1]
            self.stdout.write(f"{finished}  {row.task_path}  id={row.pk}  attempts={len(row.worker_ids)}")
            self.stdout.write(f"    {last_line}")
