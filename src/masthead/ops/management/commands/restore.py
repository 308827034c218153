from django.core.management.base import BaseCommand, CommandError

from masthead.ops.backup import BackupError, restore_backup


class Command(BaseCommand):
    help = "Replace the database and uploaded files with those of a backup archive (made by `masthead backup`)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", help="the archive to restore")
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    def handle(self, *args, path: str, yes: bool = False, **options) -> None:
        if not yes and input(f"Replace ALL current data with {path}? Type 'yes': ").strip() != "yes":
            raise CommandError("Restore cancelled.")
        try:
            manifest = restore_backup(path)
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Restored the backup made at {manifest['created_at']}. Run `masthead migrate` if this "
                          "release is newer than the backup.")  # fmt: skip
        for name, where in manifest["skipped"].items():
            self.stdout.write(f"Left as they are: the {name} files, which are in object storage ({where}); "
                              "restore them there (from the bucket's versions) if needed.")  # fmt: skip
