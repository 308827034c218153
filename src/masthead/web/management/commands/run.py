"""`masthead run`: prepare the data directory and serve the site with gunicorn (production settings)."""

import os
import shutil
import sys

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

# The master loads Django, the views and the large read-only tables once; workers share them (ops/preload.py).
PRELOADED_APP = "masthead.ops.preload:application"


def gunicorn_argv(gunicorn: str, host: str, port: str | int, workers: str | int, *, preload: bool = True) -> list[str]:
    """The gunicorn command line `masthead run` serves with (tests and benchmarks start the same)."""
    argv = [gunicorn, PRELOADED_APP, "--bind", f"{host}:{port}", "--workers", str(workers)]
    if preload:
        argv.append("--preload")
    return [*argv, "--access-logfile", "-", "--forwarded-allow-ips", "127.0.0.1"]


def find_gunicorn() -> str:
    gunicorn = shutil.which("gunicorn", path=os.path.dirname(sys.executable)) or shutil.which("gunicorn")
    if gunicorn is None:
        raise CommandError("gunicorn is not installed in this environment")
    return gunicorn


class Command(BaseCommand):
    help = "Migrate, load the demo into an empty database, collect static files, and serve with gunicorn."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", default=os.environ.get("PORT", "8000"))
        parser.add_argument("--workers", default=os.environ.get("WORKERS", "2"))
        parser.add_argument("--no-demo", action="store_true", help="do not load the demo into an empty database")
        parser.add_argument("--prepare-only", action="store_true", help="prepare the data directory and exit")
        parser.add_argument(
            "--no-preload", action="store_true", help="let each worker load the application itself (more memory)"
        )

    def handle(self, *args, host, port, workers, no_demo, prepare_only, no_preload, **options):
        from masthead.articles.models import Article

        call_command("migrate", interactive=False, verbosity=0)
        if not no_demo and not Article.objects.exists():
            self.stdout.write("Empty database: loading the demo content (about half a minute)…")
            call_command("demo", stdout=self.stdout)
        call_command("collectstatic", interactive=False, verbosity=0)
        if prepare_only:
            return
        gunicorn = find_gunicorn()
        self.stdout.write(self.style.SUCCESS(f"Masthead at http://{host}:{port}/"))
        sys.stdout.flush()
        # This process's database connection must not outlive the exec (gunicorn's workers open their own).
        from django.db import connections

        connections.close_all()
        os.execv(gunicorn, gunicorn_argv(gunicorn, host, port, workers, preload=not no_preload))
