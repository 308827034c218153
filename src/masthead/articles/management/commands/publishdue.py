import logging
import time
from argparse import SUPPRESS

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections, connection

from masthead.articles.scheduler import publish_due

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Publish scheduled articles whose time has come (with --loop SECONDS, keep doing it: a simple worker)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--loop", type=float, metavar="SECONDS", help="run again every SECONDS until stopped")
        parser.add_argument("--runs", type=int, default=0, help=SUPPRESS)  # stop a loop after N runs (tests)

    def handle(self, *args, loop: float | None = None, runs: int = 0, **options) -> None:
        done = 0
        while True:
            done += 1
            if not loop:
                self._report(publish_due(), always=True)
                return
            if not connection.in_atomic_block:  # (inside one, e.g. a test's, closing would lose its work)
                close_old_connections()  # a long-lived worker must not keep a connection the server dropped
            try:
                self._report(publish_due(), always=False)
            except Exception:  # a database blip must not stop the worker; the next run catches up
                log.exception("publishdue run failed")
            if runs and done >= runs:
                return
            try:
                time.sleep(loop)
            except KeyboardInterrupt:
                return

    def _report(self, published: list[int], *, always: bool) -> None:
        if published or always:
            ids = ": " + ", ".join(map(str, published)) if published else "."
            self.stdout.write(self.style.SUCCESS(f"{len(published)} scheduled articles published{ids}"))
