from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from masthead.ops.backup import BackupError, create_backup


class Command(BaseCommand):
    help = "Back up the database and uploaded files into one .tar.gz archive."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "path", nargs="?", help="archive to write (default: DATA_DIR/backups/masthead-<time>.tar.gz)"
        )

    def handle(self, *args, path: str | None = None, **options) -> None:
        if path is None:
            path = Path(settings.DATA_DIR) / "backups" / f"masthead-{datetime.now():%Y%m%d-%H%M%S}.tar.gz"
        try:
            summary = create_backup(path)
        except BackupError as error:
            raise CommandError(str(error)) from error
        size = summary.bytes / 1024 / 1024
        self.stdout.write(f"Backed up the {summary.engine} database and {summary.files} files to {summary.path} "
                          f"({size:.1f} MB).")  # fmt: skip
        for name, where in summary.remote.items():
            self.stdout.write(f"Not in the archive: the {name} files, which are in object storage ({where}); "
                              "back them up there (bucket versioning or replication).")  # fmt: skip
